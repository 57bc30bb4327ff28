"""Grading workers: nbgrader processes that live for a whole run and autograde one student after another.

Starting nbgrader for each student costs seconds (Python, nbgrader, its configuration), and each
student's kernel spends seconds more importing PyTorch and the course library before the first cell.
A worker pays the first once per run. It hides the second when kernels are sealed: while one
student's notebook runs, the worker starts the next student's kernel and imports those libraries in
it (:data:`WARM_UP`, trusted code only), so the kernel is ready when the next student arrives. Each
kernel still serves exactly one student and is shut down after it; a kernel that dies mid-notebook
is replaced by a cold one (see :class:`~helpers.instructor.execute.RobustExecute`).

Two sides in one module:

- :class:`Worker`, in the grading command: starts ``python -m helpers.instructor.worker``, sends it
  one job per line on its standard input, and reads each answer from a pipe of its own. Neither is
  open in any kernel (a kernel gets a fresh standard input and only the three standard descriptors,
  and its output goes to the worker's log file), so student code can neither read a classmate's job
  nor forge an answer. A notebook over its time limit costs the worker: it is killed with its
  kernels, and the next student gets a new worker.
- :func:`main`, in the worker: nbgrader's ``autograde`` in-process, for each job's course folder.
"""
import asyncio
import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .nbgrader_io import nbgrader_env, run_nbgrader
from .sandbox import SandboxedKernelManager
from .settings import Settings, autograde_config

#: Run in every warm kernel before it is handed to a student: what the labs import first.
WARM_UP = ("import matplotlib.pyplot, numpy, PIL.Image, torch, torchvision, torchinfo, tqdm.auto\n"
           "import helpers, helpers.checks, helpers.data, helpers.evaluation, helpers.models, helpers.plots, "
           "helpers.training\n")
#: The kernel arguments nbclient would pass (an in-memory IPython history).
KERNEL_ARGUMENTS = ["--HistoryManager.hist_file=:memory:"]
LOG_NAME = "nbgrader.log"


@dataclass
class Job:
    """Autograde ``student``'s submission of ``lab`` in the nbgrader course folder ``root``."""

    root: str
    lab: str
    student: str
    last: bool = False  # no other student follows: no kernel is warmed after this one


class WorkerFailed(Exception):
    """The worker could not grade a job; the message (Spanish) says why."""


# --------------------------------------------------------------------------- grading command's side

def _die_with_grader() -> None:
    """In the child: be killed if the thread that started it goes (``course grade`` killed, say);
    a sealed kernel dies with its worker in turn, so nothing is left running."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Worker:
    """One grading worker process, started now and again whenever it is lost.

    ``settings`` say how it autogrades and how its kernels run: sealed (each limits itself to ``memory_gb``
    and reads the stand-in data; one starts warming at once), or not (the worker and its kernels are limited
    to ``memory_gb`` together). ``log`` is the file that collects the output of the worker and its kernels.
    """

    def __init__(self, log: Path, settings: Settings):
        self.log_path = Path(log)
        self.settings = settings
        self.proc = None
        self.answers = None
        self.last = True  # whether the next job is this worker's last (set by WorkerPool.lend)
        self._start()

    def _start(self) -> None:
        read, write = os.pipe()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "helpers.instructor.worker", str(write),
                                          json.dumps(asdict(self.settings), default=str)],
                                         stdin=subprocess.PIPE, stdout=log, stderr=subprocess.STDOUT,
                                         pass_fds=(write,), env=nbgrader_env(), start_new_session=True,
                                         preexec_fn=_die_with_grader, text=True)
        os.close(write)
        self.answers = os.fdopen(read)
        if not self.settings.sandboxed:
            limit = int(self.settings.memory_gb * 2**30)
            try:
                import resource

                resource.prlimit(self.proc.pid, resource.RLIMIT_AS, (limit, limit))
            except (OSError, ValueError, AttributeError):
                pass

    def autograde(self, job: Job, timeout: float) -> None:
        """Autograde ``job``; raise :class:`WorkerFailed` if it was not graded within ``timeout`` seconds."""
        if self.proc is None or self.proc.poll() is not None:
            self.stop()
            self._start()
        try:
            self.proc.stdin.write(json.dumps(asdict(replace(job, last=self.last))) + "\n")
            self.proc.stdin.flush()
        except OSError:
            pass  # a worker that died says so below
        if not select.select([self.answers], [], [], timeout)[0]:
            self.stop()
            raise WorkerFailed(f"el cuaderno superó el tiempo máximo total ({timeout:g} s) y se detuvo; "
                               "no se registra ninguna nota")
        line = self.answers.readline()
        if not line:  # the worker is gone (killed, out of memory...)
            code = self.proc.wait()
            self.stop()
            raise WorkerFailed(f"nbgrader no pudo calificarlo (código {code}); últimas líneas:\n"
                               + _tail(Path(job.root) / LOG_NAME))
        if json.loads(line)["error"]:
            raise WorkerFailed(f"nbgrader no pudo calificarlo; últimas líneas:\n{_tail(Path(job.root) / LOG_NAME)}")

    def stop(self) -> None:
        """Kill the worker (and, with it, its kernels) now."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
            self.proc.wait()
            self.proc.stdin.close()
        if self.answers is not None:
            self.answers.close()
        self.proc = self.answers = None

    def close(self) -> None:
        """Let the worker finish (it shuts its warm kernel down), then make sure it is gone."""
        if self.proc is not None:
            try:
                self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self.stop()


class WorkerPool:
    """``size`` workers started at once (they get ready while the caller prepares the run), each lent
    to one student at a time, and closed together (``with WorkerPool(...) as pool``).

    ``settings`` are as for :class:`Worker`; ``logs`` is the folder of the workers' logs.
    """

    def __init__(self, size: int, logs: Path, settings: Settings):
        self.workers = [Worker(Path(logs) / f"trabajador-{n}.log", settings) for n in range(size)]
        self.free = queue.SimpleQueue()
        for worker in self.workers:
            self.free.put(worker)
        self.waiting = 1  # students still to be lent a worker (see expect)
        self.lock = threading.Lock()

    def expect(self, students: int) -> None:
        """Say how many students will be graded, so no kernel is warmed for a student who never comes."""
        self.waiting = students

    @contextmanager
    def lend(self):
        worker = self.free.get()
        with self.lock:
            self.waiting -= 1
            worker.last = self.waiting <= 0
        try:
            yield worker
        finally:
            self.free.put(worker)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        for worker in self.workers:
            worker.close()


def _tail(path: Path, lines: int = 8) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(sin registro)"


# --------------------------------------------------------------------------- the worker's side

class WarmKernels:
    """Sealed kernels started one student ahead, with :data:`WARM_UP` already run.

    Each is warmed as a task of the worker's event loop, which runs while a student's cells run and
    while the worker waits for its next job. ``take()`` returns a ready kernel manager (or None if
    warming failed: a cold kernel is used instead) and starts warming the next one.
    """

    def __init__(self, settings: Settings, loop):
        self.settings = settings
        self.loop = loop
        self.more = True  # whether another student may follow the one who takes the next kernel
        km = loop.run_until_complete(self._launch())  # the first one boots while the worker starts
        self.next = loop.create_task(self._ready(km))

    def __deepcopy__(self, memo):
        # traitlets copies each configured value (``RobustExecute.warm_kernels``): the kernels are one pool
        return self

    async def _launch(self):
        """A sealed kernel, started (not yet ready); None if it would not start."""
        km = SandboxedKernelManager(kernel_name="python3", data_dir=str(self.settings.data),
                                    memory_gb=self.settings.memory_gb)
        try:
            await km.start_kernel(extra_arguments=KERNEL_ARGUMENTS)
            return km
        except BaseException as e:  # cancelled at the end of a run, or a kernel that would not start
            await self._shut(km)
            if not isinstance(e, Exception):
                raise
            print(f"No se pudo arrancar un núcleo por adelantado ({type(e).__name__}: {e}).", flush=True)
            return None

    async def _ready(self, km):
        """``km`` once it answers and has run :data:`WARM_UP`; None if it failed (it is shut down)."""
        if km is None:
            return None
        try:
            kc = km.client()
            kc.start_channels()
            try:
                await kc.wait_for_ready(timeout=120)
                reply = await kc.execute(WARM_UP, silent=True, store_history=False, reply=True, timeout=300)
            finally:
                kc.stop_channels()
            if reply["content"]["status"] != "ok":
                raise RuntimeError(reply["content"].get("evalue"))
            return km
        except BaseException as e:  # cancelled at the end of a run, or a kernel that would not start
            await self._shut(km)
            if not isinstance(e, Exception):
                raise
            print(f"No se pudo preparar un núcleo por adelantado ({type(e).__name__}: {e}); se usa uno nuevo.",
                  flush=True)
            return None

    async def _warm(self):
        return await self._ready(await self._launch())

    @staticmethod
    async def _shut(km) -> None:
        try:
            if km.has_kernel:
                await km.shutdown_kernel(now=True)
        finally:
            await km.cleanup_resources()

    def take(self):
        km = self.loop.run_until_complete(self.next) if self.next else None
        self.next = self.loop.create_task(self._warm()) if self.more else None
        return km

    def close(self) -> None:
        """Stop warming, and shut down the kernel that nobody took."""
        if self.next is None:
            return
        self.next.cancel()
        try:
            km = self.loop.run_until_complete(self.next)
        except BaseException:
            return
        if km is not None:
            self.loop.run_until_complete(self._shut(km))


def grade_job(job: Job, settings: Settings, warm=None) -> None:
    """Autograde one job in this process as ``settings`` say (:func:`~helpers.instructor.settings.autograde_config`),
    its first run in a kernel from ``warm`` (:class:`WarmKernels`) when given; raise if nbgrader failed (its
    log is in ``root/nbgrader.log``)."""
    from nbgrader.converters import Autograde

    root = Path(job.root)
    os.chdir(root)
    config = autograde_config(settings, root)
    config.RobustExecute.warm_kernels = warm
    result = run_nbgrader(Autograde, root, job.lab, job.student, config)
    (root / LOG_NAME).write_text(result.get("log", "") + result.get("error", ""))
    if not result["success"]:
        raise RuntimeError("nbgrader autograde falló")


async def _stdin_reader(loop) -> asyncio.StreamReader:
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


def main() -> None:
    """Read jobs (JSON lines) on standard input; answer each on the descriptor given as first argument.

    The second argument is the run's :class:`Settings` (JSON); a sealed kernel starts warming first of all.
    """
    from jupyter_core.utils import ensure_event_loop

    answers = os.fdopen(int(sys.argv[1]), "w")
    settings = Settings(**json.loads(sys.argv[2]))
    loop = ensure_event_loop()  # nbclient runs on this loop too: warming goes on while cells run
    warm = WarmKernels(settings, loop) if settings.sandboxed else None
    import nbgrader.converters  # noqa: F401  (what every job needs, imported while the kernel boots)

    from . import execute, tamper  # noqa: F401
    jobs = loop.run_until_complete(_stdin_reader(loop))
    try:
        while line := loop.run_until_complete(jobs.readline()):
            job = Job(**json.loads(line))
            if warm is not None:
                warm.more = not job.last
            error = None
            try:
                grade_job(job, settings, warm)
            except Exception as e:
                error = f"{type(e).__name__}: {e}"
                with open(Path(job.root) / LOG_NAME, "a") as log:
                    log.write(f"\n{error}\n")
            answers.write(json.dumps({"student": job.student, "error": error}) + "\n")
            answers.flush()
    finally:
        if warm is not None:
            warm.close()
    # Every kernel is shut down and every answer sent: skip the interpreter's teardown, which waits
    # over a second on jupyter_client's leftovers.
    answers.close()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()

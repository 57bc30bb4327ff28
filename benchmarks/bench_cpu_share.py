"""What a neighbour's busy loops cost a classmate's cell, with and without the per-kernel cgroups.

    sudo .venv/bin/python benchmarks/bench_cpu_share.py [--busy N] [--rounds R]

Two sealed kernels, as two students graded at once (``--jobs 2``): the neighbour starts ``--busy``
(default 4) processes that spin forever; the classmate then runs a fixed single-threaded loop. Its time
is measured alone, next to the neighbour with each kernel in its own cgroup (one core each), and next to
the neighbour with per-process limits only (as without root or cgroups). The three alternate ``--rounds``
times (default 3) so a change in the machine's load falls on all; medians are printed, nothing asserted.
Needs root and writable cgroups for the middle column.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402
from nbclient import NotebookClient  # noqa: E402

from helpers.instructor import sandbox  # noqa: E402

WORK = "import time\nt = time.perf_counter()\nn = 0\nfor i in range(30_000_000):\n    n += i\nprint(time.perf_counter() - t)"
# each loop in a session of its own: Linux's autogroup scheduling would otherwise share one session's
# worth of CPU among them all, and a student who wants the cores can do this
SPIN = ("import subprocess, sys\nbusy = [subprocess.Popen([sys.executable, '-c', 'while True: pass'], "
        "start_new_session=True) for _ in range({n})]")


def _client(data: Path, source: str) -> NotebookClient:
    km = sandbox.SandboxedKernelManager(kernel_name="python3", data_dir=str(data), memory_gb=2)
    return NotebookClient(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)]), km=km, timeout=600)


def classmate_seconds(data: Path, busy: int, shares: bool | None) -> float:
    """The classmate's loop time (measured inside its kernel): alone (``shares`` None) or next to a busy neighbour."""
    real = sandbox.resource_group
    if shares is False:
        sandbox.resource_group = lambda limits: None  # as on a machine without writable cgroups
    try:
        classmate = _client(data, WORK)
        if shares is None:
            classmate.execute(cleanup_kc=True)
        else:
            neighbour = _client(data, SPIN.format(n=busy))
            with neighbour.setup_kernel(cleanup_kc=True):
                neighbour.execute_cell(neighbour.nb.cells[0], 0)
                time.sleep(1)  # the loops are running
                classmate.execute(cleanup_kc=True)
    finally:
        sandbox.resource_group = real
    return float(classmate.nb.cells[0].outputs[0]["text"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--busy", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    sandbox.require()
    group = sandbox.resource_group(sandbox.Limits())
    if group is None:
        sys.exit("Sin cgroups escribibles (hace falta root): no hay nada que comparar.")
    group.remove()
    modes = {None: "sola", True: "con vecino, cgroups", False: "con vecino, sin cgroups"}
    times = {mode: [] for mode in modes}
    with tempfile.TemporaryDirectory() as data:
        for r in range(args.rounds):
            for mode in modes:
                times[mode].append(classmate_seconds(Path(data), args.busy, mode))
                print(f"ronda {r + 1}, {modes[mode]}: {times[mode][-1]:.2f} s", flush=True)
    alone = statistics.median(times[None])
    print(f"\nLa celda de la compañera (mediana de {args.rounds}), vecino con {args.busy} procesos en bucle:")
    for mode, label in modes.items():
        median = statistics.median(times[mode])
        print(f"  {label:25s} {median:6.2f} s  ({median / alone:.2f}× sola)")


if __name__ == "__main__":
    main()

"""How much CPU work a command does, and so the shortest time it could take on this machine's cores.

    python benchmarks/bench_suite_cpu.py [COMMAND ...]

Runs COMMAND (by default ``make test``, the whole test suite) and samples, every half
second, the machine's ``/proc/stat`` (busy and idle time of all cores) and the kernels alive (every
``python -m ipykernel_launcher`` process, sealed or not, counted once by process id and start time).
It prints the wall time, the CPU-seconds the machine worked, how busy its cores were, the floor that
work sets (CPU-seconds divided by the cores: no ordering of the same work on these cores ends sooner)
and how many Jupyter kernels were started. Linux only; run it on an otherwise quiet machine, since
``/proc/stat`` counts everything the machine does.
"""
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ["make", "test"]


def cpu_times() -> tuple[float, float]:
    """(busy, idle) seconds of all cores together since boot."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:8]]
    tick = os.sysconf("SC_CLK_TCK")
    idle = fields[3] + fields[4]  # idle + iowait
    return (sum(fields) - idle) / tick, idle / tick


def kernels_alive() -> set[tuple[int, str]]:
    """(pid, start time) of each Jupyter kernel's Python process alive now."""
    found = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            argv = Path(entry.path, "cmdline").read_bytes().split(b"\0")
            start = Path(entry.path, "stat").read_text().rsplit(")", 1)[1].split()[19]
        except OSError:
            continue
        if argv[1:3] == [b"-m", b"ipykernel_launcher"]:  # not bubblewrap's wrappers, nor a pgrep
            found.add((int(entry.name), start))
    return found


def main() -> None:
    command = sys.argv[1:] or DEFAULT
    seen, done = set(), threading.Event()

    def watch():
        while not done.wait(0.5):
            seen.update(kernels_alive())

    watcher = threading.Thread(target=watch, daemon=True)
    busy0, idle0 = cpu_times()
    start = time.perf_counter()
    watcher.start()
    code = subprocess.call(command, cwd=ROOT)
    done.set()
    watcher.join()
    wall = time.perf_counter() - start
    busy1, idle1 = cpu_times()
    busy, cores = busy1 - busy0, os.cpu_count()
    print(f"\norden: {' '.join(command)} (código {code})")
    print(f"tiempo real: {wall:.0f} s")
    print(f"trabajo de CPU: {busy:.0f} s en {cores} núcleos, ocupados al {100 * busy / (busy + idle1 - idle0):.0f} %")
    print(f"suelo con ese trabajo: {busy / cores:.0f} s (trabajo de CPU ÷ núcleos)")
    print(f"núcleos de Jupyter arrancados: {len(seen)}")
    sys.exit(code)


if __name__ == "__main__":
    main()

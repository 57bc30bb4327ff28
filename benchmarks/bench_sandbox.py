"""What sealing every kernel costs: one more student graded sealed vs unsandboxed, side by side.

    python benchmarks/bench_sandbox.py [LAB] [--rounds N]

Both work folders are prepared first (template, stand-ins), so each timing is one more student:
the lab's perfect submission, graded with ``--jobs 1``. The two modes alternate ``--rounds`` times
(default 3) so that a change in the machine's load falls on both; the medians and their ratio are
printed.
"""
import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.instructor import build, grading, nbgrader_io  # noqa: E402


def one_more_student(lab: str, workdir: Path, submissions: Path, n: int, sandboxed: bool) -> float:
    folder = submissions / f"{'aislado' if sandboxed else 'sin'}{n}"
    nbgrader_io.write_notebook(build.demo_submissions(lab)["perfecto"], folder / f"alumno{n}.ipynb")
    start = time.perf_counter()
    grades = grading.grade(lab, folder, workdir, jobs=1, sandboxed=sandboxed, log=lambda *_: None)
    seconds = time.perf_counter() - start
    grade = next(g for g in grades if g.student == f"alumno{n}")
    assert grade.score == grade.max_score, "la entrega perfecta debe tener todos los puntos"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lab", nargs="?", default="lab1_convolutions")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times = {True: [], False: []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for sandboxed in (True, False):  # warm-up: template, stand-ins (not timed)
            one_more_student(args.lab, tmp / f"curso{sandboxed}", tmp / "entregas", 0, sandboxed)
        for n in range(1, args.rounds + 1):
            for sandboxed in (True, False):
                times[sandboxed].append(one_more_student(args.lab, tmp / f"curso{sandboxed}", tmp / "entregas",
                                                         n, sandboxed))
                print(f"ronda {n}: {'aislado' if sandboxed else 'sin aislar'} {times[sandboxed][-1]:.1f} s", flush=True)
    sealed, plain = statistics.median(times[True]), statistics.median(times[False])
    print(f"\n{args.lab}, un estudiante más (mediana de {args.rounds}): aislado {sealed:.1f} s, "
          f"sin aislar {plain:.1f} s, cociente {sealed / plain:.2f}×")


if __name__ == "__main__":
    main()

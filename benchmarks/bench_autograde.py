"""Seconds to autograde one submission of every lab, one after the other, on this machine.

    python benchmarks/bench_autograde.py [LAB ...]

Each lab's perfect submission (the release with the key's answers) is graded alone with
``--jobs 1`` in a fresh work folder, so the time is nbgrader plus the notebook itself in the smoke
profile.
"""
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.instructor import build, grading  # noqa: E402
from helpers.course import existing_labs  # noqa: E402


def main(labs: list[str]) -> None:
    rows = []
    for lab in labs or existing_labs():
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            build.write_notebook(build.demo_submissions(lab)["perfecto"], tmp / "entregas" / "perfecto.ipynb")
            start = time.perf_counter()
            (grade,) = grading.grade(lab, tmp / "entregas", tmp / "curso", jobs=1, log=lambda *_: None)
            seconds = time.perf_counter() - start
        rows.append((lab, seconds, grade.score, grade.max_score))
        print(f"{lab:24s} {seconds:6.1f} s por entrega ({grade.score:g}/{grade.max_score:g} puntos)", flush=True)
    worst = max(rows, key=lambda r: r[1])
    print(f"\nMáximo: {worst[1]:.1f} s ({worst[0]}); objetivo ≤ 60 s por entrega.")


if __name__ == "__main__":
    main(sys.argv[1:])

"""Time ``course grade`` on a generated class, serial (--jobs 1) against parallel (--jobs N), side by side.

    python benchmarks/bench_grading.py [LAB] [--students 30] [--jobs 2]

Generates perfect, half-done and blank submissions (``build.student_version``), grades them twice in
fresh work folders, prints seconds per submission and the speed-up, and checks that both gradebooks
and CSVs are identical.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from helpers.instructor import build, grading, nbgrader_io  # noqa: E402
from helpers.instructor.gradebook import gradebook_dump  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description="Compara calificar en serie y en paralelo.")
    parser.add_argument("lab", nargs="?", default="lab1_convolutions")
    parser.add_argument("--students", type=int, default=30)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    kinds = build.demo_submissions(args.lab)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for n in range(args.students):
            kind = list(kinds)[n % 3]
            nbgrader_io.write_notebook(kinds[kind], tmp / "entregas" / f"est{n:02d}_{kind}.ipynb")
        times = {}
        for jobs in (1, args.jobs):
            start = time.perf_counter()
            result = grading.grade_class(args.lab, tmp / "entregas", tmp / f"jobs{jobs}", jobs=jobs, log=print)
            times[jobs] = time.perf_counter() - start
            print(f"--jobs {jobs}: {times[jobs]:.0f} s en total, {times[jobs] / args.students:.1f} s por entrega "
                  f"({result.graded_now} calificadas)", flush=True)
        same_book = gradebook_dump(args.lab, tmp / "jobs1") == gradebook_dump(args.lab, tmp / f"jobs{args.jobs}")
        same_csv = (tmp / "jobs1" / f"notas_{args.lab}.csv").read_text() == \
            (tmp / f"jobs{args.jobs}" / f"notas_{args.lab}.csv").read_text()
        print(f"{args.lab}, {args.students} entregas: en serie {times[1] / args.students:.1f} s por entrega, "
              f"con --jobs {args.jobs} {times[args.jobs] / args.students:.1f} s por entrega "
              f"(aceleración ×{times[1] / times[args.jobs]:.2f}); libro de notas idéntico: {same_book}; "
              f"CSV idéntico: {same_csv}")
        assert same_book and same_csv, "la calificación en paralelo no coincide con la de serie"


if __name__ == "__main__":
    main()

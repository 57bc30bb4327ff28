"""What grading one student costs, against running the notebook itself, per lab, side by side.

    python benchmarks/bench_autograde.py [LAB ...] [--no-sandbox]

For each lab, with its perfect submission (the release with the key's answers) and the smoke profile:

- **cuaderno solo**: the notebook as it is graded (the key's answers and every test, hidden ones
  included) executed with nbclient in a fresh kernel (kernel start, imports, every cell), without
  nbgrader, the sandbox or the grading command;
- **primer estudiante**: ``course grade`` of one perfect notebook in a fresh work folder (template,
  nbgrader, sandbox, feedback, gradebook; the stand-in data are prepared beforehand, once per machine,
  and so is the reference the tests are judged against, once per lab version: an untimed run first);
- **uno más**: what one more student adds to a run of ``course grade --jobs 1`` in that folder: a
  run of three new students minus a run of one, halved (the template is reused; the run's grading
  worker and its kernels started ahead are shared by the students of a run, see
  ``helpers.instructor.worker``).

It prints the three times and the ratios to the notebook alone. Issue 17's goals: one more student at
most 1.15x, the first at most 1.5x. (Times depend on the machine's load: compare within one run.)
"""
import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbclient  # noqa: E402

from helpers.course import existing_labs, lab_notebook  # noqa: E402
from helpers.instructor import build, grading, nbgrader_io, sandbox  # noqa: E402


def notebook_alone(lab: str, tmp: Path) -> float:
    """Seconds to execute ``lab`` as graded (answers and all tests) in a fresh kernel, smoke profile."""
    folder = tmp / "solo"
    shutil.copytree(lab_notebook("release", lab).parent, folder)
    nb = nbgrader_io.read_notebook(lab_notebook("source", lab))
    os.environ["COURSE_PROFILE"] = "smoke"
    os.environ["PYTHONPATH"] = nbgrader_io.nbgrader_env()["PYTHONPATH"]
    start = time.perf_counter()
    nbclient.NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(folder)}},
                            allow_errors=False).execute()
    return time.perf_counter() - start


def graded(lab: str, students: list[str], tmp: Path, sandboxed: bool) -> float:
    """Seconds one ``course grade --jobs 1`` run takes to grade ``students`` (perfect submissions) in ``tmp/curso``."""
    folder = tmp / f"entregas_{students[0]}"
    for student in students:
        nbgrader_io.write_notebook(build.demo_submissions(lab)["perfecto"], folder / f"{student}.ipynb")
    start = time.perf_counter()
    grades = [g for g in grading.grade(lab, folder, tmp / "curso", jobs=1, sandboxed=sandboxed, log=lambda *_: None)
              if g.student in students]
    seconds = time.perf_counter() - start
    assert len(grades) == len(students), f"{lab}: faltan estudiantes en el libro de notas"
    for g in grades:
        assert g.score == g.max_score, f"{lab}: la entrega perfecta de {g.student} sacó {g.score}/{g.max_score}"
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description="Calificar un estudiante frente a ejecutar el cuaderno solo.")
    parser.add_argument("labs", nargs="*", default=None)
    parser.add_argument("--no-sandbox", action="store_true", help="califica sin bubblewrap")
    args = parser.parse_args()
    if not args.no_sandbox:
        sandbox.prepare_data(sandbox.data_folder())
    print(f"{'laboratorio':24s} {'cuaderno solo':>14s} {'primer estudiante':>18s} {'uno más':>9s} "
          f"{'primero/solo':>13s} {'uno más/solo':>13s}")
    for lab in args.labs or existing_labs():
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            alone = notebook_alone(lab, tmp)
            (tmp / "antes").mkdir()
            graded(lab, ["previo"], tmp / "antes", not args.no_sandbox)  # the reference, made once per lab version
            first = graded(lab, ["ana"], tmp, not args.no_sandbox)
            one = graded(lab, ["bea"], tmp, not args.no_sandbox)
            three = graded(lab, ["carla", "dario", "elena"], tmp, not args.no_sandbox)
            more = (three - one) / 2
        print(f"{lab:24s} {alone:12.1f} s {first:16.1f} s {more:7.1f} s {first / alone:12.2f}x {more / alone:12.2f}x",
              flush=True)


if __name__ == "__main__":
    main()

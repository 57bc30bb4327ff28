"""Time ``course report`` on a generated class of lab 5: the page, and the copied-answer search alone.

    python benchmarks/bench_report.py [--students 500]

Writes a synthetic work folder (gradebook, submitted and autograded notebooks; nothing is run): every
student's answer cells are random code of their own, and one student in twenty copies another's, renamed.
Prints the seconds of the whole report, of the similarity search, and how many of the copied pairs it found.
"""
import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))  # the synthetic gradebook

from helpers.course import COURSE_ID, lab_notebook  # noqa: E402
from synthetic_gradebook import register_lab  # noqa: E402
from helpers.instructor import nbgrader_io, report, similarity  # noqa: E402
from helpers.instructor.gradebook import empty_gradebook  # noqa: E402

LAB = "lab5_fer2013"
NAMES = ("x", "y", "capa", "salida", "pesos", "z", "h", "t")


def expression(rng: random.Random, depth: int) -> str:
    """A random expression: names, numbers, operators, calls, attributes and indexing."""
    if depth == 0 or rng.random() < 0.2:
        return rng.choice(NAMES) if rng.random() < 0.6 else str(rng.randint(0, 512))
    a, b = expression(rng, depth - 1), expression(rng, depth - 1)
    return rng.choice((f"{a} {rng.choice('+-*/%')} {b}", f"torch.{rng.choice(('sum', 'mean', 'max'))}({a}, dim={b})",
                       f"{a}.view({b})", f"{rng.choice(NAMES)}[{a}]", f"({a}, {b})", f"nn.Linear({a}, {b})",
                       f"[{a} for {rng.choice(NAMES)} in {b}]", f"{a} if {b} else {rng.choice(NAMES)}"))


def answer(rng: random.Random) -> str:
    """About a dozen random statements: a student's own answer."""
    lines = []
    for _ in range(rng.randint(8, 16)):
        line = f"{rng.choice(NAMES)} = {expression(rng, 2)}"
        lines.append(rng.choice((line, f"for {rng.choice(NAMES)} in range({rng.randint(1, 9)}):\n    {line}",
                                 f"if {expression(rng, 1)}:\n    {line}", f"return {expression(rng, 2)}")))
    return "\n".join(lines)


def renamed(code: str) -> str:
    for old, new in (("capa", "c"), ("salida", "out"), ("pesos", "w")):
        code = code.replace(old, new)
    return code


def generate(workdir: Path, students: int) -> set[tuple[str, str]]:
    """Write the class; return the pairs of students whose answers are copies of one another. A student may copy
    a copy: then all three are listed, as the report should."""
    from nbgrader.api import Gradebook

    rng = random.Random(0)
    shutil.copy2(empty_gradebook(), workdir / "gradebook.db")
    origin = {}  # student -> the student who wrote the answers they handed in
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        register_lab(gb, LAB, datetime(2026, 12, 1))
        written = {}
        for n in range(students):
            sid = f"estudiante_{n:03d}"
            gb.add_student(sid)
            for g in gb.add_submission(LAB, sid).notebooks[0].grades:
                g.auto_score = g.max_score * rng.choice((0, 0.5, 1)) if g.cell.cell_type == "code" else None
            nb = nbgrader_io.read_notebook(lab_notebook("release", LAB))
            copied = rng.choice(list(written)) if written and n % 20 == 19 else None
            source = written[copied] if copied else None
            origin[sid] = origin[copied] if copied else sid
            for cell in nb.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                    cell.source = renamed(source[gid]) if source else answer(rng)
            written[sid] = similarity.answer_cells(nb)
            for folder in ("submitted", "autograded"):
                path = lab_notebook(f"{folder}/{sid}", LAB, workdir)
                path.parent.mkdir(parents=True)
                nbgrader_io.write_notebook(nb, path)
        gb.db.commit()
    return {(a, b) for a in origin for b in origin if a < b and origin[a] == origin[b]}


def main() -> None:
    parser = argparse.ArgumentParser(description="Mide course report en una clase generada del laboratorio 5.")
    parser.add_argument("--students", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp) / LAB
        workdir.mkdir()
        start = time.perf_counter()
        planted = generate(workdir, args.students)
        print(f"clase generada: {args.students} entregas ({len(planted)} parejas copiadas) "
              f"en {time.perf_counter() - start:.1f} s")
        start = time.perf_counter()
        matches, _ = report.copied_answers(LAB, workdir)
        found = {(m.a, m.b) for m in matches}
        print(f"similitud: {time.perf_counter() - start:.1f} s, {len(found & planted)} de {len(planted)} parejas "
              f"copiadas encontradas, {len(found - planted)} parejas más; {len(matches)} celdas")
        start = time.perf_counter()
        report.write_report(LAB, workdir)
        print(f"informe completo (similitud incluida): {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()

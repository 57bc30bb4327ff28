"""Autograde a folder of submissions with nbgrader and report the grades."""
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .build import nbgrader
from .course import COURSE_ID, ROOT, check_lab, lab_notebook


@dataclass
class Grade:
    """One student's autograded result for one lab."""

    student: str
    lab: str
    score: float
    max_score: float
    manual_pending: int
    manual_max: float


def student_id(path: Path) -> str:
    """A student id from a submission's file name: letters, digits, ``_``, ``-`` and ``.`` only."""
    return re.sub(r"[^\w.-]+", "_", path.stem).strip("_") or "sin_nombre"


def prepare_course(lab: str, workdir: Path) -> None:
    """Make ``workdir`` an nbgrader course folder holding ``lab``'s current source and release."""
    source = lab_notebook("source", lab, workdir).parent
    shutil.rmtree(source, ignore_errors=True)
    shutil.copytree(lab_notebook("source", lab).parent, source)
    nbgrader("generate_assignment", lab, "--force", root=workdir)


def read_grades(lab: str, workdir: Path) -> list[Grade]:
    """The gradebook's autograded scores for ``lab``, one :class:`Grade` per student."""
    from nbgrader.api import Gradebook

    grades = []
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        for sub in gb.assignment_submissions(lab):
            cells = [g for nb in sub.notebooks for g in nb.grades]
            auto = [g for g in cells if g.cell.cell_type == "code"]
            manual = [g for g in cells if g.cell.cell_type != "code"]
            grades.append(Grade(sub.student.id, lab, sum(g.score for g in auto), sum(g.max_score for g in auto),
                                sum(1 for g in manual if g.manual_score is None), sum(g.max_score for g in manual)))
    return sorted(grades, key=lambda g: g.student)


def grade(lab: str, submissions: Path, workdir: Path, log=print) -> list[Grade]:
    """Autograde every ``*.ipynb`` in ``submissions`` for ``lab`` inside ``workdir``; return the grades."""
    check_lab(lab)
    submissions, workdir = Path(submissions), Path(workdir)
    if not submissions.is_dir():
        raise FileNotFoundError(f"No existe la carpeta de entregas {submissions}.")
    files = sorted(submissions.glob("*.ipynb"))
    if not files:
        raise FileNotFoundError(f"No hay cuadernos (.ipynb) en {submissions}.")
    workdir.mkdir(parents=True, exist_ok=True)
    prepare_course(lab, workdir)
    for f in files:
        dest = lab_notebook(f"submitted/{student_id(f)}", lab, workdir)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(f, dest)
    log(f"Calificando {len(files)} entregas de {lab}...")
    nbgrader("autograde", lab, "--force", root=workdir)
    return read_grades(lab, workdir)


def grade_table(grades: list[Grade]) -> str:
    """A plain-text table of grades, in Spanish."""
    rows = [("estudiante", "laboratorio", "automático", "máximo", "por revisar a mano")]
    rows += [(g.student, g.lab, f"{g.score:g}", f"{g.max_score:g}",
              f"{g.manual_pending} respuestas ({g.manual_max:g} puntos)") for g in grades]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)

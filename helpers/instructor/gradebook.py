"""The work folder's records, read and written here only: the main ``gradebook.db`` (nbgrader's) and
``estado.json`` (ours: per student, what was graded and how it arrived, as :class:`StudentRecord`).

Each student is graded in a private copy of the course (its own gradebook); :func:`merge` then puts their
scores into the main gradebook, keeping the instructor's manual work on every answer that did not change.
"""
import json
import os
import shutil
import subprocess
import sys
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..course import COURSE_ID, cache_dir, lab_notebook
from .collect import Identity, Submission, TimeSource
from .nbgrader_io import LONE_SURROGATE, REPLACEMENT, nbgrader_env, read_notebook
from .records import Grade, Outcome
from .vocabulary import Audience, Note

GRADEBOOK_NAME = "gradebook.db"
STATE_NAME = "estado.json"


def gradebook_path(workdir: Path) -> Path:
    """The course folder ``workdir``'s gradebook (it may not exist yet)."""
    return Path(workdir) / GRADEBOOK_NAME


@contextmanager
def opened(workdir: Path):
    """nbgrader's ``Gradebook`` of the course folder ``workdir``, open for the ``with`` block."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{gradebook_path(workdir)}", COURSE_ID) as gb:
        yield gb


def empty_gradebook() -> Path:
    """A gradebook of the course with nothing in it, made once per machine and nbgrader version (nbgrader
    takes seconds to create one: it asks ``alembic`` for the schema's version in a new process)."""
    import nbgrader

    path = cache_dir() / "calificacion" / f"libro-vacio-{nbgrader.__version__}.db"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}")
        subprocess.run([sys.executable, "-c", f"from nbgrader.api import Gradebook; Gradebook({f'sqlite:///{partial}'!r}, {COURSE_ID!r}).close()"],
                       env=nbgrader_env(), check=True, capture_output=True)
        os.replace(partial, path)
    return path


# --------------------------------------------------------------------------- estado.json

@dataclass
class StudentRecord:
    """What ``estado.json`` keeps of one student's graded file (with its Spanish keys on disk)."""

    key: str = ""  # "clave": what the notebook was graded as; the same key next time means nothing to do
    file: str = ""  # "archivo": the file's name in the submissions
    notes: list[Note] = field(default_factory=list)  # "notas"
    review: str = ""  # "revisar": what the instructor should look at by hand
    identity: Identity | None = None  # "identidad": who sent it, as the platform says (for ``course export``)
    received: datetime | None = None  # "recibido", UTC
    received_from: TimeSource | None = None  # "fecha_de": where that date came from
    late_mark: bool = False  # "tarde_en_plataforma"

    def arrived(self, f: Submission) -> None:
        """Take ``f``'s sender and date (a file unchanged since it was graded may come from elsewhere now)."""
        self.identity, self.received, self.received_from, self.late_mark = (
            f.identity, f.received, f.received_from, f.late_mark)

    def record(self) -> dict:
        return {"clave": self.key, "archivo": self.file, "notas": [n.record() for n in self.notes],
                "revisar": self.review, "identidad": self.identity.record() if self.identity else None,
                "recibido": self.received.isoformat() if self.received else None,
                "fecha_de": self.received_from.name if self.received_from else None,
                "tarde_en_plataforma": self.late_mark}

    @classmethod
    def from_record(cls, student: str, record: dict) -> "StudentRecord":
        return cls(record.get("clave", ""), record.get("archivo", ""),
                   [Note.from_record(n) for n in record.get("notas", [])], record.get("revisar", ""),
                   Identity.from_record(student, record["identidad"]) if record.get("identidad") else None,
                   datetime.fromisoformat(record["recibido"]) if record.get("recibido") else None,
                   TimeSource[record["fecha_de"]] if record.get("fecha_de") else None,
                   bool(record.get("tarde_en_plataforma")))


def read_state(workdir: Path) -> dict[str, StudentRecord]:
    """``estado.json`` of ``workdir``: student -> :class:`StudentRecord` (empty before the first run)."""
    path = Path(workdir) / STATE_NAME
    records = json.loads(path.read_text()) if path.exists() else {}
    return {student: StudentRecord.from_record(student, r) for student, r in records.items()}


def write_state(workdir: Path, state: dict[str, StudentRecord]) -> None:
    """Replace ``estado.json`` with ``state``, whole or not at all."""
    path = Path(workdir) / STATE_NAME
    tmp = path.with_name(f".{path.name}.tmp")
    text = json.dumps({s: r.record() for s, r in state.items()}, ensure_ascii=False, indent=1, sort_keys=True)
    # backslashreplace: a lone surrogate (a file name the file system could not decode) cannot fail the write;
    # inside a JSON string it is written as its escape, which reads back as the same string
    tmp.write_text(text, errors="backslashreplace")
    os.replace(tmp, path)


def set_aside(workdir: Path, stamp: str) -> Path:
    """Rename the gradebook of an older version of the lab to ``gradebook.<stamp>.db`` and forget what was
    graded; return its new path."""
    old = gradebook_path(workdir).with_name(f"gradebook.{stamp}.db")
    gradebook_path(workdir).rename(old)
    (Path(workdir) / STATE_NAME).unlink(missing_ok=True)
    return old


# --------------------------------------------------------------------------- the gradebooks

def private_submission(root: Path, lab: str, student: str) -> tuple[dict, dict]:
    """The grades and comments of ``student``, the only student in the private course folder ``root``."""
    with opened(root) as gb:
        others = {s.student.id for s in gb.assignment_submissions(lab)} - {student}
        if others:  # a private gradebook holds one student; anything else was not written by us
            raise RuntimeError(f"el libro de notas de {student} contiene otras entregas ({', '.join(sorted(others))})")
        return submission_cells(gb.find_submission(lab, student))


def submission_cells(sub) -> tuple[dict, dict]:
    """An nbgrader submission's grades and comments: ``(notebook, grade_id) -> columns``."""
    grades, comments = {}, {}
    for nb in sub.notebooks:
        for g in nb.grades:
            grades[(nb.name, g.name)] = {
                "auto_score": g.auto_score, "manual_score": g.manual_score, "extra_credit": g.extra_credit,
                "needs_manual_grade": g.needs_manual_grade, "max_score": g.max_score,
                "cell_type": g.cell.cell_type}
        for c in nb.comments:
            comments[(nb.name, c.name)] = {"auto_comment": c.auto_comment, "manual_comment": c.manual_comment}
    return grades, comments


def cell_points(v: dict) -> float:
    """A cell's points as nbgrader counts them: the instructor's score if any, else the automatic one,
    plus extra credit."""
    score = v["manual_score"] if v["manual_score"] is not None else v["auto_score"]
    return (score or 0) + (v.get("extra_credit") or 0)


def submissions_with_grades(gb, lab: str) -> list:
    """Every submission of ``lab`` in the open gradebook ``gb``, with its student, notebooks, grades and their
    cells and points loaded in a few queries: nbgrader's own accessors load them one by one (20 000 queries for
    500 students of lab 5)."""
    from nbgrader.api import Assignment, SubmittedAssignment, SubmittedNotebook
    from nbgrader.api import Grade as CellGrade
    from sqlalchemy.orm import joinedload, selectinload

    grades = selectinload(SubmittedAssignment.notebooks).selectinload(SubmittedNotebook.grades)
    return (gb.db.query(SubmittedAssignment).join(Assignment).filter(Assignment.name == lab)
            .options(joinedload(SubmittedAssignment.student), grades.undefer(CellGrade.max_score),
                     grades.joinedload(CellGrade.cell)).all())


def read_grades(lab: str, workdir: Path) -> list[Grade]:
    """The gradebook's autograded scores for ``lab``, one :class:`Grade` per student."""
    grades = []
    with opened(workdir) as gb:
        for sub in submissions_with_grades(gb, lab):
            cells = [g for nb in sub.notebooks for g in nb.grades]
            auto = [g for g in cells if g.cell.cell_type == "code"]
            manual = [g for g in cells if g.cell.cell_type != "code"]
            grades.append(Grade(sub.student.id, lab, sum(g.score for g in auto), sum(g.max_score for g in auto),
                                sum(1 for g in manual if g.needs_manual_grade), sum(g.max_score for g in manual),
                                manual_score=sum(g.score for g in manual if not g.needs_manual_grade)))
    return sorted(grades, key=lambda g: g.student)


def gradebook_dump(lab: str, workdir: Path) -> list[tuple]:
    """Every grade in the main gradebook as plain tuples, to compare two runs."""
    rows = []
    with opened(workdir) as gb:
        for sub in submissions_with_grades(gb, lab):
            for nb in sub.notebooks:
                rows += [(sub.student.id, nb.name, g.name, g.auto_score, g.manual_score, g.needs_manual_grade)
                         for g in nb.grades]
    return sorted(rows, key=repr)


def set_due_date(lab: str, workdir: Path, due_date: datetime) -> None:
    """Store ``due_date`` as the lab's due date in the main gradebook (in UTC, as nbgrader keeps dates)."""
    with opened(workdir) as gb:
        gb.update_or_create_assignment(lab, duedate=due_date.astimezone(timezone.utc).replace(tzinfo=None))


# --------------------------------------------------------------------------- merge

def _answers(path: Path) -> dict[str, str]:
    """``grade_id`` -> source of every answer cell (code or written) of a submitted notebook."""
    if not path.exists():
        return {}
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in read_notebook(path).cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def merge(lab: str, workdir: Path, outcome: Outcome, sub: Submission | None = None) -> list[Note]:
    """Put one isolated student's scores into the main gradebook and copy their files over.

    The file ``sub`` gives the student's real name and platform id (nbgrader's ``first_name``,
    ``last_name``, ``lms_user_id``) and the submission's date (its ``timestamp``).

    An instructor's work survives a resubmission: the manual score, extra credit and comment of
    every answer whose text did not change are kept; those of an answer that changed are dropped and
    named in the returned notes (Spanish), so that it is graded again.
    """
    submitted = lab_notebook(f"submitted/{outcome.student}", lab, workdir)
    before, after = _answers(submitted), _answers(lab_notebook(f"submitted/{outcome.student}", lab, outcome.root))
    with warnings.catch_warnings(), opened(workdir) as gb:
        warnings.filterwarnings("ignore", message=".*not in session.*")  # emitted by nbgrader's own add_submission
        _record_student(gb, outcome.student, sub.identity if sub else None)
        manual = _take_manual_work(gb, lab, outcome.student)
        kept = {gid: v for gid, v in manual.items() if gid in after and before.get(gid) == after[gid]}
        _add_submission(gb, lab, outcome, sub.received if sub else None, kept)
        gb.db.commit()
    notes = [Note(f"«{gid}» cambió desde que la calificaste a mano: su nota y su comentario a mano no se conservan; "
                  "vuelve a calificarla en formgrader", Audience.INSTRUCTOR) for gid in sorted(set(manual) - set(kept))]
    if kept:
        notes.append(Note(f"se conservan tus notas y comentarios a mano de {', '.join(f'«{g}»' for g in sorted(kept))} "
                          "(su texto no cambió)", Audience.INSTRUCTOR))
    for folder in ("submitted", "autograded", "feedback"):
        src, dst = outcome.root / folder / outcome.student, workdir / folder / outcome.student
        shutil.rmtree(dst, ignore_errors=True)
        if src.exists():
            shutil.copytree(src, dst)
    return notes


def _record_student(gb, student: str, who: Identity | None) -> None:
    """The student's real name and platform id in the gradebook; what the platform does not say is left as it
    is (the instructor may have typed it in formgrader)."""
    first, last = who.first_last() if who else (None, None)
    known = {"first_name": first, "last_name": last, "lms_user_id": (who.participant or None) if who else None}
    known = {k: LONE_SURROGATE.sub(REPLACEMENT, v) if v else v for k, v in known.items()}  # SQLite takes UTF-8 only
    gb.update_or_create_student(student, **{k: v for k, v in known.items() if v is not None})


def _take_manual_work(gb, lab: str, student: str) -> dict:
    """The instructor's work on the student's earlier submission (grade_id -> manual score, extra credit,
    comment), which is then removed from the gradebook; nothing if there was none."""
    from nbgrader.api import MissingEntry

    manual = {}
    try:
        for nb in gb.find_submission(lab, student).notebooks:
            for g in nb.grades:
                if g.manual_score is not None or g.extra_credit:
                    manual[g.name] = {"manual_score": g.manual_score, "extra_credit": g.extra_credit}
            for c in nb.comments:
                if c.manual_comment:
                    manual.setdefault(c.name, {})["manual_comment"] = c.manual_comment
        gb.remove_submission(lab, student)
    except MissingEntry:
        pass
    return manual


def _add_submission(gb, lab: str, outcome: Outcome, received: datetime | None, kept: dict) -> None:
    """The isolated run's scores and comments as the student's submission, with the ``kept`` manual work."""
    submitted = gb.add_submission(lab, outcome.student, timestamp=received)
    for nb in submitted.notebooks:
        for g in nb.grades:
            for column, value in outcome.grades.get((nb.name, g.name), {}).items():
                if column not in ("max_score", "cell_type"):
                    setattr(g, column, value)
            if g.name in kept and "manual_score" in kept[g.name]:
                g.manual_score, g.extra_credit = kept[g.name]["manual_score"], kept[g.name]["extra_credit"]
                g.needs_manual_grade = False
        for c in nb.comments:
            for column, value in outcome.comments.get((nb.name, c.name), {}).items():
                setattr(c, column, value)
            if "manual_comment" in kept.get(c.name, {}):
                c.manual_comment = kept[c.name]["manual_comment"]


"""What grading produces, as values: one student's :class:`Grade`, the :class:`Outcome` of grading them in
isolation, a run's :class:`ClassResult`, and the grades CSV and table written from them."""
import csv
from dataclasses import dataclass, field
from pathlib import Path

from .tamper import Verdict
from .vocabulary import Note, Status


@dataclass
class Grade:
    """One student's autograded result for one lab."""

    student: str
    lab: str
    score: float | None
    max_score: float
    manual_pending: int  # written answers still waiting for the instructor (blank ones nbgrader scored 0 are not)
    manual_max: float
    status: Status = Status.GRADED
    file: str = ""
    notes: list[Note] = field(default_factory=list)
    review: str = ""  # what the instructor should look at by hand (tampering, suspicious code)
    manual_score: float = 0.0  # points awarded so far to written answers (by hand, or 0 for a blank one)
    last_file: Status | None = None  # what became of a later file of the same student that did not replace this one

    @property
    def status_text(self) -> str:
        """The status as the CSV and the report say it: "calificado (última entrega: ilegible)"."""
        return f"{self.status} (última entrega: {self.last_file})" if self.last_file else str(self.status)


@dataclass
class Outcome:
    """What autograding one student in isolation produced."""

    student: str
    grades: dict = field(default_factory=dict)  # (notebook, grade_id) -> columns
    comments: dict = field(default_factory=dict)
    notes: list[Note] = field(default_factory=list)
    error: str | None = None
    root: Path | None = None
    seconds: float = 0.0
    tampering: Verdict | None = None


@dataclass
class ClassResult:
    """Everything a grading run produced: the grades, every file's fate, and the output files."""

    lab: str
    workdir: Path
    grades: list[Grade]
    files: list  # collect.Submission, in name order
    csv: Path
    report: Path
    seconds: float = 0.0
    graded_now: int = 0

    def summary(self) -> str:
        """A short Spanish summary of the run."""
        count = lambda status: sum(1 for f in self.files if f.status is status)  # noqa: E731
        repaired = sum(1 for f in self.files if f.status is Status.GRADED and f.notes)
        graded = [g for g in self.grades if g.score is not None]
        mean = sum(g.score for g in graded) / len(graded) if graded else 0
        top = graded[0].max_score if graded else 0
        return "\n".join([
            f"{self.lab}: {len(self.files)} archivos recibidos.",
            f"  calificados ahora: {count(Status.GRADED)} (con reparaciones: {repaired}); "
            f"sin cambios desde la vez anterior: {count(Status.UNCHANGED)}",
            f"  ilegibles: {count(Status.UNREADABLE)}; de otro laboratorio: {count(Status.OTHER_LAB)}; "
            f"con error al calificar: {count(Status.FAILED)}; ignorados: {count(Status.IGNORED)}",
            f"  en el libro de notas: {len(graded)} estudiantes, media {mean:.2f} de {top:g} puntos automáticos",
            f"  tiempo: {self.seconds:.0f} s; notas en {self.csv}; informe en {self.report}",
        ])

    def problems(self) -> str:
        """The Spanish report: every file, what happened to it and why."""
        lines = [f"Informe de la calificación de {self.lab}", ""]
        review = [g for g in self.grades if g.review]
        if review:
            lines += ["Entregas que conviene revisar a mano:"] + [f"  ! {g.student}: {g.review}" for g in review] + [""]
        doubts = {}
        for f in self.files:
            if f.doubt:
                doubts.setdefault(f.doubt, []).append(f.name)
        if doubts:
            lines += ["Casos dudosos (resueltos como se indica; compruébalos):"]
            lines += [f"  ? {doubt}" + ("" if len(names) > 1 else f" ({names[0]})") for doubt, names in doubts.items()]
            lines += [""]
        for f in self.files:
            who = f" → {f.student}" if f.student else ""
            lines.append(f"- {f.name}{who}: {f.status}")
            if f.received and f.status is not Status.IGNORED:
                lines.append(f"    · recibido el {f.received:%Y-%m-%d %H:%M} UTC ({f.received_from.value})")
            if f.late_mark and f.status is not Status.IGNORED:
                lines.append("    · entregado tarde según la plataforma (LATE en su nombre; no dice cuánto)")
            lines += [f"    · {n}" for n in f.notes]
        return "\n".join(lines)


def write_csv(grades: list[Grade], path: Path) -> Path:
    """Write the grades CSV (Spanish headers): one row per student, ungradable files included."""
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:  # never fails
        w = csv.writer(f)
        w.writerow(["estudiante", "laboratorio", "puntos_automaticos", "maximo_automatico",
                    "respuestas_escritas_pendientes", "puntos_respuestas_escritas", "maximo_respuestas_escritas",
                    "estado", "revisar", "archivo"])
        for g in grades:
            w.writerow([g.student, g.lab, "" if g.score is None else f"{g.score:g}", f"{g.max_score:g}",
                        g.manual_pending, f"{g.manual_score:g}", f"{g.manual_max:g}", g.status_text, g.review, g.file])
    return path


def grade_table(grades: list[Grade]) -> str:
    """A plain-text table of grades, in Spanish."""
    rows = [("estudiante", "laboratorio", "automático", "máximo", "por revisar a mano", "estado")]
    rows += [(g.student, g.lab, "—" if g.score is None else f"{g.score:g}", f"{g.max_score:g}",
              f"{g.manual_pending} respuestas ({g.manual_max:g} puntos)", g.status_text) for g in grades]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows)


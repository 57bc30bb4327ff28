"""Grades and feedback back to the learning platform: ``course export LAB``.

Reads what ``course grade`` and formgrader left in the work folder (``gradebook.db`` with the
instructor's scores, ``estado.json`` with each student's platform identity) and writes, in
``<workdir>/exportar/``, files the platforms import as they are:

``moodle_<lab>.csv``
    Moodle's assignment "offline grading worksheet" (Ver todas las entregas → Acción → Subir hoja de
    calificaciones). Moodle's importer (``mod/assign/feedback/offline/importgradeslib.php``, class
    ``assignfeedback_offline_grade_importer``) finds its columns by their title in the language of
    the instructor's Moodle and refuses a file without any of ``get_string('recordid', 'assign')``
    ("Identifier" / "Identificador"), ``get_string('grade')`` ("Grade" / "Calificación") and
    ``get_string('lastmodifiedgrade', 'assign')`` ("Last modified (grade)" / "Última modificación
    (calificación)"); the identifier is ``get_string('hiddenuser', 'assign')`` ("Participant" /
    "Participante", byte for byte: the English string ends in a space, the Spanish one does not) followed by the participant id, the number in the download's folder names
    (``get_user_id_for_uniqueid``); a row whose date is older than the grade in Moodle is skipped
    (so the export's date is now, written with its offset: the same instant whatever the instructor's
    time zone), and the comments plugin reads "Feedback comments" /
    "Comentarios de retroalimentación". Strings from Moodle's ``lang/en/assign.php`` and the
    Spanish language pack.
``canvas_<lab>.csv``
    Canvas's Gradebook import (Calificaciones → Importar). Canvas Instructor Guide "How do I import
    grades in the Gradebook?" and, e.g., Ohio State's guide to it
    (https://teaching.resources.osu.edu/toolsets/carmencanvas/guides/calculating-final-grades/import-csv-file-carmen-grades):
    the columns ``Student`` (name), ``ID`` (the Canvas user id: the number in the download's file
    names), ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per assignment titled
    ``Name (assignment id)``; a title without a known id creates a new assignment, so the file is only
    written for a title with its id (``--canvas-assignment "Laboratorio 1 (98765)"``). Anonymous
    submissions (``anon_<id>``) carry no user id and are left out, named in the summary.
``retroalimentacion_moodle_<lab>.zip``
    Moodle's "Subir múltiples archivos de retroalimentación en un zip" (feedback type "Archivos de
    retroalimentación"). Its importer (``mod/assign/feedback/file/importziplib.php``,
    ``is_valid_filename_for_import``) splits each folder of a path at ``_`` into
    ``fullname_participantid_plugintype_pluginname`` (Moodle 4.1 and later; earlier ones add a ``_``),
    needs a numeric participant id of the assignment and takes the rest of the path as the feedback
    file's name: so each student's page goes in a folder named as in the download,
    ``Ana García_1234567_assignsubmission_file/``.
``notas_finales_<lab>.csv``
    Every student (any platform, or a plain folder): automatic, written, late penalty and final.

The feedback pages ``feedback/<id>/<lab>/<lab>.html`` are written again with the instructor's scores
and comments. Nothing in a platform file is ever blank: a student with written answers still ungraded
is left out of every platform file (no grade, no comment, no feedback page that would overwrite what the
platform holds) and named in the summary. The platform files need ``--out-of``, the assignment's
maximum on the platform, and a grade above it stops the export: Moodle would skip it silently and
Canvas would take it as extra credit.
"""
import csv
import enum
import json
import zipfile
from dataclasses import dataclass, field
import re
from datetime import datetime, timezone
from pathlib import Path

from ..course import COURSE_ID, check_lab, lab_notebook
from . import grading
from .nbgrader_io import course_config
from .collect import Identity


class MoodleLanguage(enum.Enum):
    """The worksheet's column titles and participant prefix, in the language of the instructor's Moodle."""

    ES = ("Identificador", "Nombre completo", "Calificación", "Calificación máxima",
          "Última modificación (calificación)", "Comentarios de retroalimentación", "Participante")
    EN = ("Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)", "Feedback comments",
          "Participant ")  # with its space, as lang/en/assign.php has it


CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
#: A Canvas gradebook column title that names its assignment's id: ``Laboratorio 1 (98765)``.
CANVAS_TITLE = re.compile(r".*\S\s*\(\d+\)\s*")
FINAL_COLUMNS = ["estudiante", "nombre", "plataforma", "id_plataforma", "puntos_automaticos",
                 "puntos_respuestas_escritas", "respuestas_escritas_pendientes", "maximo", "entregado",
                 "retraso_horas", "penalizacion_retraso", "nota_final", "nota_exportada"]


@dataclass
class FinalGrade:
    """One student's final grade: automatic + written − late penalty, and who they are on the platform."""

    student: str
    identity: Identity | None
    auto: float
    written: float
    pending: int  # written answers still to grade by hand: the grade is not final
    max_score: float
    late_penalty: float
    seconds_late: float
    submitted: datetime | None

    @property
    def final(self) -> float:
        """Points after the late penalty (never below 0)."""
        return max(self.auto + self.written - self.late_penalty, 0.0)

    def exported(self, out_of: float | None) -> str:
        """The grade as the platforms get it ("" while written answers are pending), on ``out_of`` if given."""
        if self.pending:
            return ""
        value = self.final * out_of / self.max_score if out_of and self.max_score else self.final
        return f"{round(value, 2):g}"


@dataclass
class ExportResult:
    """What ``course export`` wrote and what it could not send."""

    lab: str
    folder: Path
    grades: list[FinalGrade]
    files: list[Path] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)  # Spanish lines: who is missing from which file, and why

    def summary(self) -> str:
        """A Spanish summary: the files, then every student left out of one."""
        lines = [f"{self.lab}: {len(self.grades)} estudiantes en el libro de notas."]
        lines += [f"  escrito: {path}" for path in self.files]
        pending = [g.student for g in self.grades if g.pending]
        if pending:
            lines.append(f"  sin nota (respuestas escritas sin calificar en formgrader), fuera de los archivos de "
                         f"la plataforma para no borrar lo que haya allí: {', '.join(pending)}")
        late = [g for g in self.grades if g.seconds_late > 0]
        lines += [f"  entrega tardía: {g.student}, {g.seconds_late / 3600:.1f} h después de la fecha límite"
                  f" (penalización {g.late_penalty:g})" for g in late]
        lines += [f"  ! {line}" for line in self.left_out]
        return "\n".join(lines)


def late_plugin(workdir: Path):
    """nbgrader's late-submission plugin as the work folder's ``nbgrader_config.py`` configures it
    (``c.LateSubmissionPlugin.penalty_method = "zero"``, or a plugin class of the instructor's)."""
    from nbgrader.plugins import LateSubmissionPlugin
    from traitlets.utils.importstring import import_item

    config = course_config(workdir)
    plugin_class = config.AssignLatePenalties.get("plugin_class", LateSubmissionPlugin)
    if isinstance(plugin_class, str):
        plugin_class = import_item(plugin_class)
    return plugin_class(config=config)


def final_grades(lab: str, workdir: Path) -> list[FinalGrade]:
    """Every graded student's final grade from the gradebook, with the identity ``course grade`` stored."""
    from nbgrader.api import Gradebook

    state_path = workdir / "estado.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    plugin = late_plugin(workdir)
    grades = []
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        for sub in gb.assignment_submissions(lab):
            cells, _ = grading.submission_cells(sub)
            auto = sum(grading.cell_points(v) for v in cells.values() if v["cell_type"] == "code")
            written = [v for v in cells.values() if v["cell_type"] != "code"]
            total = auto + sum(grading.cell_points(v) for v in written)
            penalty = 0.0
            if sub.total_seconds_late > 0:
                penalty = min(max(plugin.late_submission_penalty(sub.student.id, total, sub.total_seconds_late)
                                  or 0.0, 0.0), total)
            record = state.get(sub.student.id, {}).get("identidad")
            grades.append(FinalGrade(
                sub.student.id, Identity.from_record(sub.student.id, record) if record else None, auto,
                sum(grading.cell_points(v) for v in written), sum(v["needs_manual_grade"] for v in written),
                sum(v["max_score"] for v in cells.values()), penalty, sub.total_seconds_late, sub.timestamp))
    return sorted(grades, key=lambda g: g.student)


def export(lab: str, workdir: Path, out_of: float | None = None, canvas_assignment: str | None = None,
           moodle_language: MoodleLanguage = MoodleLanguage.ES) -> ExportResult:
    """Write every export file of ``lab`` into ``workdir/exportar`` and regenerate the feedback pages."""
    check_lab(lab)
    workdir = Path(workdir).resolve()
    if not (workdir / "gradebook.db").exists():
        raise FileNotFoundError(f"No hay libro de notas en {workdir}: califica antes con "
                                f"«course grade {lab} ENTREGAS».")
    if out_of is not None and out_of <= 0:
        raise ValueError(f"--out-of debe ser un número de puntos mayor que 0 (se recibió {out_of:g}).")
    grades = final_grades(lab, workdir)
    if not grades:
        raise ValueError(f"El libro de notas de {workdir} no tiene ninguna entrega de {lab}.")
    on = {p: [g for g in grades if g.identity and g.identity.platform == p and not g.pending] for p in ("moodle", "canvas")}
    if out_of is None and (on["moodle"] or on["canvas"]):
        raise ValueError("Para los archivos de Moodle y Canvas hace falta --out-of con la calificación máxima de la "
                         "tarea en la plataforma (p. ej. --out-of 10): Moodle omite sin avisar una nota mayor que su "
                         "máximo y Canvas la toma como puntos extra.")
    over = [g for g in grades if not g.pending and g.final > g.max_score]
    if over:
        raise ValueError("Estas notas superan el máximo del laboratorio y la plataforma las omitiría o las tomaría "
                         "como puntos extra: " + ", ".join(f"{g.student} ({g.final:g} de {g.max_score:g})" for g in over)
                         + ". Revisa sus puntos a mano en formgrader.")
    folder = workdir / "exportar"
    folder.mkdir(exist_ok=True)
    for stale in (f"moodle_{lab}.csv", f"retroalimentacion_moodle_{lab}.zip", f"canvas_{lab}.csv"):
        (folder / stale).unlink(missing_ok=True)  # an earlier export's platform file must not be uploaded by mistake
    result = ExportResult(lab, folder, grades)
    pages = regenerate_feedback(lab, workdir, grades)
    result.files.append(write_final_csv(grades, folder / f"notas_finales_{lab}.csv", out_of))
    if on["moodle"]:
        result.files.append(write_moodle_csv(on["moodle"], folder / f"moodle_{lab}.csv", out_of, moodle_language))
        result.files.append(write_moodle_feedback_zip(on["moodle"], pages, lab,
                                                      folder / f"retroalimentacion_moodle_{lab}.zip"))
    if on["canvas"] and not CANVAS_TITLE.fullmatch(canvas_assignment or ""):
        result.left_out.append(
            f"Canvas: sin archivo de notas, porque --canvas-assignment no da el id de la tarea (se recibió "
            f"«{canvas_assignment or ''}»). Sin id, Canvas crearía una tarea nueva: exporta su libro de "
            f"calificaciones, copia el título de la columna de la tarea, p. ej. «Laboratorio 1 (98765)», y "
            f"vuelve a exportar con --canvas-assignment \"Laboratorio 1 (98765)\".")
    elif on["canvas"]:
        path, anonymous = write_canvas_csv(on["canvas"], folder / f"canvas_{lab}.csv", out_of,
                                           canvas_assignment or lab)
        result.files.append(path)
        result.left_out += [f"{g.student}: entrega anónima de Canvas, sin id de usuario; ponle la nota a mano "
                            f"({g.exported(out_of) or 'pendiente'})" for g in anonymous]
    elsewhere = [g.student for g in grades if not g.identity or g.identity.platform not in on]
    if elsewhere:
        result.left_out.append(f"sin plataforma con importación de notas (carpeta propia, Classroom, patrón propio): "
                               f"{', '.join(elsewhere)}; sus notas están en notas_finales_{lab}.csv")
    return result


def regenerate_feedback(lab: str, workdir: Path, grades: list[FinalGrade]) -> dict[str, Path]:
    """Write each student's feedback page again, now with manual scores, comments and the final grade."""
    from nbgrader.api import Gradebook

    state_path = workdir / "estado.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    secret = grading.hidden_lines(lab)
    pages = {}
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        for g in grades:
            executed = lab_notebook(f"autograded/{g.student}", lab, workdir)
            if not executed.exists():
                continue
            cells, comments = grading.submission_cells(gb.find_submission(lab, g.student))
            notes = grading.feedback_notes(state.get(g.student, {}).get("notas", []))
            pages[g.student] = grading.write_feedback(
                lab, g.student, executed, cells, notes, workdir / "feedback" / g.student / lab / f"{lab}.html",
                secret, comments=comments, late_penalty=g.late_penalty)
    return pages


def write_final_csv(grades: list[FinalGrade], path: Path, out_of: float | None) -> Path:
    """Every student's final grade and its parts (Spanish headers)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(FINAL_COLUMNS)
        for g in grades:
            who = g.identity
            w.writerow([g.student, who.name if who else "", who.platform if who else "", who.participant if who else "",
                        f"{g.auto:g}", f"{g.written:g}", g.pending, f"{g.max_score:g}",
                        g.submitted.isoformat() if g.submitted else "", f"{g.seconds_late / 3600:.2f}",
                        f"{g.late_penalty:g}", "" if g.pending else f"{g.final:g}", g.exported(out_of)])
    return path


def write_moodle_csv(grades: list[FinalGrade], path: Path, out_of: float | None, language: MoodleLanguage) -> Path:
    """Moodle's grading worksheet: one row per participant, keyed by "Participante<id>" ("Participant <id>")."""
    ident, name, grade, maximum, modified, comments, prefix = language.value
    # newer than any grade in Moodle, with its offset (PHP's strtotime reads it): the same instant in any time zone
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    top = out_of or grades[0].max_score  # every grade of a lab has the same maximum
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([ident, name, grade, maximum, modified, comments])
        for g in grades:
            w.writerow([f"{prefix}{g.identity.participant}", g.identity.name, g.exported(out_of), f"{top:g}", now,
                        _comment(g)])
    return path


def _comment(g: FinalGrade) -> str:
    """The short Spanish comment that goes beside a grade on the platform."""
    if g.pending:
        return ""
    text = f"Automática: {g.auto:g}; respuestas escritas: {g.written:g}"
    if g.late_penalty:
        text += f"; penalización por retraso: −{g.late_penalty:g}"
    return text + f". Total: {g.final:g} de {g.max_score:g} puntos. Detalle en el archivo de retroalimentación."


def write_canvas_csv(grades: list[FinalGrade], path: Path, out_of: float | None,
                     assignment: str) -> tuple[Path, list[FinalGrade]]:
    """Canvas's Gradebook import file keyed by the user id; returns it and the anonymous rows left out."""
    anonymous = [g for g in grades if g.identity.name == "anon"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*CANVAS_COLUMNS, assignment])
        for g in grades:
            if g not in anonymous:
                w.writerow([g.identity.name, g.identity.participant, "", "", "", g.exported(out_of)])
    return path, anonymous


def write_moodle_feedback_zip(grades: list[FinalGrade], pages: dict[str, Path], lab: str, path: Path) -> Path:
    """Moodle's feedback-files zip: each page in its participant's folder, named as in the download."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for g in grades:
            if g.student in pages:
                folder = f"{g.identity.name}_{g.identity.participant}_assignsubmission_file"
                zf.write(pages[g.student], f"{folder}/retroalimentacion_{lab}.html")
    return path

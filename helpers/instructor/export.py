"""Grades and feedback back to the learning platform: ``course export LAB``.

Reads what ``course grade`` and formgrader left in the work folder (``gradebook.db`` with the
instructor's scores, ``estado.json`` with each student's platform identity) and writes, in
``<workdir>/exportar/``, files the platforms import as they are:

``moodle_<lab>.csv``
    Moodle's assignment "offline grading worksheet" (Ver todas las entregas → Acción → Subir hoja de
    calificaciones). With ``--moodle-worksheet`` it is the worksheet the instructor downloaded, written back
    (:mod:`.platform_files`): same columns, language, identifiers and decimal mark, its maximum, only the rows
    of students whose grade is final, each member of a group given the group's grade. Without it, one is
    written here. Moodle's importer (``mod/assign/feedback/offline/importgradeslib.php``, class
    ``assignfeedback_offline_grade_importer``) finds its columns by their title in the language of
    the instructor's Moodle and refuses a file without any of ``get_string('recordid', 'assign')``
    ("Identifier" / "Identificador"), ``get_string('grade')`` ("Grade" / "Calificación") and
    ``get_string('lastmodifiedgrade', 'assign')`` ("Last modified (grade)" / "Última modificación
    (calificación)"); the identifier is ``get_string('hiddenuser', 'assign')`` ("Participant" /
    "Participante", byte for byte: the English string ends in a space, the Spanish one does not) followed by
    the participant id, the number in the download's folder names (``get_user_id_for_uniqueid``); a row whose
    date is more than a minute older than the grade in Moodle is skipped, grade and comment (so the date is
    written with its offset, the same instant whatever the instructor's time zone: Moodle's date as
    downloaded, or now), and the comments plugin reads "Feedback comments" / "Comentarios de
    retroalimentación".
``canvas_<lab>.csv``
    Canvas's Gradebook import (Calificaciones → Importar). With ``--canvas-gradebook`` it is the gradebook the
    instructor exported, written back with its student columns, its "Points Possible" row and the assignment's
    column only, and only the rows of students whose grade is final. Without it: Canvas Instructor Guide
    "How do I import grades in the Gradebook?" and, e.g., Ohio State's guide to it
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
No Canvas feedback zip: Canvas's "Re-upload submissions" (``app/models/assignment.rb``,
``infer_comment_context_from_filename``) attaches a file only under the id of one of the student's own
submitted files and names it as that file, so a feedback page would reach the student as ``lab1.ipynb``
holding HTML. The pages stay in ``feedback/<id>/`` for the instructor to attach in SpeedGrader.
``notas_finales_<lab>.csv``
    Every student (any platform, or a plain folder): automatic, written, late penalty and final.

Submission times are the platform's (Moodle's worksheet, "Last modified (submission)"; Canvas's ``LATE``
mark, which has no time) or a plain folder's modification times, never a zip member's date; each student's
due date is an extension where there is one (the worksheet's, or ``--extensions``), and ``--late-penalty``
decides who takes points off a late submission, never both the platform and the course.

The feedback pages ``feedback/<id>/<lab>/<lab>.html`` are written again with the instructor's scores
and comments. Nothing in a platform file is ever blank: a student with written answers still ungraded
is left out of every platform file (no grade, no comment, no feedback page that would overwrite what the
platform holds) and named in the summary. The platform files need ``--out-of``, the assignment's
maximum on the platform, and a grade above it stops the export: Moodle would skip it silently and
Canvas would take it as extra credit.
"""
import csv
import enum
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ..course import check_lab, lab_notebook
from . import gradebook
from .collect import Identity
from .feedback import hidden_lines, write_feedback
from .gradebook import StudentRecord, cell_points, submission_cells
from .nbgrader_io import course_config
from .platform_files import CANVAS_TITLE, MoodleLanguage, read_canvas_gradebook, read_moodle_worksheet, time_zone
from .vocabulary import BadInput, Missing, for_students

CANVAS_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
#: The platforms whose files ``course export`` writes (a student from anywhere else is only in the final CSV).
IMPORTING = ("moodle", "canvas")
FINAL_COLUMNS = ["estudiante", "nombre", "plataforma", "id_plataforma", "puntos_automaticos",
                 "puntos_respuestas_escritas", "respuestas_escritas_pendientes", "maximo", "entregado",
                 "entregado_segun", "fecha_limite", "retraso_horas", "tarde_en_plataforma", "penaliza",
                 "penalizacion_retraso", "nota_final", "nota_exportada"]


class Penalty(enum.Enum):
    """Who takes points off a late submission (``--late-penalty``): never two of them."""

    AUTO = "auto"  # the platform for students who came from Moodle or Canvas, the course for everyone else
    PLATFORM = "plataforma"  # Moodle 5's grade penalties, Canvas's late policy: the course takes nothing off
    COURSE = "curso"  # the late-penalty plugin of nbgrader_config.py (turn the platform's off)
    NONE = "ninguna"

    def for_student(self, who: Identity | None) -> "Penalty":
        """The rule that applies to ``who``: ``AUTO`` resolved by where their submission came from."""
        if self is not Penalty.AUTO:
            return self
        return Penalty.PLATFORM if who and who.platform in IMPORTING else Penalty.COURSE


@dataclass(frozen=True)
class ExportOptions:
    """What the instructor says about the platforms (``course export``'s options)."""

    out_of: float | None = None  # the assignment's maximum on the platform (read from the platform's own file)
    canvas_assignment: str | None = None  # the gradebook column's title, "Laboratorio 1 (98765)"
    moodle_language: MoodleLanguage = MoodleLanguage.ES  # of the worksheet written without --moodle-worksheet
    moodle_worksheet: Path | None = None  # Moodle's grading worksheet, downloaded: written back filled in
    canvas_gradebook: Path | None = None  # Canvas's gradebook export: written back filled in
    time_zone: str | None = None  # of the worksheet's dates (the instructor's Moodle profile)
    extensions: Path | None = None  # a CSV "estudiante,fecha_limite": each student's own due date
    penalty: Penalty = Penalty.AUTO
    now: datetime | None = None  # the export's instant (tests fix it); None: the clock's


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
    submitted_from: str = ""  # whose clock ``submitted`` is (Spanish), "" without a date
    due: datetime | None = None  # this student's due date: the assignment's or their extension
    late_mark: bool = False  # the platform marked it late without saying when (Canvas's LATE)
    penalised_by: Penalty = Penalty.COURSE

    @property
    def final(self) -> float:
        """Points after the late penalty (never below 0)."""
        return max(self.auto + self.written - self.late_penalty, 0.0)

    @property
    def late(self) -> bool:
        return self.seconds_late > 0 or self.late_mark

    def exported(self, out_of: float | None) -> str:
        """The grade as the platforms get it ("" while written answers are pending), on ``out_of`` if given."""
        if self.pending:
            return ""
        return f"{round(self.on_scale(out_of), 2):g}"

    def on_scale(self, out_of: float | None) -> float:
        return self.final * out_of / self.max_score if out_of and self.max_score else self.final


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
        lines += [f"  entrega tardía: {g.student}, {_how_late(g)} ({_penalty_note(g)})"
                  for g in self.grades if g.late]
        lines += [f"  ! {line}" for line in self.left_out]
        return "\n".join(lines)


def _how_late(g: FinalGrade) -> str:
    if g.seconds_late > 0:
        return f"{g.seconds_late / 3600:.1f} h después de la fecha límite"
    return "marcada LATE por Canvas, que no dice cuánto"


def _penalty_note(g: FinalGrade) -> str:
    if g.penalised_by is Penalty.COURSE:
        return f"penalización {g.late_penalty:g}" if g.seconds_late > 0 else \
            "sin penalización del curso: sin hora de entrega no se puede calcular; aplícala en Canvas o a mano"
    if g.penalised_by is Penalty.PLATFORM:
        return "sin penalización del curso: la aplica la plataforma si tiene activada la suya"
    return "sin penalización: --late-penalty ninguna"


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


def _utc(moment: datetime | None) -> datetime | None:
    """A gradebook date (naive, in UTC as nbgrader keeps them) as an aware one."""
    return moment.replace(tzinfo=timezone.utc) if moment and moment.tzinfo is None else moment


def read_extensions(path: Path | None, zone_name: str | None) -> dict[str, datetime]:
    """``--extensions``: each student's own due date from a CSV ``estudiante,fecha_limite`` (the student id of
    notas_finales or the platform's id; the date in ISO, with its offset or in the zone ``zone_name``)."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise Missing(f"No existe el archivo de prórrogas {path}.")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    if rows and not {"estudiante", "fecha_limite"} <= set(rows[0]):
        raise BadInput(f"{path} debe tener las columnas estudiante,fecha_limite (tiene {', '.join(rows[0])}).")
    extensions = {}
    for number, row in enumerate(rows, start=2):
        try:
            moment = datetime.fromisoformat(row["fecha_limite"].strip())
        except ValueError:
            raise BadInput(f"{path}, línea {number}: «{row['fecha_limite']}» no es una fecha; escríbela como "
                           "2026-11-27 23:59 o 2026-11-27T23:59-05:00.") from None
        extensions[row["estudiante"].strip()] = moment if moment.tzinfo else moment.replace(tzinfo=time_zone(zone_name))
    return extensions


class Platforms:
    """The platforms' own files the instructor gave, read once: where the true submission times, the
    extensions and the maximum come from, and what ``course export`` writes back."""

    def __init__(self, options: ExportOptions):
        self.options = options
        self.worksheet = read_moodle_worksheet(options.moodle_worksheet) if options.moodle_worksheet else None
        needs_zone = self.worksheet is not None and self.worksheet.dates_to_read()
        self.zone = time_zone(options.time_zone) if needs_zone or options.time_zone else None
        self.extensions = read_extensions(options.extensions, options.time_zone)
        self.gradebook = (read_canvas_gradebook(options.canvas_gradebook, options.canvas_assignment)
                          if options.canvas_gradebook else None)

    def moodle_rows(self, who: Identity | None) -> list[list[str]]:
        """The worksheet's rows a Moodle submission stands for (a group's members), none without a worksheet."""
        if self.worksheet is None or not who or who.platform != "moodle":
            return []
        return self.worksheet.rows_of(who.name, who.participant)

    def arrival(self, who: Identity | None, received: datetime | None, source: str) -> tuple[datetime | None, str]:
        """When a submission arrived, by the most trustworthy clock at hand: Moodle's worksheet, else
        what ``course grade`` recorded (a plain folder's modification time)."""
        times = [t for r in self.moodle_rows(who) if (t := self.worksheet.submitted(r, self.zone))]
        if times:
            return max(times), "Moodle (hoja de calificaciones)"
        return received, source if received else ""

    def due(self, student: str, who: Identity | None, assignment_due: datetime | None) -> datetime | None:
        """``student``'s own due date: an extension (``--extensions``, or Moodle's worksheet), else the assignment's."""
        for key in (student, who.participant if who else None):
            if key in self.extensions:
                return self.extensions[key]
        granted = [d for r in self.moodle_rows(who) if (d := self.worksheet.extension(r, self.zone))]
        return max(granted) if granted else assignment_due

    def out_of(self) -> float | None:
        """The platform's maximum: the worksheet's or the gradebook's, which must agree with ``--out-of``."""
        stated = {"--out-of": self.options.out_of,
                  "la hoja de Moodle": self.worksheet.maximum if self.worksheet else None,
                  "el libro de Canvas": self.gradebook.points_possible if self.gradebook else None}
        known = {k: v for k, v in stated.items() if v is not None}
        if len(set(known.values())) > 1:
            raise BadInput("La nota máxima no coincide: " + ", ".join(f"{k} dice {v:g}" for k, v in known.items())
                           + ". Corrige la tarea en la plataforma o --out-of, y vuelve a exportar.")
        return next(iter(known.values()), None)


def final_grades(lab: str, workdir: Path, options: ExportOptions = ExportOptions(),
                 platforms: Platforms | None = None) -> list[FinalGrade]:
    """Every graded student's final grade from the gradebook, with the identity ``course grade`` stored, the
    true submission time, their own due date and the late penalty ``options.penalty`` leaves to the course."""
    platforms = platforms or Platforms(options)
    state = gradebook.read_state(workdir)
    plugin = late_plugin(workdir)
    grades = []
    with gradebook.opened(workdir) as gb:
        assignment_due = _utc(gb.find_assignment(lab).duedate)
        for sub in gb.assignment_submissions(lab):
            cells, _ = submission_cells(sub)
            auto = sum(cell_points(v) for v in cells.values() if v["cell_type"] == "code")
            written = [v for v in cells.values() if v["cell_type"] != "code"]
            total = auto + sum(cell_points(v) for v in written)
            record = state.get(sub.student.id, StudentRecord())
            who = record.identity
            source = record.received_from.value if record.received_from else "fecha de la entrega en nbgrader"
            submitted, source = platforms.arrival(who, _utc(sub.timestamp), source)
            due = platforms.due(sub.student.id, who, assignment_due)
            seconds_late = max((submitted - due).total_seconds(), 0.0) if submitted and due else 0.0
            rule = options.penalty.for_student(who)
            penalty = 0.0
            if rule is Penalty.COURSE and seconds_late > 0:
                penalty = min(max(plugin.late_submission_penalty(sub.student.id, total, seconds_late) or 0.0, 0.0),
                              total)
            grades.append(FinalGrade(
                sub.student.id, who, auto, sum(cell_points(v) for v in written),
                sum(v["needs_manual_grade"] for v in written), sum(v["max_score"] for v in cells.values()), penalty,
                seconds_late, submitted, source, due, record.late_mark, rule))
    return sorted(grades, key=lambda g: g.student)


def export(lab: str, workdir: Path, options: ExportOptions = ExportOptions()) -> ExportResult:
    """Write every export file of ``lab`` into ``workdir/exportar`` and regenerate the feedback pages."""
    check_lab(lab)
    workdir = Path(workdir).resolve()
    if not gradebook.gradebook_path(workdir).exists():
        raise Missing(f"No hay libro de notas en {workdir}: califica antes con "
                      f"«course grade {lab} ENTREGAS».")
    if options.out_of is not None and options.out_of <= 0:
        raise BadInput(f"--out-of debe ser un número de puntos mayor que 0 (se recibió {options.out_of:g}).")
    platforms = Platforms(options)
    out_of = platforms.out_of()
    grades = final_grades(lab, workdir, options, platforms)
    if not grades:
        raise BadInput(f"El libro de notas de {workdir} no tiene ninguna entrega de {lab}.")
    on = {p: [g for g in grades if g.identity and g.identity.platform == p and not g.pending] for p in IMPORTING}
    if out_of is None and (on["moodle"] or on["canvas"]):
        raise BadInput("Para los archivos de Moodle y Canvas hace falta --out-of con la calificación máxima de la "
                       "tarea en la plataforma (p. ej. --out-of 10), o su propio archivo (--moodle-worksheet, "
                       "--canvas-gradebook): Moodle omite sin avisar una nota mayor que su máximo y Canvas la toma "
                       "como puntos extra.")
    over = [g for g in grades if not g.pending and g.final > g.max_score]
    if over:
        raise BadInput("Estas notas superan el máximo del laboratorio y la plataforma las omitiría o las tomaría "
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
        export_moodle(on["moodle"], pages, lab, folder, out_of, platforms, result)
    if on["canvas"]:
        export_canvas(on["canvas"], folder / f"canvas_{lab}.csv", out_of, platforms, result)
    unknown = [g.student for g in grades if g.identity and g.identity.platform == "moodle" and not g.submitted]
    if unknown and any(g.due for g in grades) and platforms.worksheet is None:
        result.left_out.append(f"Moodle: sin hora de entrega de {', '.join(unknown)} (la descarga no la trae): "
                               "exporta con --moodle-worksheet para saber quién entregó tarde.")
    elsewhere = [g.student for g in grades if not g.identity or g.identity.platform not in IMPORTING]
    if elsewhere:
        result.left_out.append(f"sin plataforma con importación de notas (carpeta propia, Classroom, patrón propio): "
                               f"{', '.join(elsewhere)}; sus notas están en notas_finales_{lab}.csv")
    return result


def export_moodle(grades: list[FinalGrade], pages: dict[str, Path], lab: str, folder: Path, out_of: float,
                  platforms: Platforms, result: ExportResult) -> None:
    """Moodle's worksheet (the instructor's own filled in, or one written here) and the feedback-files zip."""
    path = folder / f"moodle_{lab}.csv"
    worksheet = platforms.worksheet
    if worksheet is None:
        result.files.append(write_moodle_csv(grades, path, out_of, platforms.options.moodle_language,
                                             platforms.options.now))
        result.files.append(write_moodle_feedback_zip(
            [(g.identity.name, g.identity.participant, pages[g.student]) for g in grades if g.student in pages],
            lab, folder / f"retroalimentacion_moodle_{lab}.zip"))
        result.left_out.append("Moodle: sin --moodle-worksheet no se distingue una entrega en grupo (su carpeta lleva "
                               "el id del grupo, que puede coincidir con el de otro participante); si la tarea es en "
                               "grupo, exporta con la hoja de calificaciones de Moodle.")
        return
    updates, feedback = {}, []
    for g in grades:
        rows = platforms.moodle_rows(g.identity)
        if not rows:
            result.left_out.append(f"{g.student}: no está en la hoja de Moodle {worksheet.path.name} (¿otra tarea u "
                                   f"otro curso?); ponle la nota a mano ({g.exported(out_of)})")
        for row in rows:
            updates[worksheet.participant(row)] = (g.on_scale(out_of), _comment(g))
            if g.student in pages:
                feedback.append((worksheet.full_name(row), worksheet.participant(row), pages[g.student]))
    now = platforms.options.now or datetime.now(timezone.utc)
    result.files.append(worksheet.write(path, updates, platforms.zone, now.replace(microsecond=0)))
    result.files.append(write_moodle_feedback_zip(feedback, lab, folder / f"retroalimentacion_moodle_{lab}.zip"))


def export_canvas(grades: list[FinalGrade], path: Path, out_of: float, platforms: Platforms,
                  result: ExportResult) -> None:
    """Canvas's gradebook import: the instructor's export filled in, or one written here under a titled column."""
    anonymous = [g for g in grades if g.identity.name == "anon"]
    result.left_out += [f"{g.student}: entrega anónima de Canvas, sin id de usuario; ponle la nota a mano "
                        f"({g.exported(out_of)})" for g in anonymous]
    named = [g for g in grades if g not in anonymous]
    gradebook = platforms.gradebook
    if gradebook is not None:
        known = {r[1] for r in gradebook.students}
        result.left_out += [f"{g.student}: no está en el libro de Canvas {gradebook.path.name}; ponle la nota a mano "
                            f"({g.exported(out_of)})" for g in named if g.identity.participant not in known]
        result.files.append(gradebook.write(path, {g.identity.participant: g.on_scale(out_of) for g in named}))
        return
    title = platforms.options.canvas_assignment or ""
    if not CANVAS_TITLE.fullmatch(title):
        result.left_out.append(
            f"Canvas: sin archivo de notas, porque --canvas-assignment no da el id de la tarea (se recibió "
            f"«{title}»). Sin id, Canvas crearía una tarea nueva: exporta su libro de calificaciones y pásalo con "
            f"--canvas-gradebook, o copia el título de la columna de la tarea, p. ej. «Laboratorio 1 (98765)», y "
            f"vuelve a exportar con --canvas-assignment \"Laboratorio 1 (98765)\".")
        return
    result.files.append(write_canvas_csv(named, path, out_of, title))


def regenerate_feedback(lab: str, workdir: Path, grades: list[FinalGrade]) -> dict[str, Path]:
    """Write each student's feedback page again, now with manual scores, comments and the final grade."""
    state = gradebook.read_state(workdir)
    secret = hidden_lines(lab)
    pages = {}
    with gradebook.opened(workdir) as gb:
        for g in grades:
            executed = lab_notebook(f"autograded/{g.student}", lab, workdir)
            if not executed.exists():
                continue
            cells, comments = submission_cells(gb.find_submission(lab, g.student))
            notes = for_students(state.get(g.student, StudentRecord()).notes)
            pages[g.student] = write_feedback(
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
                        g.submitted.isoformat() if g.submitted else "", g.submitted_from,
                        g.due.isoformat() if g.due else "", f"{g.seconds_late / 3600:.2f}",
                        "sí" if g.late_mark else "", g.penalised_by.value, f"{g.late_penalty:g}",
                        "" if g.pending else f"{g.final:g}", g.exported(out_of)])
    return path


def write_moodle_csv(grades: list[FinalGrade], path: Path, out_of: float | None, language: MoodleLanguage,
                     now: datetime | None = None) -> Path:
    """Moodle's grading worksheet: one row per participant, keyed by "Participante<id>" ("Participant <id>")."""
    s = language.value
    # newer than any grade in Moodle, with its offset (PHP's strtotime reads it): the same instant in any time zone
    now = (now or datetime.now(timezone.utc)).isoformat(timespec="seconds")
    top = out_of or grades[0].max_score  # every grade of a lab has the same maximum
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([s.identifier, s.full_name, s.grade, s.maximum, s.modified, s.comments])
        for g in grades:
            w.writerow([f"{s.participant}{g.identity.participant}", g.identity.name, g.exported(out_of), f"{top:g}",
                        now, _comment(g)])
    return path


def _comment(g: FinalGrade) -> str:
    """The short Spanish comment that goes beside a grade on the platform."""
    if g.pending:
        return ""
    text = f"Automática: {g.auto:g}; respuestas escritas: {g.written:g}"
    if g.late_penalty:
        text += f"; penalización por retraso: −{g.late_penalty:g}"
    return text + f". Total: {g.final:g} de {g.max_score:g} puntos. Detalle en el archivo de retroalimentación."


def write_canvas_csv(grades: list[FinalGrade], path: Path, out_of: float | None, assignment: str) -> Path:
    """Canvas's Gradebook import file keyed by the user id, under a column titled with the assignment's id."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow([*CANVAS_COLUMNS, assignment])
        for g in grades:
            w.writerow([g.identity.name, g.identity.participant, "", "", "", g.exported(out_of)])
    return path


def write_moodle_feedback_zip(pages: list[tuple[str, str, Path]], lab: str, path: Path) -> Path:
    """Moodle's feedback-files zip: each page (full name, participant id, page) in its participant's folder,
    named as in the download."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, participant, page in pages:
            zf.write(page, f"{name}_{participant}_assignsubmission_file/retroalimentacion_{lab}.html")
    return path

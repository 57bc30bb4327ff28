"""The platforms' own files, read and written back: Moodle's grading worksheet and Canvas's gradebook.

``course export --moodle-worksheet FILE`` takes the worksheet the instructor downloaded from Moodle
(Ver todas las entregas → Acción → Descargar hoja de calificaciones) and ``--canvas-gradebook FILE``
the gradebook exported from Canvas (Calificaciones → Exportar). Each is written back with the same
columns, identifiers and language, and only the rows of students whose grade is final: a row left
out is a row the platform's importer does not touch.

What the files say and how the importers read them (cited so that the tests' oracles can follow them):

- Moodle, ``mod/assign/gradingtable.php`` (download): the titles are ``get_string`` in the language of
  the instructor's session; dates are ``userdate()`` in the instructor's profile time zone, without
  it («sábado, 5 de diciembre de 2026, 07:44», "Saturday, 5 December 2026, 7:44 AM"); an extension
  is in the status cell («Plazo ampliado hasta: …», "Extension granted until: …"); a group assignment
  has a "Group"/«Grupo» column. ``mod/assign/feedback/offline/locallib.php`` (import) reads the date
  with PHP's ``strtotime``, which cannot read a Spanish date, and skips the grade and the comment of a
  row whose date is more than 60 s older than Moodle's: so the date is written back as the same
  instant in ISO 8601 with its offset, which ``strtotime`` reads.
- Canvas, ``lib/gradebook_importer.rb``: the first columns are ``Student``, ``ID``, ``SIS User ID``,
  ``SIS Login ID``, (``Integration ID``), ``Section``; a row whose first cell says ``Points Possible``
  gives each assignment's points; students are matched by ``ID``; an assignment column by the id in
  its title, ``Laboratorio 1 (98765)``.
"""
import csv
import enum
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..course import PLATFORM_TIME_ZONE
from .vocabulary import BadInput, Missing


@dataclass(frozen=True)
class MoodleStrings:
    """The strings of one Moodle language that the worksheet shows (``lang/<xx>/assign.php``, ``moodle.php``)."""

    identifier: str  # get_string('recordid', 'assign')
    full_name: str
    grade: str  # get_string('grade')
    maximum: str  # get_string('maxgrade', 'assign')
    modified: str  # get_string('lastmodifiedgrade', 'assign')
    comments: str  # the comments plugin's editor field
    participant: str  # get_string('hiddenuser', 'assign'), byte for byte
    submitted: str  # get_string('lastmodifiedsubmission', 'assign')
    group: str  # get_string('submissionteam', 'assign')
    extension: str  # get_string('userextensiondate', 'assign') without its {$a}
    months: tuple[str, ...]


class MoodleLanguage(enum.Enum):
    """The worksheet's strings in the language of the instructor's Moodle (es and en language packs)."""

    ES = MoodleStrings("Identificador", "Nombre completo", "Calificación", "Calificación máxima",
                       "Última modificación (calificación)", "Comentarios de retroalimentación", "Participante",
                       "Última modificación (entrega)", "Grupo", "Plazo ampliado hasta: ",
                       ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre",
                        "octubre", "noviembre", "diciembre"))
    EN = MoodleStrings("Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)",
                       "Feedback comments", "Participant ",  # with its space, as lang/en/assign.php has it
                       "Last modified (submission)", "Group", "Extension granted until: ",
                       ("january", "february", "march", "april", "may", "june", "july", "august", "september",
                        "october", "november", "december"))


#: A date as Moodle's ``userdate()`` writes it in Spanish or English: the day, the month's name, the year,
#: the time (with AM/PM in English).
MOODLE_DATE = re.compile(r"(?P<day>\d{1,2})(?: de)? (?P<month>[^\W\d_]+)(?: de)? (?P<year>\d{4}),? "
                         r"(?P<hour>\d{1,2}):(?P<minute>\d{2})(?:\s*(?P<half>[AaPp])\.?\s?[Mm]\.?)?")
#: A Canvas column title that names its assignment's id (``Assignment.title_and_id``): ``Laboratorio 1 (98765)``.
CANVAS_TITLE = re.compile(r".*\S\s*\((\d+)\)\s*")
#: The gradebook's columns before the assignments (``GRADEBOOK_IMPORTER_RESERVED_NAMES``).
CANVAS_STUDENT_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID", "Root Account", "Section")
CANVAS_NOT_ASSIGNMENTS = re.compile(r"Current Score|Current Points|Current Grade|Final Score|Final Points|Final Grade|"
                                    r"Override Score|Override Grade|Override Status")


def time_zone(name: str | None) -> ZoneInfo:
    """The time zone ``name`` (``Europe/Madrid``), else the course's ``PLATFORM_TIME_ZONE``, or a Spanish error
    that says how to give it."""
    name = name or PLATFORM_TIME_ZONE
    if not name:
        raise BadInput("Las fechas de la hoja de Moodle no dicen su zona horaria (son las de tu perfil de Moodle): "
                       "indícala con --time-zone, p. ej. --time-zone America/Bogota o Europe/Madrid, o una sola "
                       "vez en helpers/course.py (PLATFORM_TIME_ZONE).")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise BadInput(f"«{name}» no es una zona horaria: escribe una como America/Mexico_City o Europe/Madrid.") \
            from None


def moodle_date(text: str, zone: ZoneInfo) -> datetime | None:
    """The instant a worksheet's date means in ``zone``, or None where the cell holds no date ("-", "")."""
    m = MOODLE_DATE.search(text or "")
    if not m:
        return None
    month = m["month"].lower()
    months = [lang.value.months for lang in MoodleLanguage]
    number = next((names.index(month) + 1 for names in months if month in names), None)
    if number is None:
        raise BadInput(f"No se entiende la fecha «{text}» de la hoja de Moodle (¿otro idioma? Descárgala con Moodle "
                       "en español o en inglés).")
    hour = int(m["hour"])
    if m["half"]:  # English: 12:30 AM is 00:30, 12:30 PM is 12:30
        hour = hour % 12 + (12 if m["half"].lower() == "p" else 0)
    return datetime(int(m["year"]), number, int(m["day"]), hour, int(m["minute"]), tzinfo=zone)


def _number(text: str) -> float | None:
    """A number as Moodle or Canvas wrote it ("10,00", "10.5"), or None."""
    try:
        return float(text.strip().replace(",", "."))
    except ValueError:
        return None


def _read_csv(path: Path, what: str) -> tuple[list[list[str]], bool]:
    """The rows of a platform's CSV and whether it starts with a byte-order mark (kept when written back)."""
    path = Path(path)
    if not path.is_file():
        raise Missing(f"No existe {what} {path}.")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise BadInput(f"{path} no está en UTF-8: descarga {what} otra vez, sin abrirla ni guardarla con Excel.") \
            from None
    return list(csv.reader(text.splitlines())), data.startswith(b"\xef\xbb\xbf")


def _write_csv(path: Path, rows: list[list[str]], bom: bool) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


@dataclass
class MoodleWorksheet:
    """Moodle's grading worksheet as downloaded: its titles, rows and language."""

    path: Path
    language: MoodleLanguage
    header: list[str]
    rows: list[list[str]]
    bom: bool

    def cell(self, row: list[str], title: str) -> str:
        """The cell of ``row`` under ``title`` ("" where the worksheet has no such column)."""
        return row[self.header.index(title)] if title in self.header and self.header.index(title) < len(row) else ""

    def participant(self, row: list[str]) -> str:
        """The participant id a row's identifier carries (what the importer strips the prefix from)."""
        return self.cell(row, self.language.value.identifier)[len(self.language.value.participant):]

    @property
    def maximum(self) -> float | None:
        """The assignment's maximum grade, as every row states it."""
        values = {_number(self.cell(r, self.language.value.maximum)) for r in self.rows} - {None}
        return values.pop() if len(values) == 1 else None

    @property
    def decimal_comma(self) -> bool:
        """Whether this Moodle writes numbers with a decimal comma ("10,00")."""
        return any("," in self.cell(r, self.language.value.maximum) for r in self.rows)

    def rows_of(self, name: str, participant: str) -> list[list[str]]:
        """The rows a download's folder ``<name>_<participant>_assignsubmission_file`` stands for: in a group
        assignment (a "Group" column) the folder names the group and its id, so every member's row; else the
        participant's own row."""
        s = self.language.value
        if s.group in self.header:
            members = [r for r in self.rows if self.cell(r, s.group) == name]
            if members:
                return members
        return [r for r in self.rows if self.participant(r) == participant]

    def full_name(self, row: list[str]) -> str:
        return self.cell(row, self.language.value.full_name)

    def submitted(self, row: list[str], zone: ZoneInfo) -> datetime | None:
        """When the row's student last changed their submission, by Moodle's clock."""
        return moodle_date(self.cell(row, self.language.value.submitted), zone)

    def extension(self, row: list[str], zone: ZoneInfo) -> datetime | None:
        """The row's extended due date, if Moodle granted one (it is written in the status cell)."""
        prefix = self.language.value.extension
        for value in row:
            if prefix in value:
                return moodle_date(value.split(prefix, 1)[1], zone)
        return None

    def dates_to_read(self) -> bool:
        """Whether any row holds a date (so the time zone of the instructor's Moodle profile is needed)."""
        return any(MOODLE_DATE.search(v) for r in self.rows for v in r)

    def write(self, path: Path, updates: dict[str, tuple[float, str]], zone: ZoneInfo | None, now: datetime) -> Path:
        """The worksheet with only the rows in ``updates`` (participant id → grade, comment), filled in.

        "Last modified (grade)" becomes the same instant with its offset: the date Moodle wrote (so that a
        grade changed in Moodle after the download is still protected), or ``now`` where it had none."""
        s = self.language.value
        rows = [list(self.header)]
        for row in self.rows:
            if self.participant(row) not in updates:
                continue
            grade, comment = updates[self.participant(row)]
            row = row + [""] * (len(self.header) - len(row))
            text = f"{round(grade, 2):g}"
            row[self.header.index(s.grade)] = text.replace(".", ",") if self.decimal_comma else text
            if s.comments in self.header:
                row[self.header.index(s.comments)] = comment
            graded = moodle_date(row[self.header.index(s.modified)], zone) if zone else None
            row[self.header.index(s.modified)] = (graded or now).isoformat(timespec="seconds")
            rows.append(row)
        return _write_csv(path, rows, self.bom)


def read_moodle_worksheet(path: Path) -> MoodleWorksheet:
    """Read Moodle's grading worksheet, or say in Spanish why it cannot be used."""
    rows, bom = _read_csv(path, "la hoja de calificaciones de Moodle")
    if not rows:
        raise BadInput(f"{path} está vacía: descarga otra vez la hoja de calificaciones de Moodle.")
    header = rows[0]
    language = next((lang for lang in MoodleLanguage if lang.value.identifier in header), None)
    if language is None:
        raise BadInput(f"{path} no es una hoja de calificaciones de Moodle en español ni en inglés (no tiene la columna "
                       "«Identificador» ni «Identifier»). Cambia el idioma de Moodle a español o inglés, descárgala "
                       "de nuevo (Ver todas las entregas → Acción → Descargar hoja de calificaciones) y vuelve a "
                       "exportar.")
    missing = [t for t in (language.value.grade, language.value.modified) if t not in header]
    if missing:
        raise BadInput(f"A la hoja {path} le faltan las columnas {', '.join(missing)}: Moodle no la importaría. "
                       "Descárgala de nuevo sin cambiarla.")
    return MoodleWorksheet(Path(path), language, header, [r for r in rows[1:] if any(r)], bom)


@dataclass
class CanvasGradebook:
    """Canvas's exported gradebook: its student columns, the assignment's column and its points possible."""

    path: Path
    header: list[str]
    students: list[list[str]]  # one row per student
    points_row: list[str] | None
    column: int  # the assignment's column
    info: int  # how many columns before the assignments say who the student is
    bom: bool

    @property
    def title(self) -> str:
        return self.header[self.column]

    @property
    def points_possible(self) -> float | None:
        return _number(self.points_row[self.column]) if self.points_row else None

    def write(self, path: Path, grades: dict[str, float]) -> Path:
        """The gradebook with its student columns and this assignment's only, and only the rows in ``grades``
        (Canvas user id → points)."""
        rows = [self.header[:self.info] + [self.title]]
        if self.points_row:
            rows.append(self.points_row[:self.info] + [self.points_row[self.column]])
        rows += [r[:self.info] + [f"{round(grades[r[1]], 2):g}"] for r in self.students if r[1] in grades]
        return _write_csv(path, rows, self.bom)


def read_canvas_gradebook(path: Path, assignment: str | None) -> CanvasGradebook:
    """Read Canvas's exported gradebook and find the assignment's column (by its title, or the only one)."""
    rows, bom = _read_csv(path, "el libro de calificaciones de Canvas")
    if not rows or len(rows[0]) < 4 or "Student" not in rows[0][0] or "ID" not in rows[0][1]:
        raise BadInput(f"{path} no es un libro de calificaciones exportado de Canvas (su primera fila debe empezar por "
                       "Student, ID). Expórtalo de nuevo: Calificaciones → Exportar → CSV.")
    header = rows[0]
    info = max(i for i, title in enumerate(header) if title in CANVAS_STUDENT_COLUMNS) + 1
    assignments = [i for i in range(info, len(header))
                   if CANVAS_TITLE.fullmatch(header[i]) and not CANVAS_NOT_ASSIGNMENTS.search(header[i])]
    chosen = [i for i in assignments if header[i].strip() == assignment.strip()] if assignment else assignments
    if len(chosen) != 1:
        titles = ", ".join(f"«{header[i]}»" for i in assignments) or "ninguna"
        raise BadInput(f"En {path} no se sabe cuál es la tarea"
                       + (f": no hay ninguna columna «{assignment}»" if assignment else "")
                       + f". Columnas de tareas: {titles}. Elige una con --canvas-assignment \"Título (id)\".")
    special = [r for r in rows[1:] if r and ("Points Possible" in r[0]
                                             or all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in r))]
    points = next((r for r in special if "Points Possible" in r[0]), None)
    students = [r for r in rows[1:] if r not in special and len(r) > chosen[0]]
    return CanvasGradebook(Path(path), header, students, points, chosen[0], info, bom)

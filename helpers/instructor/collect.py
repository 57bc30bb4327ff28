"""Collect submissions from a folder or a learning platform's zip and name each file's student.

Student ids come from file names. ``PLATFORMS`` holds the naming of the common platforms; ``auto``
tries them in order and falls back to the file name itself. Where the platform gives a participant
id (Moodle, Canvas) it is part of the student id, so two students with the same name never become
one. A custom pattern is any regular expression with a named group ``student`` (or
``estudiante``), and optionally ``id``, matched against the file's path relative to the
submissions folder (``/`` separators).

Each file keeps its :class:`Identity` (the platform, the name and participant id as the platform
wrote them) so that grades can go back to the platform, and what its name says of its date. A
platform's zip never gives the submission time: Moodle 4.1 and later and Canvas stamp every member
with the moment of the download, so a zip member's date is never read. Canvas marks a late
submission in its name (``LATE``), kept as :attr:`Submission.late_mark`; in a plain folder the date
is the file's modification time (:class:`TimeSource`). Whatever is doubtful (two
spellings of one student, several different notebooks, online text without a notebook) is resolved
by a stated rule and named in ``Submission.doubt`` for the report, never silently.

A zip is unpacked defensively: members that would land outside the unpack folder (``..``, absolute
paths, links) are skipped and named, and size limits stop a zip bomb before anything is written.
"""
import enum
import hashlib
import json
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from .vocabulary import BadInput, Missing, Note, Status

#: How each platform names downloaded submissions (matched against the path inside the download).
PLATFORMS = {
    # Moodle «Descargar todas las entregas»: "Ana García_123456_assignsubmission_file_lab1.ipynb", or a
    # folder per student, "Ana García_123456_assignsubmission_file/lab1.ipynb" (Moodle 4; 3 adds a "_").
    "moodle": r"(?:^|/)(?P<student>[^/]+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)(?:_|/|$)(?P<file>.*)$",
    # Canvas «Download Submissions» (lib/content_zipper.rb, get_filename): the sortable name lower-cased without
    # non-word characters (accents stay), "LATE" when late, the user id, the file id:
    # "garcíaana_12345_67890_lab1.ipynb", "garcíaana_LATE_12345_67890_lab1-1.ipynb"; with anonymous grading
    # no name and "anon_" + the submission's 5 base58 characters (lib/anonymity.rb): "LATE_anon_Ab3dE_67890_lab1.ipynb".
    "canvas": r"(?:^|/)(?P<late_anon>LATE_)?(?P<student>[^\W_]+)_(?P<late>late_|LATE_)?"
              r"(?P<id>\d+|(?<=anon_)[1-9A-HJ-NP-Za-km-z]{5})_\d+_(?P<file>[^/]*)$",
    # Google Classroom (carpeta de Drive descargada): "Ana García - lab1_convolutions.ipynb".
    "classroom": r"(?:^|/)(?P<student>[^/]+?) - (?P<file>[^/]*)$",
    # Plain folder: the file name is the student id ("ana_garcia.ipynb"; "ana_garcia-1.ipynb" and Drive's
    # "ana_garcia (1).ipynb" resubmit), or the folder's when the file has the lab's name ("ana_garcia/lab1.ipynb").
    "nombre": r"(?:^|/)(?P<file>(?P<student>[^/]+?)(?:-\d+| \(\d+\))?\.[^./]*)$",
}
CUSTOM = "patrón propio"

#: Colab's "Save a copy in Drive" prefix, in Spanish and English; it says nothing about who sent the file.
COLAB_COPY = re.compile(r"^(?:(?:copia de|copy of)\s+)+", re.IGNORECASE)
#: Moodle's folder for the group submission of students in no group (``get_string('defaultteam', 'assign')``,
#: en and es): it carries no id, so nobody can be told from it.
MOODLE_DEFAULT_GROUP = re.compile(r"(?:^|/)(?:Default group|Grupo por defecto)_assignsubmission_")
#: A name that is a lab's notebook name ("lab1_convolutions", "lab1"), not a student's.
LAB_NAME = re.compile(r"^lab\d")
#: Numbering that platforms and Drive add to a resubmitted file: "lab1-1.ipynb", "lab1 (2).ipynb".
VERSION = re.compile(r"^(?P<base>.*?)(?:-(?P<n>\d+)| \((?P<drive>\d+)\))?(?P<ext>\.[^./]*)?$")

IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")

#: The longest student id: it names folders (``entregas/<id>``, nbgrader's ``submitted/<id>``) and gradebook rows.
MAX_ID = 64
#: Where :func:`unpack` writes a member whose name the file system cannot hold, under a short name; the
#: file ``NAMES`` inside maps each short name to the member's own, which :func:`collect` reads back.
LONG_NAMES = ".nombres_largos"
NAMES = "nombres.json"
NAME_MAX, PATH_MAX = 255, 4096  # bytes: Linux's limits for one part of a path and for the whole path


@dataclass(frozen=True)
class Identity:
    """Who sent a file, as the platform wrote it: what grades and feedback need to go back."""

    student: str  # the student id used everywhere ("ana_garcia_1234567")
    platform: str  # a key of PLATFORMS, or CUSTOM
    name: str  # the name as the platform wrote it ("Ana García", "garcíaana"); the file name in a plain folder
    participant: str = ""  # the platform's participant id ("1234567"); "" where the platform gives none
    file: str = ""  # the file's own name inside the student's part of the download

    def record(self) -> dict:
        """The identity as stored in ``estado.json`` (Spanish keys), read back by :meth:`from_record`."""
        return {"plataforma": self.platform, "nombre": self.name, "id_plataforma": self.participant,
                "archivo_propio": self.file}

    @classmethod
    def from_record(cls, student: str, record: dict) -> "Identity":
        """The identity :meth:`record` stored for ``student``."""
        return cls(student, record["plataforma"], record["nombre"], record["id_plataforma"], record["archivo_propio"])

    def first_last(self) -> tuple[str | None, str | None]:
        """First and last name for nbgrader: Moodle and Classroom write "First Last" (split at the first
        space), Canvas only a joined sortable name (kept whole as the last name); a file name gives none."""
        if self.platform in ("moodle", "classroom") and " " in self.name.strip():
            first, last = self.name.strip().split(None, 1)
            return first, last
        if self.platform in ("moodle", "classroom", "canvas"):
            return None, self.name
        return None, None


class Unidentified(enum.Enum):
    """Why a notebook's file name does not say whose it is (the value is the report's Spanish line)."""

    NO_MATCH = "su nombre no sigue el patrón de nombres indicado: no se sabe de quién es"
    MOODLE_DEFAULT_GROUP = ("es la entrega del «grupo por defecto» de Moodle (estudiantes de una tarea en grupo que no "
                            "están en ningún grupo): no lleva id y no se sabe de quién es; ponlos en un grupo en Moodle "
                            "y vuelve a descargar, o renombra el archivo con el nombre del estudiante")
    LAB_NAME = ("es el nombre del enunciado o el que pone Colab a su copia («Copia de …», «Copy of …»): no dice de "
                "quién es; renómbralo con el nombre del estudiante (p. ej. ana_garcia.ipynb) y vuelve a calificar")


class TimeSource(enum.Enum):
    """Where a submission's date came from (the value is how the report says it)."""

    FILE = "fecha de modificación del archivo en la carpeta"


@dataclass
class Submission:
    """One file found in the submissions, with its student id (if any) and what happened to it."""

    name: str  # path relative to the submissions folder or zip, as the instructor sees it
    path: Path  # where the file lies on disk now
    student: str | None = None
    status: Status = Status.PENDING
    notes: list[Note] = field(default_factory=list)
    review: str = ""  # set by grading: what the instructor should look at by hand
    identity: Identity | None = None
    received: datetime | None = None  # UTC; see ``received_from``; None from a platform's zip
    received_from: TimeSource | None = None
    late_mark: bool = False  # the platform's name says it was late (Canvas's "LATE"), without the time
    doubt: str = ""  # a doubtful case and how it was resolved, for the top of the report


#: Limits that stop a zip bomb before (and while) anything is written.
ZIP_MAX_MEMBERS = 20_000
ZIP_MAX_FILE = 256 * 2**20  # bytes, one member
ZIP_MAX_TOTAL = 4 * 2**30  # bytes, all members
ZIP_MAX_RATIO = 200  # uncompressed / compressed, for members over 1 MiB


def slug(text: str) -> str:
    """A student id from a name: ASCII lower case, words joined by ``_`` ("Ana García" -> "ana_garcia").

    A name with nothing ASCII in it (emoji, another script) gets a short hash of itself, so two
    such names never share an id.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return (re.sub(r"[^a-z0-9.-]+", "_", ascii_text.lower()).strip("_.-")
            or "sin_nombre_" + _short_hash(text))


def _short_hash(text: str) -> str:
    # surrogatepass: a file name the file system could not decode holds lone surrogates, and is still a name
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def bounded_id(student: str) -> str:
    """``student`` if it has at most :data:`MAX_ID` characters; else its start and a short hash of the whole
    id ("<first 55 characters>_<8 hex digits>"), so that two long ids sharing their start never become one."""
    if len(student) <= MAX_ID:
        return student
    return f"{student[:MAX_ID - 9].rstrip('_.-')}_{_short_hash(student)}"


def compile_pattern(pattern: str | None) -> list[tuple[str, re.Pattern]]:
    """The (platform, regular expression) pairs to try for ``pattern``: a platform name, ``auto`` (all)
    or a custom regex."""
    if pattern in (None, "", "auto"):
        return [(platform, re.compile(p)) for platform, p in PLATFORMS.items()]
    if pattern in PLATFORMS:
        return [(pattern, re.compile(PLATFORMS[pattern]))]
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise BadInput(f"El patrón de nombres «{pattern}» no es una expresión regular válida: {e}.") from None
    if not {"student", "estudiante"} & set(regex.groupindex):
        raise BadInput(f"El patrón de nombres «{pattern}» debe tener un grupo con nombre "
                       "(?P<estudiante>...) que capture el identificador del estudiante.")
    return [(CUSTOM, regex)]


def identify(name: str, patterns: list[tuple[str, re.Pattern]]) -> Identity | Unidentified:
    """Who sent ``name`` (a relative path) under ``patterns``, or why that cannot be told."""
    if any(p == "moodle" for p, _ in patterns) and MOODLE_DEFAULT_GROUP.search(name):
        return Unidentified.MOODLE_DEFAULT_GROUP
    for platform, m in _matches(name, patterns):
        groups = m.groupdict()
        raw = (groups.get("student") or groups.get("estudiante") or "").strip()
        if platform in ("nombre", "classroom"):
            raw = COLAB_COPY.sub("", raw)
            if platform == "nombre" and LAB_NAME.match(slug(raw)) and "/" in name:
                raw = COLAB_COPY.sub("", name.rsplit("/", 2)[-2])  # a folder per student: "ana_garcia/lab1.ipynb"
            if not raw or LAB_NAME.match(slug(raw)):
                return Unidentified.LAB_NAME
        participant = groups.get("id") or ""
        student = bounded_id(f"{slug(raw)}_{participant}" if participant else slug(raw))
        return Identity(student, platform, raw, participant, groups.get("file") or name.rsplit("/", 1)[-1])
    return Unidentified.NO_MATCH


def _matches(name: str, patterns: list[tuple[str, re.Pattern]]):
    """(platform, match) of each pattern that ``name`` matches, in the patterns' order."""
    for platform, regex in patterns:
        if m := regex.search(name):
            yield platform, m


def late_mark(name: str, patterns: list[tuple[str, re.Pattern]]) -> bool:
    """Whether the platform's name for ``name`` marks it late (Canvas's ``LATE``); no platform says by how much."""
    first = next(_matches(name, patterns), None)
    return bool(first) and any(first[1].groupdict().get(g) for g in ("late", "late_anon"))


def student_of(name: str, patterns: list[tuple[str, re.Pattern]]) -> str | None:
    """The student id that ``name`` (a relative path) gives under ``patterns``, or None."""
    who = identify(name, patterns)
    return who.student if isinstance(who, Identity) else None


def unpack(submissions: Path, into: Path) -> tuple[Path, list[Submission]]:
    """The folder to read submissions from (``submissions`` itself, or a zip unpacked into ``into``)
    and the zip's members that were not unpacked, each with the reason."""
    submissions = Path(submissions)
    if submissions.is_dir():
        return submissions, []
    if not submissions.exists():
        raise Missing(f"No existe la carpeta o el zip de entregas {submissions}.")
    if not zipfile.is_zipfile(submissions):
        raise BadInput(f"{submissions} no es ni una carpeta ni un archivo zip de entregas.")
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    refused, long_names = [], {}
    with zipfile.ZipFile(submissions) as zf:
        members = zf.infolist()
        total = sum(i.file_size for i in members)
        if len(members) > ZIP_MAX_MEMBERS or total > ZIP_MAX_TOTAL:
            raise BadInput(f"{submissions} declara {len(members)} archivos y {total / 2**30:.1f} GiB sin comprimir: "
                           f"supera los límites ({ZIP_MAX_MEMBERS} archivos, {ZIP_MAX_TOTAL / 2**30:g} GiB). "
                           "No se ha descomprimido nada; ¿es la descarga correcta?")
        for info in members:
            why = _unsafe(info, into)
            if info.is_dir() and why is None:
                continue  # folders are made as needed
            target, shortened = into / info.filename, why is None and _too_long(into / info.filename)
            if shortened:
                suffix = PurePosixPath(info.filename).suffix
                target = into / LONG_NAMES / f"{_short_hash(info.filename)}{suffix if len(suffix) <= 16 else ''}"
            if why is None:
                why = _extract_within_limits(zf, info, target)
            if why is None and shortened:
                long_names[target.relative_to(into).as_posix()] = info.filename
            elif why is not None:
                sub = Submission(info.filename, Path(info.filename), status=Status.IGNORED)
                sub.notes.append(Note(f"no se descomprime: {why}"))
                refused.append(sub)
    if long_names:
        (into / LONG_NAMES / NAMES).write_text(json.dumps(long_names))  # ASCII: any name can be written
    return into, refused


def _too_long(path: Path) -> bool:
    """Whether the file system cannot hold ``path``: a part longer than it allows, or the whole path."""
    return (any(len(part.encode("utf-8", "surrogatepass")) > NAME_MAX for part in path.parts)
            or len(str(path).encode("utf-8", "surrogatepass")) >= PATH_MAX)


def _unsafe(info: zipfile.ZipInfo, into: Path) -> str | None:
    """Why a zip member must not be written, or None."""
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in re.split(r"[/\\]", name):
        return "su ruta sale de la carpeta de entregas (ruta absoluta o con «..»)"
    if re.split(r"[/\\]", name)[0] == LONG_NAMES:
        return f"usa la carpeta «{LONG_NAMES}», reservada para los nombres demasiado largos"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "es un enlace simbólico"
    if not (into / name).resolve().is_relative_to(into.resolve()):
        return "su ruta sale de la carpeta de entregas"
    if info.file_size > ZIP_MAX_FILE:
        return f"ocupa {info.file_size / 2**20:.0f} MiB sin comprimir (máximo {ZIP_MAX_FILE / 2**20:.0f} MiB)"
    if info.file_size > 2**20 and info.file_size > ZIP_MAX_RATIO * max(info.compress_size, 1):
        return "se comprime de forma anómala (posible bomba zip)"
    return None


def _extract_within_limits(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path) -> str | None:
    """Write one member, stopping if it turns out larger than it declared; return why it failed, or None."""
    target.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    try:
        with zf.open(info) as src, open(target, "wb") as dst:
            while chunk := src.read(2**20):
                written += len(chunk)
                if written > min(info.file_size, ZIP_MAX_FILE):
                    raise ValueError
                dst.write(chunk)
    except ValueError:
        target.unlink(missing_ok=True)
        return "es más grande de lo que declara el zip"
    except (zipfile.BadZipFile, OSError, EOFError) as e:
        target.unlink(missing_ok=True)
        return f"está dañado en el zip ({type(e).__name__})"
    return None


def _version(sub: Submission) -> tuple[str, int]:
    """The file's own name without platform numbering, and that number ("lab-2.ipynb" -> ("lab", 2))."""
    m = VERSION.match(sub.identity.file if sub.identity else sub.name)
    return m.group("base").strip().lower(), int(m.group("n") or m.group("drive") or 0)


def collect(folder: Path, pattern: str | None = None, zipped: bool = False) -> list[Submission]:
    """Every file under ``folder``, sorted by name, each with its student, date, and fate.

    ``zipped`` says ``folder`` was unpacked from a platform's zip: its files' dates are the download's,
    so they are not read. When one student has several notebooks, see :func:`choose_latest`.
    """
    patterns = compile_pattern(pattern)
    names = _long_names(Path(folder)) if zipped else {}
    found = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() or p.is_symlink()):
        name = path.relative_to(folder).as_posix()
        if names and name == f"{LONG_NAMES}/{NAMES}":
            continue
        sub = Submission(names.get(name, name), path)
        try:
            found.append(_inspect(sub, patterns, None if zipped else TimeSource.FILE))
        except Exception as e:  # one file never stops the class
            sub.status, sub.student = Status.FAILED, None
            sub.notes.append(Note(f"no se pudo saber de quién es ni su fecha ({type(e).__name__}: {e}); no se califica"))
            found.append(sub)
    by_student: dict[str, list[Submission]] = {}
    for sub in found:
        if sub.student and sub.status is Status.PENDING:
            by_student.setdefault(sub.student, []).append(sub)
    for subs in by_student.values():
        choose_latest(subs)
    _name_online_text(found, set(by_student))
    return found


def _long_names(folder: Path) -> dict[str, str]:
    """What :func:`unpack` wrote under a short name: ``{short name: the zip member's own name}``."""
    path = folder / LONG_NAMES / NAMES
    return json.loads(path.read_text()) if path.is_file() else {}


def _inspect(sub: Submission, patterns, source: TimeSource | None) -> Submission:
    """Fill in one file's student, identity and date (none without ``source``), or mark it ignored with the reason."""
    path, shown = sub.path, PurePosixPath(sub.name)  # shown: the name as received (the path may be shortened)
    if path.is_symlink():
        sub.status = Status.IGNORED
        sub.notes.append(Note("es un enlace simbólico: no se sigue"))
        return sub
    if source is TimeSource.FILE:
        sub.received = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc).replace(microsecond=0)
        sub.received_from = source
    if any(part in IGNORED_PARTS for part in shown.parts) or shown.name.startswith("."):
        sub.status = Status.IGNORED
        sub.notes.append(Note("archivo auxiliar del sistema (no es una entrega)"))
    elif shown.suffix.lower() != ".ipynb":
        sub.status = Status.IGNORED
        sub.notes.append(Note("no es un cuaderno (.ipynb)"))
        who = identify(sub.name, patterns)
        sub.identity = who if isinstance(who, Identity) else None
    else:
        who = identify(sub.name, patterns)
        if isinstance(who, Unidentified):
            sub.status = Status.IGNORED
            sub.notes.append(Note(who.value))
            if who is Unidentified.LAB_NAME:
                sub.doubt = "cuaderno sin nombre de estudiante: no se califica"
        else:
            sub.identity, sub.student = who, who.student
            sub.late_mark = late_mark(sub.name, patterns)
    return sub


def choose_latest(subs: list[Submission]) -> None:
    """Keep one of a student's notebooks; the others are ignored.

    Files that differ only by the platform's numbering ("lab1.ipynb", "lab1-1.ipynb") are versions:
    the highest number is graded. Anything else (two spellings of the name, two different notebooks)
    is doubtful: the most recent by date is graded (the last by name where there are no dates, as in a
    platform's zip) and every file says so in ``doubt``.
    """
    spellings = {s.identity.name for s in subs}
    files = {_version(s)[0] for s in subs}
    if len(spellings) > 1 or len(files) > 1:
        subs.sort(key=lambda s: (s.received or datetime.min.replace(tzinfo=timezone.utc), s.name))
        what = (f"nombres escritos de forma distinta ({', '.join(f'«{n}»' for n in sorted(spellings))}) que dan el "
                "mismo estudiante" if len(spellings) > 1 else "varios cuadernos distintos del mismo estudiante")
        rule = ("el más reciente por fecha" if all(s.received for s in subs) else
                "el último por orden de nombre (la descarga de la plataforma no dice cuándo se envió cada uno)")
        doubt = (f"{what}: {', '.join(s.name for s in subs)}; se califica {rule}, {subs[-1].name}; comprueba que es "
                 "el que debe contar")
        for sub in subs:
            sub.doubt = doubt
    else:
        subs.sort(key=lambda s: (_version(s)[1], s.name))
    for older in subs[:-1]:
        older.status = Status.IGNORED
        older.notes.append(Note(f"{older.student} tiene otra entrega posterior ({subs[-1].name}); se califica esa"))


def _name_online_text(found: list[Submission], with_notebook: set[str]) -> None:
    """Say what Moodle's online text is: not graded, and doubtful when its student sent no notebook."""
    for sub in found:
        if PurePosixPath(sub.name).name == "onlinetext.html" or "assignsubmission_onlinetext" in sub.name:
            sub.notes[-1:] = [Note("texto en línea de Moodle (onlinetext.html): no se califica; léelo en Moodle")]
            if sub.identity and sub.identity.student not in with_notebook:
                sub.doubt = "texto en línea de Moodle sin ningún cuaderno del mismo estudiante"

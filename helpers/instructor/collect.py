"""Collect submissions from a folder or a learning platform's zip and name each file's student.

Student ids come from file names. ``PLATFORMS`` holds the naming of the common platforms; ``auto``
tries them in order and falls back to the file name itself. A custom pattern is any regular
expression with a named group ``student`` (or ``estudiante``), matched against the file's path
relative to the submissions folder (``/`` separators).
"""
import re
import shutil
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

#: How each platform names downloaded submissions (matched against the path inside the download).
PLATFORMS = {
    # Moodle «Descargar todas las entregas»: "Ana García_123456_assignsubmission_file_lab1.ipynb",
    # or a folder per student: "Ana García_123456_assignsubmission_file_/lab1.ipynb".
    "moodle": r"(?:^|/)(?P<student>[^/_]+)_\d+_assignsubmission_(?:file|onlinetext)_",
    # Canvas «Download Submissions»: "garciaana_12345_67890_lab1.ipynb", "garciaana_LATE_12345_67890_lab1-1.ipynb".
    "canvas": r"(?:^|/)(?P<student>[A-Za-z0-9]+)_(?:LATE_)?\d+_\d+_[^/]*$",
    # Google Classroom (carpeta de Drive descargada): "Ana García - lab1_convolutions.ipynb".
    "classroom": r"(?:^|/)(?P<student>[^/]+?) - [^/]*$",
    # Plain folder: the file name is the student id ("ana_garcia.ipynb").
    "nombre": r"(?:^|/)(?P<student>[^/]+?)\.[^./]*$",
}

IGNORED_PARTS = ("__MACOSX", ".ipynb_checkpoints")


@dataclass
class Submission:
    """One file found in the submissions, with its student id (if any) and what happened to it."""

    name: str  # path relative to the submissions folder or zip, as the instructor sees it
    path: Path  # where the file lies on disk now
    student: str | None = None
    status: str = "pendiente"
    notes: list[str] = field(default_factory=list)
    review: str = ""  # set by grading: what the instructor should look at by hand


def slug(text: str) -> str:
    """A student id from a name: ASCII lower case, words joined by ``_`` ("Ana García" -> "ana_garcia")."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9.-]+", "_", text.lower()).strip("_.-") or "sin_nombre"


def compile_pattern(pattern: str | None) -> list[re.Pattern]:
    """The regular expressions to try for ``pattern``: a platform name, ``auto`` (all) or a custom regex."""
    if pattern in (None, "", "auto"):
        return [re.compile(p) for p in PLATFORMS.values()]
    if pattern in PLATFORMS:
        return [re.compile(PLATFORMS[pattern])]
    try:
        regex = re.compile(pattern)
    except re.error as e:
        raise ValueError(f"El patrón de nombres «{pattern}» no es una expresión regular válida: {e}.") from None
    if not {"student", "estudiante"} & set(regex.groupindex):
        raise ValueError(f"El patrón de nombres «{pattern}» debe tener un grupo con nombre "
                         "(?P<estudiante>...) que capture el identificador del estudiante.")
    return [regex]


def student_of(name: str, patterns: list[re.Pattern]) -> str | None:
    """The student id that ``name`` (a relative path) gives under ``patterns``, or None if none matches."""
    for regex in patterns:
        m = regex.search(name)
        if m:
            groups = m.groupdict()
            return slug(groups.get("student") or groups.get("estudiante") or "")
    return None


def unpack(submissions: Path, into: Path) -> Path:
    """The folder to read submissions from: ``submissions`` itself, or a zip unpacked into ``into``."""
    submissions = Path(submissions)
    if submissions.is_dir():
        return submissions
    if not submissions.exists():
        raise FileNotFoundError(f"No existe la carpeta o el zip de entregas {submissions}.")
    if not zipfile.is_zipfile(submissions):
        raise ValueError(f"{submissions} no es ni una carpeta ni un archivo zip de entregas.")
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    with zipfile.ZipFile(submissions) as zf:
        for info in zf.infolist():
            target = (into / info.filename).resolve()
            if info.is_dir() or not str(target).startswith(str(into.resolve())):
                continue  # folders are made as needed; never write outside `into`
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(info) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst)
    return into


def _version_key(sub: "Submission") -> tuple:
    """Sort key putting numbered resubmissions ("lab-1.ipynb", "lab-2.ipynb") after the first one."""
    m = re.match(r"^(.*?)(?:-(\d+))?(\.[^./]*)?$", sub.name)
    return (m.group(1), int(m.group(2) or 0), sub.name)


def collect(folder: Path, pattern: str | None = None) -> list[Submission]:
    """Every file under ``folder``, sorted by name, each with its student id or the reason it is skipped.

    When one student has several notebooks, the last by name is graded (platforms number
    resubmissions so that they sort last: "-1", "-2"...) and the others are reported as replaced.
    """
    patterns = compile_pattern(pattern)
    found = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file()):
        name = path.relative_to(folder).as_posix()
        sub = Submission(name, path)
        if any(part in IGNORED_PARTS for part in path.parts) or path.name.startswith("."):
            sub.status = "ignorado"
            sub.notes.append("archivo auxiliar del sistema (no es una entrega)")
        elif path.suffix.lower() != ".ipynb":
            sub.status = "ignorado"
            sub.notes.append("no es un cuaderno (.ipynb)")
        else:
            sub.student = student_of(name, patterns)
            if sub.student is None:
                sub.status = "ignorado"
                sub.notes.append("su nombre no sigue el patrón de nombres indicado: no se sabe de quién es")
        found.append(sub)
    by_student: dict[str, list[Submission]] = {}
    for sub in found:
        if sub.student and sub.status == "pendiente":
            by_student.setdefault(sub.student, []).append(sub)
    for subs in by_student.values():
        subs.sort(key=_version_key)
        for older in subs[:-1]:
            older.status = "ignorado"
            older.notes.append(f"{older.student} tiene otra entrega posterior ({subs[-1].name}); se califica esa")
    return found

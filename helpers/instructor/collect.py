"""Collect submissions from a folder or a learning platform's zip and name each file's student.

Student ids come from file names. ``PLATFORMS`` holds the naming of the common platforms; ``auto``
tries them in order and falls back to the file name itself. Where the platform gives a participant
id (Moodle, Canvas) it is part of the student id, so two students with the same name never become
one. A custom pattern is any regular expression with a named group ``student`` (or
``estudiante``), and optionally ``id``, matched against the file's path relative to the
submissions folder (``/`` separators).

A zip is unpacked defensively: members that would land outside the unpack folder (``..``, absolute
paths, links) are skipped and named, and size limits stop a zip bomb before anything is written.
"""
import hashlib
import re
import shutil
import stat
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

#: How each platform names downloaded submissions (matched against the path inside the download).
PLATFORMS = {
    # Moodle «Descargar todas las entregas»: "Ana García_123456_assignsubmission_file_lab1.ipynb", or a
    # folder per student, "Ana García_123456_assignsubmission_file/lab1.ipynb" (Moodle 4; 3 adds a "_").
    "moodle": r"(?:^|/)(?P<student>[^/]+?)_(?P<id>\d+)_assignsubmission_(?:file|onlinetext)(?:_|/|$)",
    # Canvas «Download Submissions»: the sortable name lower-cased without non-word characters (accents
    # stay), the user id, the file id: "garcíaana_12345_67890_lab1.ipynb", "garcíaana_late_12345_67890_lab1-1.ipynb",
    # "anon_12345_67890_lab1.ipynb" with anonymous grading.
    "canvas": r"(?:^|/)(?P<student>[^\W_]+)_(?:late_|LATE_)?(?P<id>\d+)_\d+_[^/]*$",
    # Google Classroom (carpeta de Drive descargada): "Ana García - lab1_convolutions.ipynb".
    "classroom": r"(?:^|/)(?P<student>[^/]+?) - [^/]*$",
    # Plain folder: the file name is the student id ("ana_garcia.ipynb"; "ana_garcia-1.ipynb" resubmits).
    "nombre": r"(?:^|/)(?P<student>[^/]+?)(?:-\d+)?\.[^./]*$",
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
            or "sin_nombre_" + hashlib.sha256(text.encode()).hexdigest()[:8])


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
            name = slug(groups.get("student") or groups.get("estudiante") or "")
            return f"{name}_{groups['id']}" if groups.get("id") else name
    return None


def unpack(submissions: Path, into: Path) -> tuple[Path, list[Submission]]:
    """The folder to read submissions from (``submissions`` itself, or a zip unpacked into ``into``)
    and the zip's members that were not unpacked, each with the reason."""
    submissions = Path(submissions)
    if submissions.is_dir():
        return submissions, []
    if not submissions.exists():
        raise FileNotFoundError(f"No existe la carpeta o el zip de entregas {submissions}.")
    if not zipfile.is_zipfile(submissions):
        raise ValueError(f"{submissions} no es ni una carpeta ni un archivo zip de entregas.")
    shutil.rmtree(into, ignore_errors=True)
    into.mkdir(parents=True)
    refused = []
    with zipfile.ZipFile(submissions) as zf:
        members = zf.infolist()
        total = sum(i.file_size for i in members)
        if len(members) > ZIP_MAX_MEMBERS or total > ZIP_MAX_TOTAL:
            raise ValueError(f"{submissions} declara {len(members)} archivos y {total / 2**30:.1f} GiB sin comprimir: "
                             f"supera los límites ({ZIP_MAX_MEMBERS} archivos, {ZIP_MAX_TOTAL / 2**30:g} GiB). "
                             "No se ha descomprimido nada; ¿es la descarga correcta?")
        for info in members:
            why = _unsafe(info, into)
            if info.is_dir() and why is None:
                continue  # folders are made as needed
            if why is None:
                why = _extract_within_limits(zf, info, into / info.filename)
            if why is not None:
                sub = Submission(info.filename, Path(info.filename), status="ignorado")
                sub.notes.append(f"no se descomprime: {why}")
                refused.append(sub)
    return into, refused


def _unsafe(info: zipfile.ZipInfo, into: Path) -> str | None:
    """Why a zip member must not be written, or None."""
    name = info.filename
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in re.split(r"[/\\]", name):
        return "su ruta sale de la carpeta de entregas (ruta absoluta o con «..»)"
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
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() or p.is_symlink()):
        name = path.relative_to(folder).as_posix()
        sub = Submission(name, path)
        if path.is_symlink():
            sub.status = "ignorado"
            sub.notes.append("es un enlace simbólico: no se sigue")
        elif any(part in IGNORED_PARTS for part in path.parts) or path.name.startswith("."):
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

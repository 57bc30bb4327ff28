"""nbgrader's plumbing, for building and grading alike: notebook files read and written safely, and nbgrader run
on a course folder (as a command, or in this process with a traitlets ``Config`` on top of the course's own).
"""
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

from ..course import ROOT
from .vocabulary import BadInput, Missing, NotANotebook, Note, StepFailed

#: Seconds a cell may run when nbgrader executes a notebook: the course's ``nbgrader_config.py`` and the
#: default of ``course grade --cell-timeout``. Autograding runs in the smoke profile, where every cell is quick.
CELL_TIMEOUT = 120

#: A UTF-16 surrogate on its own: JSON can write one ("\\ud800") but no UTF-8 text can hold it.
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
REPLACEMENT = "\ufffd"


def read_notebook(path: Path, notes: list[Note] | None = None):
    """Read a notebook, or raise a Spanish ``ValueError`` that names the file if it is not one.

    Every lone UTF-16 surrogate in it (a JSON escape such as ``"\\ud800"`` that matches no character)
    becomes U+FFFD, so the notebook can always be written back as UTF-8; when any did, a Spanish line
    saying so is appended to ``notes``. The file itself is not changed.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
    except FileNotFoundError:
        raise Missing(f"No existe el cuaderno {path}.") from None
    except Exception as e:  # invalid JSON, not a notebook...
        raise NotANotebook(path, f"{type(e).__name__}: {e}", type(e).__name__) from None
    if not SURROGATE_ESCAPE.search(text):  # the only way one gets in: most notebooks need no walk
        return nb
    nb, replaced = without_lone_surrogates(nb)
    if replaced and notes is not None:
        notes.append(Note(f"caracteres no válidos (sustitutos UTF-16 sueltos) sustituidos por «{REPLACEMENT}» al "
                          f"leer el cuaderno: {replaced}"))
    return nb


def without_lone_surrogates(nb):
    """``nb`` with every lone surrogate in its keys and strings replaced by U+FFFD, and how many were."""
    count = 0

    def clean(value):
        nonlocal count
        if isinstance(value, str):
            value, n = LONE_SURROGATE.subn(REPLACEMENT, value)
            count += n
            return value
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    cleaned = clean(nb)
    return (nbformat.from_dict(cleaned), count) if count else (nb, 0)


def write_notebook(nb, path: Path) -> bool:
    """Write ``nb`` to ``path`` (folders made) only if its content changes; return whether it did."""
    text = nbformat.writes(nb) + "\n"
    if path.exists() and path.read_text() == text:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return True


def nbgrader_env() -> dict:
    """The environment nbgrader runs in: this ``helpers`` importable, this interpreter's scripts on PATH.

    (nbgrader itself runs ``alembic`` from PATH.)
    """
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def nbgrader(*args: str, root: Path = ROOT, check: bool = True) -> subprocess.CompletedProcess:
    """Run an nbgrader command on the course folder ``root`` (its own config, this ``helpers``)."""
    cmd = [sys.executable, "-m", "nbgrader", *args, f"--CourseDirectory.root={root}"]
    proc = subprocess.run(cmd, cwd=root, env=nbgrader_env(), capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise StepFailed(f"Falló `nbgrader {' '.join(args)}`:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}")
    return proc


def course_config(root: Path):
    """The nbgrader configuration of the course folder ``root`` (its ``nbgrader_config.py``, rooted there;
    nbgrader's defaults if it has none, as nbgrader itself does). A file Python cannot run is a Spanish
    ``ValueError``."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(root) / "nbgrader_config.py"
    config = Config()
    if path.exists():
        try:
            config = PyFileConfigLoader(path.name, path=str(root)).load_config()
        except Exception as e:  # a syntax error, a name it does not define...
            raise BadInput(f"No se pudo leer la configuración de nbgrader {path}: {type(e).__name__}: {e}") from None
    config.CourseDirectory.root = str(root)
    return config


def run_nbgrader(converter, root: Path, lab: str, student: str | None = None, overrides=None) -> dict:
    """Run nbgrader's ``converter`` (``Autograde``, ``GenerateAssignment``) in this process, with ``--force``,
    on the course folder ``root`` and its configuration, with the traitlets ``Config`` ``overrides`` on top
    (objects of this process, such as warm kernels); nbgrader's result (``success``, ``log``, ``error``)."""
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    config = course_config(root)
    if overrides is not None:
        config.merge(overrides)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id = lab
    if student is not None:
        coursedir.student_id = student
    app = converter(coursedir=coursedir, config=config)
    app.force = True
    return capture_log(app)

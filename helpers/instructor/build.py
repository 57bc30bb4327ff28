"""Build the student releases (nbgrader) and the executed answer keys from ``source/``.

The Colab badge and the setup cell are written here, once, and put at the top of every notebook.
"""
import copy
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import nbformat

from ..course import REPO_URL, REPO_VERSION, ROOT, check_lab, lab_notebook
from .glossary import glossary_markdown
from .nbgrader_io import nbgrader, read_notebook, write_notebook
from .vocabulary import BadInput

HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)

#: A tag such as ``v1.0`` or ``v2026.2.1``: what ``REPO_VERSION`` must look like.
PINNED_TAG = re.compile(r"v\d+(\.\d+)*")

SETUP_CODE = """\
# Preparación del entorno: ejecuta esta celda tal como está, sin cambiarla.
import importlib.util
import pathlib
import subprocess
import sys

PAQUETE = "{package}"  # versión fija del paquete del curso


class ErrorDePreparacion(Exception):
    def _render_traceback_(self):  # Jupyter y Colab muestran solo el mensaje, sin traza
        return [str(self)]


if "google.colab" in sys.modules:  # en Colab: instala esa versión del paquete del curso
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", PAQUETE], capture_output=True, text=True)
    if pip.returncode != 0:
        raise ErrorDePreparacion(
            "No se pudo instalar el paquete del curso. Comprueba la conexión a internet y vuelve a ejecutar "
            "esta celda. Si sigue fallando, usa Entorno de ejecución > Reiniciar sesión y ejecútala de nuevo; "
            "si aun así falla, envía al profesorado este mensaje y esta última línea de pip:\\n"
            + (pip.stderr.strip().splitlines() or ["(pip no dio detalles)"])[-1])
else:  # en una copia local del curso: usa su carpeta helpers/
    raiz = next((p for p in [pathlib.Path.cwd(), *pathlib.Path.cwd().parents]
                 if (p / "helpers" / "__init__.py").exists()), None)
    if raiz is not None and str(raiz) not in sys.path:
        sys.path.insert(0, str(raiz))
    if importlib.util.find_spec("helpers") is None:
        raise ErrorDePreparacion("No se encuentra el paquete del curso. Abre este cuaderno en Colab con la "
                                 "insignia de arriba o, en tu computadora, instálalo con: pip install " + PAQUETE)

import helpers
print(helpers.prepare_notebook().describe())"""


def pinned_version(version: str = REPO_VERSION) -> str:
    """Return ``version`` if it is a tag like ``v1.0``; otherwise raise a Spanish ``ValueError``."""
    if not PINNED_TAG.fullmatch(version):
        raise BadInput(f"REPO_VERSION = {version!r} (en helpers/course.py) debe ser un tag fijo como 'v1.0', "
                       "no una rama: el alumnado instalaría un paquete que cambia bajo sus cuadernos.")
    return version


def student_package(version: str = REPO_VERSION) -> str:
    """The pip requirement the setup cell installs: the public repository at the pinned tag."""
    return f"git+{REPO_URL}@{pinned_version(version)}"


def _nbgrader_meta(grade_id: str, part: str = "header") -> dict:
    return {"nbgrader": {"grade": False, "grade_id": grade_id, "locked": True, "schema_version": 3,
                         "solution": False, "task": False}, "course": part}


def colab_url(lab: str) -> str:
    """Colab's address for ``lab``'s release notebook in the public repository, at the pinned tag."""
    repo_path = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{repo_path}/blob/{pinned_version()}/release/{lab}/{lab}.ipynb"


def colab_badge(lab: str) -> str:
    """The «Abrir en Colab» badge (HTML) of ``lab``'s release notebook."""
    return (f'<a href="{colab_url(lab)}" target="_parent">'
            '<img src="https://colab.research.google.com/assets/colab-badge.svg" alt="Abrir en Colab"/></a>')


def header_cells(lab: str, folder: str = "release") -> list:
    """The header of ``lab``'s notebook in ``folder``: the Colab badge and the setup cell.

    Answer keys (``solutions``) get no badge: the public repository it would open holds only ``release/``.
    """
    badge = nbformat.v4.new_markdown_cell(colab_badge(lab), metadata=_nbgrader_meta("colab_badge"))
    setup = nbformat.v4.new_code_cell(SETUP_CODE.format(package=student_package()),
                                      metadata=_nbgrader_meta("setup"))
    badge.id, setup.id = "colab-badge", "setup"
    return [badge, setup] if folder == "release" else [setup]


def glossary_cell(lab: str):
    """The last cell of every version of ``lab``: its Spanish-English glossary (:mod:`.glossary`)."""
    cell = nbformat.v4.new_markdown_cell(glossary_markdown(lab), metadata=_nbgrader_meta("glossary", "glossary"))
    cell.id = "glossary"
    return cell


def with_header(nb, lab: str, folder: str):
    """Return a copy of ``nb`` whose leading header cells are the current ones for ``folder``, and whose
    last cell is the lab's current glossary."""
    nb = copy.deepcopy(nb)
    body = [c for c in nb.cells if c.metadata.get("course") not in ("header", "glossary")]
    nb.cells = header_cells(lab, folder) + body + [glossary_cell(lab)]
    return nb


def sync_source_header(lab: str, root: Path = ROOT) -> bool:
    """Make the source notebook start with the current header cells; return whether it changed."""
    path = lab_notebook("source", lab, root)
    return write_notebook(with_header(read_notebook(path), lab, "release"), path)


def build_release(lab: str, root: Path = ROOT) -> Path:
    """Generate ``release/<lab>`` with ``nbgrader generate_assignment``; return the notebook's path."""
    nbgrader("generate_assignment", lab, "--force", root=root)
    return lab_notebook("release", lab, root)


def answer_key(nb):
    """Return a copy of the source notebook ``nb`` as an answer key: hidden tests and markers removed."""
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.source = SOLUTION_MARKERS.sub("", HIDDEN_TESTS.sub("", cell.source))
            cell.outputs, cell.execution_count = [], None
        cell.metadata.pop("nbgrader", None)
    return nb


def _fingerprint(nb, profile_name: str) -> str:
    return hashlib.sha256((json.dumps(nb, sort_keys=True) + profile_name).encode()).hexdigest()


def build_solution(lab: str, profile_name: str = "smoke", root: Path = ROOT, force: bool = False) -> Path:
    """Write ``solutions/<lab>``: the answer key executed in ``profile_name``.

    Execution is skipped when neither the source nor the profile changed since the last build, so
    building twice changes nothing; ``force`` executes anyway.
    """
    from nbclient import NotebookClient

    key = with_header(answer_key(read_notebook(lab_notebook("source", lab, root))), lab, "solutions")
    note = nbformat.v4.new_markdown_cell(
        f"> **Clave de respuestas de `{lab}`** (solo para el profesorado). Ejecutada con el perfil "
        f"`{profile_name}`" + (": datos sustitutos pequeños, sin red y muy pocas épocas, así que las cifras de "
                               "exactitud no son las de un entrenamiento real." if profile_name == "smoke" else "."),
        metadata={"course": "header"})
    note.id = "key-note"
    key.cells.insert(0, note)
    fingerprint = _fingerprint(key, profile_name)
    out = lab_notebook("solutions", lab, root)
    if not force and out.exists() and read_notebook(out).metadata.get("course", {}).get("fingerprint") == fingerprint:
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    for extra in lab_notebook("source", lab, root).parent.iterdir():  # data files beside the notebook
        if extra.is_file() and extra.suffix != ".ipynb":
            shutil.copy2(extra, out.parent / extra.name)
    NotebookClient(key, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(out.parent)}}
                   ).execute(env={**os.environ, "COURSE_PROFILE": profile_name})
    key.metadata["course"] = {"fingerprint": fingerprint, "profile": profile_name}
    write_notebook(key, out)
    return out


def student_version(lab: str, answered, root: Path = ROOT):
    """The release notebook with the key's answers pasted into the solution cells named in ``answered``.

    ``answered`` is a set of ``grade_id``s, or ``"all"``: it makes the perfect, blank and half-done
    submissions of the demo and the tests.
    """
    key = {c.metadata["nbgrader"]["grade_id"]: c for c in read_notebook(lab_notebook("source", lab, root)).cells
           if c.metadata.get("nbgrader", {}).get("solution")}
    nb = read_notebook(lab_notebook("release", lab, root))
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in key and (answered == "all" or grade_id in answered):
            cell.source = SOLUTION_MARKERS.sub("", key[grade_id].source)
    return nb


def solution_ids(lab: str, root: Path = ROOT) -> list[str]:
    """``grade_id``s of the autograded code cells students write, in notebook order."""
    nb = read_notebook(lab_notebook("release", lab, root))
    return [c.metadata["nbgrader"]["grade_id"] for c in nb.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def demo_submissions(lab: str, root: Path = ROOT) -> dict:
    """The demo class of ``lab``: ``{"perfecto", "a_medias", "en_blanco"}`` -> student notebook.

    ``a_medias`` answers the first half of the code exercises, ``en_blanco`` none.
    """
    ids = solution_ids(lab, root)
    answered = {"perfecto": "all", "a_medias": set(ids[: len(ids) // 2]), "en_blanco": set()}
    return {name: student_version(lab, which, root) for name, which in answered.items()}


def build(labs, profile_name: str = "smoke", root: Path = ROOT, force: bool = False, log=print) -> None:
    """Rebuild ``release/`` and ``solutions/`` for ``labs`` (header sync, nbgrader, executed keys)."""
    for lab in labs:
        check_lab(lab)
        if sync_source_header(lab, root):
            log(f"{lab}: cabecera de source/ actualizada")
        log(f"{lab}: release/ generado en {build_release(lab, root)}")
        log(f"{lab}: solutions/ en {build_solution(lab, profile_name, root, force)}")

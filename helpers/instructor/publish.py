"""The student distribution: what ``course publish DEST`` puts where students can see it.

``DEST`` gets the release notebooks (``release/``), the student library (``helpers/`` without
``instructor/``) with its own ``pyproject.toml``, and a README for students; nothing else (a ``.git``
folder there is kept). Nothing is written if a line of the answer key would be (see ``leaks``).
"""
import json
import tomllib
from pathlib import Path

from .. import course
from ..course import ROOT, existing_labs, lab_notebook
from ..data import FER_DEFAULT_ORIGIN, FER_ORIGINS
from .build import colab_badge, pinned_version, student_package
from .leaks import LeakError, find_leaks
from .nbgrader_io import read_notebook
from .vocabulary import BadInput, Missing

#: The folder of ``helpers`` that students do not get.
INSTRUCTOR = "instructor"
#: What ``course publish`` leaves alone in ``DEST``: the public repository's own history.
KEPT = ".git"


def student_pyproject(root: Path = ROOT) -> str:
    """The students' ``pyproject.toml``: the course's name and loose requirements, at the pinned version."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    toml = {key: json.dumps(value, ensure_ascii=False) for key, value in project.items()}  # JSON strings are TOML
    return f"""\
# Escrito por `course publish`: la biblioteca del alumnado, sin las herramientas del profesorado.
[build-system]
requires = ["setuptools>=64"]
build-backend = "setuptools.build_meta"

[project]
name = {toml["name"]}
version = "{pinned_version().removeprefix("v")}"
description = {toml["description"]}
requires-python = {toml["requires-python"]}
dependencies = {toml["dependencies"]}

[tool.setuptools]
packages = ["helpers"]
"""


def _title(lab: str, root: Path) -> str:
    """The lab's title: the first ``# `` heading of its release notebook."""
    for cell in read_notebook(lab_notebook("release", lab, root)).cells:
        if cell.cell_type == "markdown" and cell.source.startswith("# "):
            return cell.source.splitlines()[0].removeprefix("# ")
    return lab


def fer_origins() -> str:
    """The README's list of ``get_fer2013``'s origins (Markdown), from :data:`helpers.data.FER_ORIGINS`."""
    lines = [f'- `"{FER_DEFAULT_ORIGIN}"`: `"curso"` si el profesorado dejó un enlace; si no, `"kaggle"`.']
    lines += [f'- `"{name}"`: {what}.' for name, what in FER_ORIGINS.items()]
    return "\n".join(lines)


def fer_course_note() -> str:
    """Whether this course has its own copy of FER-2013 (``FER2013_URL``), and what that means for students."""
    if course.FER2013_URL.strip():
        return ('El profesorado ha dejado una copia de FER-2013 en el enlace del curso: con `"automático"` (o '
                '`"curso"`) se descarga de ahí, sin cuenta ni token.')
    return ('Este curso todavía no tiene un enlace propio para FER-2013, así que `"automático"` usa Kaggle: '
            'necesitas una cuenta (gratuita) y tu token `kaggle.json` (en kaggle.com: tu perfil → *Settings* → '
            '*API* → *Create New Token*), que la celda te pide la primera vez. Es una contraseña: no lo compartas '
            'ni lo pegues en el cuaderno que entregas.')


def _numbers(labs: list[str], chosen) -> str:
    """The numbers of the labs ``chosen`` among ``labs``, as a Spanish list: "3, 4 y 5"."""
    numbers = [str(n) for n, lab in enumerate(labs, 1) if lab in chosen]
    return " y ".join([", ".join(numbers[:-1]), numbers[-1]] if len(numbers) > 1 else numbers)


#: The students' README, filled in by :func:`student_readme`.
STUDENT_README = """\
# Laboratorios de aprendizaje profundo

Laboratorios de PyTorch para hacer en Google Colab. Cada uno es un cuaderno con explicaciones,
ejercicios de código que se califican automáticamente y alguna pregunta de respuesta escrita.

| laboratorio | abrir |
|---|---|
{rows}

## Empezar un laboratorio

1. Pulsa «Abrir en Colab» en la fila del laboratorio. Se abre el enunciado tal como está en GitHub.
2. **Archivo > Guardar una copia en Drive.** Trabaja siempre en esa copia: lo que cambies en el
   enunciado se pierde al cerrarlo.
3. **Entorno de ejecución > Cambiar tipo de entorno de ejecución > GPU T4**, para que el entrenamiento
   no tarde horas: {gpu_labs} se detienen sin GPU y te dicen cómo activarla.
4. Ejecuta la celda de preparación (la primera celda de código) tal como está. Instala el paquete del
   curso (`helpers`) en la versión `{version}`, la misma con la que se escribió el cuaderno. Si
   falla, su mensaje dice qué hacer.

Escribe tu código donde pone `# TU CÓDIGO AQUÍ` (y borra la línea `raise NotImplementedError(...)`) y tus
respuestas donde pone `ESCRIBE TU RESPUESTA AQUÍ`. Las celdas de comprobación que siguen a cada
ejercicio te dicen qué se esperaba y qué salió; no las cambies: al calificar se usan las originales y
otras pruebas parecidas.

## Entregar

1. **Entorno de ejecución > Reiniciar sesión y ejecutar todo**, y comprueba que el cuaderno llega al
   final sin errores.
2. **Archivo > Descargar > Descargar .ipynb**.
3. Sube ese archivo `.ipynb` a la tarea del laboratorio en la plataforma de la asignatura.

## FER-2013 (laboratorios {fer_labs})

MNIST, CIFAR-10 y los pesos preentrenados se descargan solos la primera vez. FER-2013 no: cada
cuaderno que lo usa tiene una celda «Conseguir los datos» que lo trae a Colab. Ejecútala al empezar
cada sesión (Colab borra sus archivos al cerrarse), después de elegir en `ORIGEN` de dónde sale:

{fer_origins}

{fer_course_note}

Sirven las carpetas `train/` y `test/` con una subcarpeta por emoción y las caras como imágenes
`*.jpg` (así las publica Kaggle) o `*.png`, y el CSV original de la competición, `fer2013.csv`. La
celda los deja en `datos/fer2013/` (por ejemplo, `datos/fer2013/train/happy/`); si ya están, no
descarga nada.

## En tu computadora, sin Colab

Con Python 3.10 o posterior: `pip install {package}`, abre el cuaderno con Jupyter y
ejecútalo igual. Los datos se guardan en `datos/`, junto al cuaderno.
"""


def student_readme(root: Path = ROOT) -> str:
    """The README students read first (Spanish): open, save, submit, and where FER-2013 goes."""
    labs = existing_labs(root)
    fer_labs = [lab for lab in labs if "load_fer2013(" in lab_notebook("release", lab, root).read_text()]
    return STUDENT_README.format(
        rows="\n".join(f"| {_title(lab, root)} | {colab_badge(lab)} |" for lab in labs),
        gpu_labs="los laboratorios " + _numbers(labs, course.GPU_LABS), version=pinned_version(),
        fer_labs=_numbers(labs, fer_labs),  # the labs whose data students must bring
        fer_origins=fer_origins(), fer_course_note=fer_course_note(), package=student_package())


def student_files(root: Path = ROOT) -> dict[str, bytes]:
    """Every file of the distribution, by its path in ``DEST``: release notebooks, library, README and
    the models of ``checkpoints/`` (``course checkpoints``), if any."""
    files = {"README.md": student_readme(root).encode(), "pyproject.toml": student_pyproject(root).encode()}
    for lab in existing_labs(root):
        notebook = lab_notebook("release", lab, root)
        if not notebook.is_file():
            raise Missing(f"Falta {notebook}: ejecuta primero `course build`.")
        files.update({f"release/{lab}/{p.name}": p.read_bytes()
                      for p in sorted(notebook.parent.iterdir()) if p.is_file()})
    checkpoints = Path(root) / course.CHECKPOINTS  # the models the instructor trained (course checkpoints)
    if checkpoints.is_dir():
        files.update({p.relative_to(root).as_posix(): p.read_bytes()
                      for p in sorted(checkpoints.rglob("*")) if p.is_file()})
    library = root / "helpers"
    for path in sorted(library.rglob("*.py")):
        relative = path.relative_to(library)
        if relative.parts[0] != INSTRUCTOR:
            files[f"helpers/{relative.as_posix()}"] = path.read_bytes()
    return files


def _check_destination(dest: Path, root: Path) -> None:
    """Refuse a ``DEST`` that holds anything but a previous distribution (the course itself, say)."""
    if dest.exists() and not dest.is_dir():
        raise BadInput(f"{dest} existe y no es una carpeta.")
    if (dest / "source").exists():
        raise BadInput(f"{dest} es el repositorio privado del curso (tiene source/): publica en otra carpeta.")
    others = [p.name for p in dest.iterdir() if p.name != KEPT] if dest.is_dir() else []
    previous = (dest / "release").is_dir() and (dest / "helpers" / "__init__.py").is_file()
    if others and not previous:
        raise BadInput(f"{dest} no está vacía ni es una publicación anterior del curso (tiene "
                       f"{', '.join(sorted(others)[:5])}): elige una carpeta vacía o nueva.")


def publish(dest: Path, root: Path = ROOT) -> list[str]:
    """Make ``dest`` the student distribution of ``root``; return what changed (Spanish lines).

    Raises :class:`leaks.LeakError` (writing nothing) if any file would hold a line of the key.
    """
    dest = Path(dest)
    _check_destination(dest, root)
    files = student_files(root)
    leaks = find_leaks(files, root)
    if leaks:
        raise LeakError(leaks)
    changes = []
    for name, data in files.items():
        path = dest / name
        if not path.is_file() or path.read_bytes() != data:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
            changes.append(f"escrito {name}")
    for path in sorted(dest.rglob("*"), reverse=True):  # deepest first, so emptied folders can go
        name = path.relative_to(dest).as_posix()
        if name == KEPT or name.startswith(f"{KEPT}/") or name in files:
            continue
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        else:
            path.unlink()
            changes.append(f"borrado {name}")
    return changes

"""Course-wide facts, each defined once: the labs, the repository and the course folders."""
import os
from pathlib import Path

COURSE_ID = "dl-curso"

#: The five assignments, in teaching order. Each one is ``source/<lab>/<lab>.ipynb``.
LABS = (
    "lab1_convolutions",
    "lab2_mnist",
    "lab3_vgg16",
    "lab4_cifar10_transfer",
    "lab5_fer2013",
)
#: The labs whose notebooks stop in the full profile without a GPU (``checks.require_gpu`` in their setup
#: cell): on a CPU they would train for hours (lab 3, lab 4) or days (lab 5). Lab 1 does not train and lab 2
#: takes minutes, so they only warn.
GPU_LABS = ("lab3_vgg16", "lab4_cifar10_transfer", "lab5_fer2013")

#: Public repository of the student distribution (``course publish``): Colab opens the notebooks and
#: installs ``helpers`` from it.
REPO_URL = "https://github.com/dl-curso-es/laboratorios"
#: The tag of that repository the notebooks open from and install: a tag, never a branch, so that
#: ``helpers`` cannot change under a notebook already handed out (nor a commit, which could not name
#: itself inside the notebooks it holds).
REPO_VERSION = "v1.0"

#: Where students download FER-2013 with ``get_fer2013("curso")`` (the notebooks' default origin when
#: set): the instructor's copy of Kaggle's ``msambare/fer2013`` zip (or of ``fer2013.csv``), at any
#: ``https://`` address or as a Google Drive file shared with "anyone with the link" (its sharing link
#: works as is). Empty: the notebooks say so and fall back to Kaggle.
FER2013_URL = ""
#: The SHA-256 of that file (``sha256sum fer2013.zip``), checked after each download; empty: not checked.
FER2013_SHA256 = ""

#: The time zone of the instructor's Moodle profile (``Europe/Madrid``, ``America/Bogota``): the dates in
#: Moodle's grading worksheet are written in it without saying so. ``course export --time-zone`` wins.
PLATFORM_TIME_ZONE = ""

#: Folder, in the course and in the student distribution, of the models the instructor trained once
#: (``course checkpoints LAB`` writes ``checkpoints/<lab>/``; ``course publish`` copies it).
CHECKPOINTS = "checkpoints"

#: Root of the course checkout (holds ``source/``, ``release/``, ``solutions/``).
ROOT = Path(__file__).resolve().parent.parent


def checkpoint_url(lab: str, name: str) -> str:
    """The address of ``checkpoints/<lab>/<name>`` in the public repository, at ``REPO_VERSION``."""
    from urllib.parse import quote

    owner_repo = REPO_URL.removeprefix("https://github.com/").strip("/")
    return f"https://raw.githubusercontent.com/{owner_repo}/{REPO_VERSION}/{CHECKPOINTS}/{lab}/{quote(name)}"


def cache_dir() -> Path:
    """The course's cache folder on this machine (stand-in data, caches, the grader's prepared files)."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "dl-curso"


def lab_notebook(folder: str, lab: str, root: Path = ROOT) -> Path:
    """Return the path of ``lab``'s notebook inside ``folder`` (``source``, ``release``, ...)."""
    return Path(root) / folder / lab / f"{lab}.ipynb"


def existing_labs(root: Path = ROOT) -> list[str]:
    """Return the labs, in course order, whose source notebook exists under ``root``."""
    return [lab for lab in LABS if lab_notebook("source", lab, root).exists()]


def check_lab(lab: str) -> str:
    """Return ``lab`` if it is one of the course's labs; otherwise raise a Spanish ``ValueError``."""
    if lab not in LABS:
        raise ValueError(f"'{lab}' no es un laboratorio del curso. Los laboratorios son: {', '.join(LABS)}.")
    return lab

"""``course checkpoints LAB``: train a lab's models once, on the instructor's GPU, for students to load.

The lab's answer key runs in a kernel of its own with the active profile (``full`` on the
instructor's GPU; ``smoke`` in the tests) and ``COURSE_PROGRESS`` pointing at ``checkpoints/<lab>/``,
where the notebook saves each model's best weights and results as it would in a student's Drive
(see :func:`helpers.data.progress_folder`). ``course publish`` copies that folder to the student
distribution, and the notebook downloads from there what a student has not trained
(:func:`helpers.data.course_checkpoint`), so the analysis never depends on a student's GPU quota.
"""
import os
import shutil
from pathlib import Path

from ..course import CHECKPOINTS, ROOT, check_lab, lab_notebook
from .build import answer_key, with_header
from .nbgrader_io import read_notebook
from .vocabulary import BadInput, StepFailed

#: The labs whose notebooks save models that students may load instead of training.
LABS_WITH_CHECKPOINTS = ("lab5_fer2013",)
#: What a run leaves that students do not need: the per-epoch state used to resume a cut session.
RESUME_SUFFIX = ".estado.pt"


def checkpoint_folder(lab: str, root: Path = ROOT) -> Path:
    """Where ``lab``'s checkpoints live in the course (and in the student distribution)."""
    return Path(root) / CHECKPOINTS / lab


def make_checkpoints(lab: str, root: Path = ROOT, timeout: int | None = None) -> list[Path]:
    """Run ``lab``'s answer key to train its models into :func:`checkpoint_folder`; return the files.

    The folder is emptied first. Raises a Spanish ``ValueError`` for a lab without checkpoints and a
    ``RuntimeError`` that names the failing cell if the notebook fails (without a GPU in ``full``, say).
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    check_lab(lab)
    if lab not in LABS_WITH_CHECKPOINTS:
        raise BadInput(f"{lab} no entrena modelos que el alumnado pueda cargar; solo: {', '.join(LABS_WITH_CHECKPOINTS)}.")
    out = checkpoint_folder(lab, root)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    nb = with_header(answer_key(read_notebook(lab_notebook("source", lab, root))), lab, "solutions")
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(root)}}
                       ).execute(env={**os.environ, "COURSE_PROGRESS": str(out)})
    except CellExecutionError as error:
        shutil.rmtree(out, ignore_errors=True)
        last = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise StepFailed(f"El cuaderno de {lab} falló al entrenar los modelos: {last}") from None
    for stale in out.glob(f"*{RESUME_SUFFIX}"):
        stale.unlink()
    return sorted(out.iterdir())

"""The limits of one grading run (:class:`Settings`), and the nbgrader configuration they become for each student.

The grading command, its workers and the Dask cluster's workers all read the same :class:`Settings`; only a
worker turns them into nbgrader's ``Config`` (:func:`autograde_config`), in a student's private course folder.
"""
from dataclasses import dataclass
from pathlib import Path

from ..course import ROOT
from . import sandbox
from .nbgrader_io import CELL_TIMEOUT

NOTEBOOK_TIMEOUT = 900  # s for a whole notebook (nbgrader, kernel and all)
MEMORY_GB = sandbox.Limits.memory_gb  # address-space limit of each student's nbgrader and kernel


@dataclass
class Settings:
    """Limits for one grading run: how its workers autograde and run kernels."""

    jobs: int = 0  # 0: the number of cores
    cell_timeout: int = CELL_TIMEOUT
    notebook_timeout: int = NOTEBOOK_TIMEOUT
    memory_gb: float = MEMORY_GB
    sandboxed: bool = True  # False only when the instructor trusts every student (--no-sandbox)
    data: Path | None = None  # the stand-ins sealed kernels read (see sandbox.prepare_data)

    def __post_init__(self):
        self.data = None if self.data is None else Path(self.data)  # a grading worker reads it back from JSON

    def key(self) -> str:
        return f"{self.cell_timeout}/{self.notebook_timeout}/{self.memory_gb}/{self.sandboxed}"


def autograde_config(settings: Settings, root: Path):
    """The traitlets ``Config`` that nbgrader autogrades with in ``root`` (a student's copy of the template),
    on top of the course's own: ``settings``' cell time limit, tests that record and are judged outside the
    kernel, tripwires around execution, a kernel crash that costs one cell and not the notebook, and (unless
    ``settings.sandboxed`` is False) every kernel sealed. What the steps find (disabled cells, tampering) they
    leave in the graded notebook's metadata (:data:`tamper.FINDINGS`)."""
    # Imported here, not above: a grading worker imports this module before its first kernel boots, and these
    # (nbgrader's preprocessors, 2-3 s) while it boots (see worker.main).
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute
    from traitlets.config import Config

    from . import judge, tamper
    from .execute import RobustExecute

    steps = [judge.PrepareTests, tamper.PlantTripwires, RobustExecute, tamper.CheckTripwires, judge.JudgeTests]
    config = Config()
    config.Execute.timeout = settings.cell_timeout
    config.Execute.shutdown_kernel = "immediate"  # after the last cell nothing in the kernel matters: no waiting
    config.Autograde.autograde_preprocessors = [
        step for p in Autograde.class_traits()["autograde_preprocessors"].default()
        for step in (steps if p is Execute else [p])]
    config.PrepareTests.reference_file = config.JudgeTests.reference_file = str(root / judge.REFERENCE_NAME)
    config.PrepareTests.perturb_file = str(root / judge.PERTURB_NAME)
    config.JudgeTests.records_file = str(root / judge.RECORDS_NAME)
    config.JudgeTests.course_root = str(root)
    if settings.sandboxed:
        config.RobustExecute.kernel_manager_class = sandbox.SandboxedKernelManager
        config.SandboxedKernelManager.data_dir = str(settings.data)
        config.SandboxedKernelManager.memory_gb = float(settings.memory_gb)
    else:
        config.PlantTripwires.library = config.PrepareTests.library = str(ROOT)
    return config

"""The active profile (``full`` in Colab, ``smoke`` under nbgrader and CI), seeding, devices, and the
setup of a lab's kernel."""
import os
import random
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .course import cache_dir

PROFILES = ("smoke", "full")


@dataclass(frozen=True)
class Profile:
    """Budgets and places for one way of running the labs.

    ``data_root`` is where the data are read from; ``work_root`` is where a lab writes what it makes
    (saved weights): the data folder, unless ``COURSE_WORK`` names another one, as it does in the
    grader's sealed kernels, whose data are read-only. ``train_size``/``test_size`` cap how many
    examples a lab uses (``None``: all of them), ``max_batches`` caps the batches per epoch,
    ``pretrained`` says whether ImageNet weights are downloaded, and ``download`` whether datasets are
    fetched from the internet. ``dry_run_steps`` (see :func:`dry_run_steps`) cuts the full profile to
    a few steps and epochs for its CI dry run.
    """

    name: str
    device: torch.device
    data_root: Path
    work_root: Path
    train_size: int | None
    test_size: int | None
    max_batches: int | None
    pretrained: bool
    download: bool
    dry_run_steps: int | None = None

    @property
    def is_smoke(self) -> bool:
        """True for the offline, CPU, seconds-per-lab profile."""
        return self.name == "smoke"

    def epochs(self, full: int, smoke: int = 1) -> int:
        """Return the number of epochs to train: ``full`` in the full profile, ``smoke`` (1) in smoke.

        A lab whose stand-in is only a few batches long may ask for a few more smoke epochs. A dry
        run of the full profile (``COURSE_MAX_STEPS``) trains the smoke count, never more than
        ``full``: the stand-ins it reads are the ones the labs' checks are calibrated for in smoke.
        """
        if self.name != "full":
            return smoke
        return full if self.dry_run_steps is None else min(full, smoke)

    def limit(self, dataset, split: str = "train", cap: int | None = None):
        """Return ``dataset`` cut to this profile's size for ``split`` (``"train"`` or ``"test"``).

        The cut keeps the first examples, so it is the same on every run. ``cap`` tightens the
        profile's size for heavy models (VGG16 on a CPU); where the profile keeps the whole split
        (``full``), it has no effect.
        """
        if split not in ("train", "test"):
            raise ValueError(f"split debe ser 'train' o 'test', no {split!r}.")
        size = self.train_size if split == "train" else self.test_size
        if size is not None and cap is not None:
            size = min(size, cap)
        if size is None or size >= len(dataset):
            return dataset
        return torch.utils.data.Subset(dataset, range(size))

    def describe(self) -> str:
        """One Spanish line that says what this profile does."""
        if self.is_smoke:
            return (f"Perfil 'smoke': CPU, sin red, datos sustitutos pequeños en {self.data_root}, "
                    f"pocas épocas de como máximo {self.max_batches} lotes.")
        if self.dry_run_steps is not None:
            return (f"Perfil 'full' en ensayo (COURSE_MAX_STEPS={self.dry_run_steps}): dispositivo {self.device}, "
                    f"datos en {self.data_root}, épocas de como máximo {self.dry_run_steps} lote(s) "
                    "y tantas como en 'smoke'; el resto, como en Colab.")
        return (f"Perfil 'full': dispositivo {self.device}, datos reales en {self.data_root}, "
                "épocas completas y pesos de ImageNet.")


def profile_name() -> str:
    """Return ``"smoke"`` under nbgrader or with ``COURSE_PROFILE=smoke``, else ``"full"``."""
    requested = os.environ.get("COURSE_PROFILE", "").strip().lower()
    if requested and requested not in PROFILES:
        raise ValueError(f"COURSE_PROFILE={requested!r} no es válido: usa 'smoke' o 'full'.")
    if os.environ.get("NBGRADER_EXECUTION") or requested == "smoke":
        return "smoke"
    return "full"


def dry_run_steps() -> int | None:
    """Return ``COURSE_MAX_STEPS`` as a positive int, or ``None`` when it is not set.

    It is the one switch of the full profile's dry run (CI, ``make test-full``): every training loop
    that follows the profile stops after that many batches per epoch, :meth:`Profile.epochs` gives
    the smoke count of epochs, and data, models, batch sizes and input sizes stay those of ``full``
    (but lab 5's batches, see :data:`helpers.budgets.DRY_RUN_BATCH`). Smoke ignores it.
    """
    value = os.environ.get("COURSE_MAX_STEPS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"COURSE_MAX_STEPS={value!r} no es válido: debe ser un entero positivo (por ejemplo 2).")
    return int(value)


#: CPU threads for PyTorch in smoke: its models are tiny, and on a small shared CPU (CI, nbgrader
#: grading several notebooks) more threads contend with each other and run many times slower.
SMOKE_THREADS = 1


def profile() -> Profile:
    """Return the active :class:`Profile`, read from the environment on every call."""
    name = profile_name()
    steps = dry_run_steps()
    default_data = cache_dir() / "standins" if name == "smoke" else Path.cwd() / "datos"
    data_root = Path(os.environ.get("COURSE_DATA") or default_data)
    work_root = Path(os.environ.get("COURSE_WORK") or data_root)
    if name == "smoke":
        return Profile(
            name="smoke",
            device=torch.device("cpu"),
            data_root=data_root,
            work_root=work_root,
            train_size=1024,
            test_size=256,
            max_batches=16,
            pretrained=False,
            download=False,
        )
    return Profile(
        name="full",
        device=torch.device("cuda" if torch.cuda.is_available() else "cpu"),
        data_root=data_root,
        work_root=work_root,
        train_size=None,
        test_size=None,
        max_batches=steps,
        pretrained=True,
        download=True,
        dry_run_steps=steps,
    )


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and PyTorch so that a run can be repeated."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)


def show_warning_on_stdout(message, category, filename, lineno, file=None, line=None):
    """A ``warnings.showwarning`` that prints one Spanish line on stdout: ``Aviso (Categoría): mensaje``."""
    print(f"Aviso ({category.__name__}): {message}", file=sys.stdout)


def prepare_notebook() -> Profile:
    """Set up the kernel of a lab (its setup cell calls this) and return the active :class:`Profile`.

    Warnings print on stdout (:func:`show_warning_on_stdout`): nbgrader scores 0 any test cell that
    writes to stderr, so a harmless warning raised by a correct answer (a deprecation in a library, say)
    must not go there. In smoke, PyTorch gets :data:`SMOKE_THREADS` CPU threads.
    """
    warnings.showwarning = show_warning_on_stdout
    active = profile()
    if active.is_smoke and torch.get_num_threads() != SMOKE_THREADS:
        torch.set_num_threads(SMOKE_THREADS)
    return active

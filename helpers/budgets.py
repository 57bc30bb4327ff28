"""Per-lab training budgets that depend on the active profile (epochs, batch sizes, model depths).

Notebooks read these instead of branching on the profile: the same cell trains the real models in
``full`` and tiny variants of them, on a few batches, in ``smoke``.
"""
from dataclasses import dataclass

from .runtime import Profile, profile


@dataclass(frozen=True)
class FerBudget:
    """How Lab 5 trains its five FER-2013 models.

    ``epochs`` per model, ``batch_size``, ``max_batches`` per epoch (``None``: all), the depths of the
    DenseNet-BC, ResNet v1 and ResNet v2 that are trained, ``eval_size`` (how many validation and
    test images are scored; ``None``: all) and ``seconds_per_epoch_estimate``, a documented guess
    for a free Colab GPU (not a measurement).
    """

    epochs: int
    batch_size: int
    max_batches: int | None
    densenet_depth: int
    resnet_v1_depth: int
    resnet_v2_depth: int
    eval_size: int | None
    seconds_per_epoch_estimate: float | None

    def describe(self) -> str:
        """One Spanish line that says what this budget trains."""
        lotes = ("todos los lotes" if self.max_batches is None
                 else "un lote" if self.max_batches == 1 else f"como máximo {self.max_batches} lotes")
        evaluadas = "todas las imágenes" if self.eval_size is None else f"{self.eval_size} imágenes"
        epocas = "1 época" if self.epochs == 1 else f"{self.epochs} épocas"
        line = (f"{epocas} de {lotes} de {self.batch_size} imágenes; DenseNet-BC-{self.densenet_depth}, "
                f"ResNet v1-{self.resnet_v1_depth} y ResNet v2-{self.resnet_v2_depth}; se evalúan {evaluadas}.")
        if self.seconds_per_epoch_estimate:
            minutes = self.epochs * self.seconds_per_epoch_estimate / 60
            line += (f" Estimación (no medida) en una GPU gratuita de Colab: unos {minutes:.0f} min por modelo.")
        return line


def fer_budget(p: Profile | None = None) -> FerBudget:
    """Return Lab 5's :class:`FerBudget` for profile ``p`` (default: the active one).

    ``full`` is sized for a free Colab GPU (about an hour per model with mixed precision: 40 of the
    original's 200 epochs, the learning-rate cuts scaled to them); ``smoke`` trains shallow variants
    of the same architectures on one small batch, so that the whole lab runs in seconds on a CPU.
    """
    p = p or profile()
    if p.is_smoke:
        return FerBudget(epochs=1, batch_size=8, max_batches=1, densenet_depth=12, resnet_v1_depth=8,
                         resnet_v2_depth=11, eval_size=16, seconds_per_epoch_estimate=None)
    return FerBudget(epochs=40, batch_size=64, max_batches=None, densenet_depth=100, resnet_v1_depth=104,
                     resnet_v2_depth=155, eval_size=None, seconds_per_epoch_estimate=75.0)

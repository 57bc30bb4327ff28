"""Per-lab training budgets that depend on the active profile (epochs, batch sizes, model depths).

Notebooks read these instead of branching on the profile: the same cell trains the real models in
``full`` and tiny variants of them, on a few batches, in ``smoke``.

Lab 5's full epochs come from measurements, kept here and nowhere else: ``MEASURED`` holds what
``benchmarks/bench_budgets.py`` printed (seconds per batch of each model, on the device it names);
a free Colab GPU (T4) figure is an *estimate* made from them with ``T4_ESTIMATE_FACTOR``, never a
measurement. The epochs are the most that let a student finish the whole lab in one sitting,
``LAB_GPU_MINUTES``, even if a real T4 is ``T4_UNCERTAINTY`` times slower than estimated;
``fer_budget_table`` shows the same numbers in the notebook (T4 minutes only: the machine that was
measured is the instructor's business, not the student's).
"""
import math
from dataclasses import dataclass

from .runtime import Profile, profile

#: FER-2013's real training and test images (Kaggle ``msambare/fer2013``).
FER_IMAGES = (28_709, 7_178)


@dataclass(frozen=True)
class FerModel:
    """One of Lab 5's five full-size models: its name, the answer key's class and arguments."""

    name: str
    cls: str
    args: tuple


FER_MODELS = (
    FerModel("DenseNet-BC-100 θ=0.3", "DenseNetBC", (100, 12, 0.3)),
    FerModel("DenseNet-BC-100 θ=0.5", "DenseNetBC", (100, 12, 0.5)),
    FerModel("DenseNet-BC-100 θ=0.7", "DenseNetBC", (100, 12, 0.7)),
    FerModel("ResNet v1-104", "ResNetV1", (104,)),
    FerModel("ResNet v2-155", "ResNetV2", (155,)),
)

#: Where and when ``MEASURED`` was measured (``python benchmarks/bench_budgets.py --labs lab5_fer2013``).
MEASURED_ON = "una CPU AMD EPYC de 2 núcleos (2 hilos de PyTorch, sin GPU)"
#: Seconds per batch measured on ``MEASURED_ON``: ``(training batch of 64, evaluation batch of 256)``.
MEASURED = {
    "DenseNet-BC-100 θ=0.3": (5.043, 12.215),
    "DenseNet-BC-100 θ=0.5": (5.209, 13.558),
    "DenseNet-BC-100 θ=0.7": (5.446, 13.878),
    "ResNet v1-104": (2.059, 5.516),
    "ResNet v2-155": (5.401, 7.352),
}

#: NVIDIA T4's published FP32 peak (datasheet), in TFLOPS: a free Colab GPU.
T4_FP32_TFLOPS = 8.1
#: ESTIMATE of how many times faster a Colab T4 is than ``MEASURED_ON``: ``T4_FP32_TFLOPS`` over the
#: FP32 matrix-multiply rate the benchmark measured on ``MEASURED_ON`` in the same run and thread
#: count (158 GFLOPS with 2 threads): 8100 / 158 ≈ 51. Mixed precision could make the T4 faster and small kernels
#: slower; it is a ratio, not a measurement.
T4_ESTIMATE_FACTOR = 51.0
#: How many times slower than estimated a real T4 may be. Cross-check: the original course's Keras
#: notebook took 11-12 s per epoch of lab 4's B on Colab, where ``T4_ESTIMATE_FACTOR`` predicts 5 s.
T4_UNCERTAINTY = 2.0
#: One sitting (issue 27): the whole of lab 5 on a free Colab T4 must take less GPU time than this,
#: in minutes, even when the T4 is ``T4_UNCERTAINTY`` times slower than estimated.
LAB_GPU_MINUTES = 90
#: Of ``LAB_GPU_MINUTES``, the minutes kept for the rest of the notebook (getting and reading
#: FER-2013, the exercises' checks, evaluation, saliency): not measured on a T4, set generously.
REST_OF_LAB_MINUTES = 10
#: The original course's epochs (Keras, 200): never train more than that.
ORIGINAL_EPOCHS = 200


@dataclass(frozen=True)
class FerPlan:
    """Lab 5's full-size data split: batch size and the images trained, validated and tested on."""

    batch_size: int
    fit_images: int
    val_images: int
    test_images: int

    def batches(self, images: int, batch_size: int | None = None) -> int:
        return math.ceil(images / (batch_size or self.batch_size))


def fer_plan() -> FerPlan:
    """The full profile's split: one tenth of the training images for validation, as the notebook does."""
    val = FER_IMAGES[0] // 10
    return FerPlan(batch_size=64, fit_images=FER_IMAGES[0] - val, val_images=val, test_images=FER_IMAGES[1])


def fer_seconds_per_epoch(name: str) -> float:
    """Seconds of one full-size epoch of model ``name`` (training and validation) on ``MEASURED_ON``."""
    plan, (train, evaluation) = fer_plan(), MEASURED[name]
    return train * plan.batches(plan.fit_images) + evaluation * plan.batches(plan.val_images, 256)


def fer_test_seconds(name: str) -> float:
    """Seconds of the final predictions of model ``name`` on the test images, on ``MEASURED_ON``."""
    plan = fer_plan()
    return MEASURED[name][1] * plan.batches(plan.test_images, 256)


def fer_t4_minutes(epochs: int) -> float:
    """Estimated T4 minutes of training the five models ``epochs`` epochs each and testing them."""
    cpu = sum(epochs * fer_seconds_per_epoch(m.name) + fer_test_seconds(m.name) for m in FER_MODELS)
    return cpu / T4_ESTIMATE_FACTOR / 60


def fer_worst_case_minutes(epochs: int) -> float:
    """The whole lab's GPU minutes if a real T4 is ``T4_UNCERTAINTY`` times slower than estimated."""
    return T4_UNCERTAINTY * fer_t4_minutes(epochs) + REST_OF_LAB_MINUTES


def fer_full_epochs() -> int:
    """The most epochs (up to the original's 200) for which :func:`fer_worst_case_minutes` stays
    within ``LAB_GPU_MINUTES``; at least 1."""
    epochs = 1
    while epochs < ORIGINAL_EPOCHS and fer_worst_case_minutes(epochs + 1) <= LAB_GPU_MINUTES:
        epochs += 1
    return epochs


def _n(x: float) -> str:
    """A number the Spanish way: thousands separated by spaces."""
    return f"{x:,.0f}".replace(",", " ")


def _epochs(n: int) -> str:
    """ "1 época", "3 épocas"."""
    return "1 época" if n == 1 else f"{n} épocas"


def _minutes(x: float) -> str:
    """Minutes with one decimal below 10 (Spanish comma), whole above."""
    return f"{x:.1f}".replace(".", ",") if x < 10 else _n(x)


def fer_budget_table(epochs: int | None = None) -> str:
    """Lab 5's budget as a Markdown table (Spanish): estimated T4 minutes per model and in all."""
    epochs = epochs or fer_full_epochs()
    rows = [f"| modelo | min por época en una T4 (estimación) | {_epochs(epochs)} y la prueba en una T4 (estimación) |",
            "|---|---:|---:|"]
    for m in FER_MODELS:
        per_epoch = fer_seconds_per_epoch(m.name) / T4_ESTIMATE_FACTOR / 60
        run = (epochs * fer_seconds_per_epoch(m.name) + fer_test_seconds(m.name)) / T4_ESTIMATE_FACTOR / 60
        rows.append(f"| {m.name} | {_minutes(per_epoch)} | {_minutes(run)} min |")
    total, worst = fer_t4_minutes(epochs), fer_worst_case_minutes(epochs)
    rows.append(f"| **los cinco** | | **{_minutes(total)} min** |")
    fits = "por debajo de" if worst <= LAB_GPU_MINUTES else "por encima de"
    note = (f"\n\nSon estimaciones, no medidas: nadie ha cronometrado todavía estas redes en una T4. Salen de "
            f"cronometrar cada red con lotes del tamaño real en otra máquina y escalar ese tiempo por la potencia "
            f"de cálculo publicada de la T4. Una T4 real puede tardar hasta {T4_UNCERTAINTY:g} veces lo estimado; "
            f"aun así, el entrenamiento ({_minutes(T4_UNCERTAINTY * total)} min) y unos {REST_OF_LAB_MINUTES} min "
            f"para el resto del cuaderno suman {_minutes(worst)} min, {fits} los {LAB_GPU_MINUTES} min en los "
            f"que el laboratorio debe caber en una sola sesión. "
            f"{'Por eso se entrena 1 época' if epochs == 1 else f'Por eso se entrenan {epochs} épocas'}.")
    return "\n".join(rows) + note


@dataclass(frozen=True)
class FerBudget:
    """How Lab 5 trains its five FER-2013 models.

    ``epochs`` per model, ``batch_size``, ``max_batches`` per epoch (``None``: all), the depths of the
    DenseNet-BC, ResNet v1 and ResNet v2 that are trained, ``eval_size`` (how many validation and
    test images are scored; ``None``: all) and ``t4_minutes_estimate``, the estimated minutes of the
    slowest model on a free Colab GPU (from ``MEASURED``; not a measurement).
    """

    epochs: int
    batch_size: int
    max_batches: int | None
    densenet_depth: int
    resnet_v1_depth: int
    resnet_v2_depth: int
    eval_size: int | None
    t4_minutes_estimate: float | None

    def describe(self) -> str:
        """One Spanish line that says what this budget trains."""
        lotes = ("todos los lotes" if self.max_batches is None
                 else "un lote" if self.max_batches == 1 else f"como máximo {self.max_batches} lotes")
        evaluadas = "todas las imágenes" if self.eval_size is None else f"{self.eval_size} imágenes"
        line = (f"{_epochs(self.epochs)} de {lotes} de {self.batch_size} imágenes; DenseNet-BC-{self.densenet_depth}, "
                f"ResNet v1-{self.resnet_v1_depth} y ResNet v2-{self.resnet_v2_depth}; se evalúan {evaluadas}.")
        if self.t4_minutes_estimate:
            line += (f" Estimación (no medida) en una GPU T4 gratuita de Colab: como mucho unos "
                     f"{self.t4_minutes_estimate:.0f} min por modelo.")
        return line


#: A dry run of ``full`` trains on batches of ``DRY_RUN_BATCH`` images and scores ``DRY_RUN_EVAL``
#: validation and test images: the same code and networks as in Colab, where they train on batches of
#: ``fer_plan().batch_size`` and score every image, at a fraction of the cost on the CPU that runs the
#: dry run (one such batch through DenseNet-BC-100 takes seconds there, and it trains five networks).
DRY_RUN_BATCH, DRY_RUN_EVAL = 16, 32


def fer_budget(p: Profile | None = None) -> FerBudget:
    """Return Lab 5's :class:`FerBudget` for profile ``p`` (default: the active one).

    ``full`` trains the real networks for :func:`fer_full_epochs` epochs (the learning-rate cuts
    scaled to them), sized from measurements to fit a free Colab session; ``smoke`` trains shallow
    variants of the same architectures on one small batch, so that the whole lab runs in seconds on
    a CPU. A dry run of ``full`` (``COURSE_MAX_STEPS``) keeps the real networks, cuts the epochs
    and batches through the profile, trains on batches of :data:`DRY_RUN_BATCH` images and scores
    :data:`DRY_RUN_EVAL` of them.
    """
    p = p or profile()
    if p.is_smoke:
        return FerBudget(epochs=1, batch_size=8, max_batches=1, densenet_depth=12, resnet_v1_depth=8,
                         resnet_v2_depth=11, eval_size=16, t4_minutes_estimate=None)
    epochs = fer_full_epochs()
    slowest = max((epochs * fer_seconds_per_epoch(m.name) + fer_test_seconds(m.name)) for m in FER_MODELS)
    dry_run = p.dry_run_steps is not None
    return FerBudget(epochs=p.epochs(full=epochs), batch_size=DRY_RUN_BATCH if dry_run else fer_plan().batch_size,
                     max_batches=p.max_batches, densenet_depth=100, resnet_v1_depth=104, resnet_v2_depth=155,
                     eval_size=DRY_RUN_EVAL if dry_run else None, t4_minutes_estimate=slowest / T4_ESTIMATE_FACTOR / 60)

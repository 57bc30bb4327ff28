"""Every lab's full-profile training, timed at the real data shapes on this machine, extrapolated.

Run from the repository root:  python benchmarks/bench_budgets.py [--steps 2] [--min-seconds 1] [--labs LAB ...]

For each piece of work a lab does in the ``full`` profile (training epochs, feature extraction,
evaluations) it builds the lab's real model, feeds it generated tensors of the real sizes (MNIST
28x28, CIFAR-10 32x32, FER-2013 48x48 and VGG16's 64x64, with the real batch sizes and augmentation)
and times ``--steps`` batches after one warm-up batch; it then multiplies by the batches the real
dataset needs (MNIST 60 000/10 000, CIFAR-10 50 000/10 000, FER-2013 28 709/7 178) and by the epochs.
It prints seconds per epoch and each lab's whole training time, naming the device. On a CPU it also
prints an *estimate* for a Colab T4: the CPU's time divided by the T4's published FP32 peak over the
CPU's matrix-multiply rate measured in the same run (a ratio, not a measurement), and the values
``helpers/budgets.py`` keeps for Lab 5.
A few steps make a rough figure (a few minutes on a CPU); ``--steps 10 --min-seconds 10`` a steadier one.
"""
import argparse
import math
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

os.environ.setdefault("COURSE_PROFILE", "smoke")  # quiet progress bars; device and sizes are explicit below
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nbformat  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402

from helpers import budgets, seed_everything  # noqa: E402
from helpers.course import LABS, lab_notebook  # noqa: E402
from helpers.data import TensorLoader, random_crop_flip  # noqa: E402
from helpers.training import amp_context, fit, prepare_model  # noqa: E402


MNIST = (60_000, 10_000)
CIFAR10 = (50_000, 10_000)


@dataclass
class Work:
    """One piece of a lab's training: ``passes`` passes of ``images`` examples in batches of ``batch``.

    ``train``: a training step per batch (forward, backward, optimiser), else forward only.
    ``make`` returns ``(model, params_to_optimise)``; ``shape`` is one example's input shape.
    """

    name: str
    make: Callable
    shape: tuple
    batch: int
    images: int
    passes: int
    train: bool = True
    augment: Callable | None = None
    optimizer: str = "adam"
    per_epoch: bool = True  # counts in "seconds per epoch" (else: once per lab)
    timed_like: str | None = None  # same model and batch as that piece: reuse its time

    @property
    def batches(self) -> int:
        return math.ceil(self.images / self.batch)


def time_batches(work: Work, steps: int, min_seconds: float, device: torch.device) -> float:
    """Seconds per batch of ``work``: at least ``steps`` batches and ``min_seconds``, after one warm-up."""
    seed_everything(0)
    model, params = work.make()
    model = prepare_model(model, device)
    x = torch.rand(work.batch * steps, *work.shape)
    y = torch.randint(0, 7, (len(x),))
    loader = TensorLoader(x, y, batch_size=work.batch, device=device, augment=work.augment)
    done, elapsed = 0, 0.0
    if work.train:
        opt = (torch.optim.SGD(params, lr=0.01, momentum=0.9) if work.optimizer == "sgd"
               else torch.optim.Adam(params, lr=1e-4))
        fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=1, device=device, max_batches=1)  # warm-up
        while done < steps or elapsed < min_seconds:
            elapsed += fit(model, loader, nn.CrossEntropyLoss(), opt, epochs=1, device=device,
                           max_batches=steps).total_seconds
            done += steps
        return elapsed / done
    model.eval()
    with torch.no_grad(), amp_context(device):
        model(next(iter(loader))[0])  # warm-up
        while done < steps or elapsed < min_seconds:
            sync(device)
            start = time.perf_counter()
            for xb, _ in loader:
                model(xb).float().argmax(1).cpu()
            sync(device)
            elapsed += time.perf_counter() - start
            done += steps
    return elapsed / done


def gemm_gflops(device: torch.device, size: int = 2048, repeats: int = 5) -> float:
    """This device's FP32 matrix-multiply rate right now, in GFLOPS (best of ``repeats``)."""
    a, b = torch.rand(size, size, device=device), torch.rand(size, size, device=device)
    a @ b  # warm-up
    best = float("inf")
    for _ in range(repeats):
        sync(device)
        start = time.perf_counter()
        a @ b
        sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * size**3 / best / 1e9


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def device_name(device: torch.device) -> str:
    """The device in words: the GPU's name, or the CPU's model and PyTorch's threads."""
    if device.type == "cuda":
        return f"GPU {torch.cuda.get_device_name(device)}"
    model = platform.processor()
    try:
        model = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"CPU {model or platform.machine()}, {os.cpu_count()} núcleos, {torch.get_num_threads()} hilos de PyTorch"


# --- the labs' models, as their answer keys build them --------------------------------------------

def trainable(model: nn.Module):
    return model, [p for p in model.parameters() if p.requires_grad]


def lab2_mlp():
    return trainable(nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                                   nn.Linear(512, 10)))


def lab2_cnn():
    return trainable(nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10)))


def lab3_vgg16_fer():
    """VGG16 with every layer frozen but the last convolution and a new 7-way head (lab 3's adapt_vgg16)."""
    model = torchvision.models.vgg16(weights=None).requires_grad_(False)
    [m for m in model.features if isinstance(m, nn.Conv2d)][-1].requires_grad_(True)
    model.classifier[-1] = nn.Linear(4096, 7)
    return trainable(model)


def lab3_to_vgg(images):
    """Lab 3's fer_to_vgg at its TAMAÑO (64): resize, three channels, ImageNet normalisation."""
    x = F.interpolate(images, size=(64, 64), mode="bilinear", align_corners=False).expand(-1, 3, -1, -1)
    mean = torch.tensor([0.485, 0.456, 0.406], device=x.device).reshape(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225], device=x.device).reshape(1, 3, 1, 1)
    return (x - mean) / std


def lab4_model(frozen: bool):
    """VGG16's convolutional part, global pooling and lab 4's head (512-256-10)."""
    backbone = nn.Sequential(torchvision.models.vgg16(weights=None).features, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    backbone.requires_grad_(not frozen)
    head = nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))
    return trainable(nn.Sequential(backbone, head))


def lab4_backbone():
    return trainable(nn.Sequential(torchvision.models.vgg16(weights=None).features, nn.AdaptiveAvgPool2d(1),
                                   nn.Flatten()).requires_grad_(False))


def lab4_head():
    return trainable(nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10)))


def lab5_classes() -> dict:
    """DenseNetBC, ResNetV1 and ResNetV2 from lab 5's answer key (its solution cells)."""
    nb = nbformat.read(str(lab_notebook("source", "lab5_fer2013")), as_version=4)
    namespace = {}
    exec("import torch\nimport torch.nn as nn\nfrom helpers.data import random_crop_flip", namespace)
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            exec(cell.source, namespace)
    return namespace


def lab_work(lab: str) -> list[Work]:
    """What ``lab``'s answer key trains and evaluates in the full profile, piece by piece."""
    if lab == "lab2_mnist":
        return [Work("MLP: 10 épocas", lab2_mlp, (1, 28, 28), 64, MNIST[0], 10, optimizer="sgd"),
                Work("CNN: 10 épocas", lab2_cnn, (1, 28, 28), 64, MNIST[0], 10, optimizer="sgd"),
                # after each epoch run_epochs measures a training sample and the test set, both of MNIST[1] images;
                # then 3 more passes per network (evaluate_accuracy, predict and the test cells)
                Work("evaluaciones (2 por época y 3 al final, por red)", lab2_cnn, (1, 28, 28), 1000, MNIST[1],
                     2 * (2 * 10 + 3), train=False, per_epoch=False)]
    if lab == "lab3_vgg16":
        train = budgets.FER_IMAGES[0] * 9 // 10  # lab 3 holds out a tenth of the training faces for validation
        return [Work("VGG16 adaptada a 64×64: 5 épocas", lab3_vgg16_fer, (1, 48, 48), 64, train, 5,
                     augment=lab3_to_vgg),
                Work("validación en cada época", lab3_vgg16_fer, (1, 48, 48), 64, budgets.FER_IMAGES[0] - train, 5,
                     train=False, augment=lab3_to_vgg),
                Work("predicción en prueba", lab3_vgg16_fer, (1, 48, 48), 32, budgets.FER_IMAGES[1], 1, train=False,
                     augment=lab3_to_vgg, per_epoch=False)]
    if lab == "lab4_cifar10_transfer":
        return [Work("B: una época con la base en el bucle", lambda: lab4_model(True), (3, 32, 32), 64, CIFAR10[0], 1,
                     per_epoch=False),
                Work("B: extracción de características", lab4_backbone, (3, 32, 32), 64, sum(CIFAR10), 1, train=False,
                     per_epoch=False),
                Work("B: cabeza, 10 épocas", lab4_head, (512,), 64, CIFAR10[0], 10),
                Work("C: ajuste fino, 10 épocas", lambda: lab4_model(False), (3, 32, 32), 64, CIFAR10[0], 10),
                Work("C: validación en cada época", lambda: lab4_model(False), (3, 32, 32), 64, CIFAR10[1], 10,
                     train=False),
                Work("A y C: evaluaciones finales", lambda: lab4_model(False), (3, 32, 32), 64,
                     CIFAR10[1] + 2 * CIFAR10[0], 1, train=False, per_epoch=False)]
    if lab == "lab5_fer2013":
        classes, plan = lab5_classes(), budgets.fer_plan()
        work = []
        for model in budgets.FER_MODELS:
            make = (lambda m=model: trainable(classes[m.cls](*m.args)))
            work += [Work(f"{model.name}: entrenamiento", make, (1, 48, 48), plan.batch_size, plan.fit_images, 1,
                          augment=lambda x: random_crop_flip(x, padding=5)),
                     Work(f"{model.name}: validación", make, (1, 48, 48), 256, plan.val_images, 1, train=False),
                     Work(f"{model.name}: prueba", make, (1, 48, 48), 256, budgets.FER_IMAGES[1], 1, train=False,
                          per_epoch=False, timed_like=f"{model.name}: validación")]
        return work
    return []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=2, help="timed batches per piece of work (after one warm-up)")
    parser.add_argument("--min-seconds", type=float, default=1.0,
                        help="time each piece for at least this long (more batches for small models)")
    parser.add_argument("--labs", nargs="*", default=list(LABS), choices=LABS)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)
    on_cpu = device.type == "cpu"
    gflops = gemm_gflops(device)
    print(f"Dispositivo: {device_name(device)}; multiplicación de matrices FP32: {gflops:.0f} GFLOPS; al menos {args.steps} lotes y {args.min_seconds:g} s medidos por "
          "pieza, tras un lote de calentamiento.")
    factor = budgets.T4_FP32_TFLOPS * 1000 / gflops
    if on_cpu:
        print(f"Columna T4: ESTIMACIÓN, no medida: tiempo de esta CPU ÷ {factor:.0f} (pico FP32 publicado de la T4, "
              f"{budgets.T4_FP32_TFLOPS:g} TFLOPS, entre los {gflops:.0f} GFLOPS medidos aquí; ver helpers/budgets.py).")
    measured = {}
    for lab in args.labs:
        work = lab_work(lab)
        if not work:
            print(f"\n{lab}: no entrena nada en el perfil full (solo construye y resume modelos).")
            continue
        print(f"\n{lab}")
        print(f"  {'pieza':<44}{'s/lote':>9}{'lotes':>7}{'veces':>6}{'s en total':>12}" + ("  estimación T4" if on_cpu else ""))
        lab_total = epoch_total = 0.0
        for w in work:
            per_batch = (measured[w.timed_like] if w.timed_like
                         else time_batches(w, args.steps, args.min_seconds, device))
            measured[w.name] = per_batch
            total = per_batch * w.batches * w.passes
            lab_total += total
            epoch_total += per_batch * w.batches if w.per_epoch else 0.0
            print(f"  {w.name:<44}{per_batch:>9.3f}{w.batches:>7}{w.passes:>6}{total:>12,.0f}"
                  + (f"{total / factor:>14,.0f} s" if on_cpu else ""))
        line = f"  {lab}: {epoch_total:,.0f} s por época (todas sus redes), {lab_total:,.0f} s = {lab_total / 3600:.1f} h en total"
        if on_cpu:
            line += (f"; estimación T4: {epoch_total / factor:,.0f} s por época, "
                     f"{lab_total / factor / 60:,.0f} min en total")
        print(line)
    if on_cpu:
        print(f"\nGFLOPS al terminar: {gemm_gflops(device):.0f} (al empezar: {gflops:.0f}); "
              f"T4_ESTIMATE_FACTOR = {factor:.0f}")
    fer = {m.name: (measured.get(f"{m.name}: entrenamiento"), measured.get(f"{m.name}: validación"))
           for m in budgets.FER_MODELS}
    if all(a is not None for pair in fer.values() for a in pair):
        print(f"\nPara helpers/budgets.py (MEASURED, {device_name(device)}): s por lote de entrenamiento y de evaluación")
        for name, (train, evaluation) in fer.items():
            print(f"    {name!r}: ({train:.3f}, {evaluation:.3f}),")


if __name__ == "__main__":
    main()

"""helpers.training.fit: metrics read once per epoch (now) vs four ``.item()`` calls per batch (before).

Run from the repository root:  python benchmarks/bench_fit.py [--images 60000] [--epochs 1] [--repeats 3]

Both loops train the same model (lab 2's CNN by default, or its MLP with ``--model mlp``) with SGD on
MNIST-shaped data (generated 28x28 images: the timing does not depend on the pixels) held by a
``TensorLoader`` on the device, alternating before/after ``--repeats`` times in the same run. It
prints the seconds per epoch of each, the ratio and the device. ``.item()`` forces the host to wait
for the device, so the gain is on a GPU; on a CPU there is nothing to wait for.
"""
import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("COURSE_PROFILE", "smoke")  # quiet progress bars; device and sizes are explicit below
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
from torch import nn  # noqa: E402

from helpers import seed_everything  # noqa: E402
from helpers.data import TensorLoader  # noqa: E402
from helpers.training import History, amp_context, fit, prepare_model  # noqa: E402


def fit_item_per_batch(model, loader, loss_fn, optimizer, epochs, device) -> History:
    """``fit``'s training loop as it was before: loss and hits read with ``.item()`` on every batch."""
    model = prepare_model(model, device)
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda")
    history = History()
    for _ in range(epochs):
        model.train()
        start, total, correct, seen = time.perf_counter(), 0.0, 0, 0
        for x, y in loader:
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with amp_context(device):
                out = model(x)
                loss = loss_fn(out, y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            history.batch_loss.append(loss.item())
            total += loss.item() * len(y)
            correct += (out.argmax(1) == y).sum().item()
            seen += len(y)
            f"{loss.item():.4f}"  # the progress bar's postfix
        history.train_loss.append(total / seen)
        history.train_acc.append(correct / seen)
        history.seconds.append(time.perf_counter() - start)
    return history


def make_model(kind: str) -> nn.Module:
    """Lab 2's networks: the MLP (784-512-512-10) or the LeNet-style CNN."""
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                             nn.Linear(512, 10))
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                         nn.Linear(84, 10))


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU {platform.processor() or platform.machine()}, {torch.get_num_threads()} hilos de PyTorch"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=60000, help="training images (28x28)")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--model", choices=("cnn", "mlp"), default="cnn")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)

    seed_everything(0)
    x, y = torch.rand(args.images, 1, 28, 28), torch.randint(0, 10, (args.images,))
    loader = TensorLoader(x, y, batch_size=args.batch_size, shuffle=True, device=device, seed=0)
    loss_fn = nn.CrossEntropyLoss()

    def run(loop) -> float:
        seed_everything(0)
        model = make_model(args.model).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
        if loop == "antes":
            history = fit_item_per_batch(model, loader, loss_fn, optimizer, args.epochs, device)
        else:
            history = fit(model, loader, loss_fn, optimizer, epochs=args.epochs, device=device, max_batches=None)
        return history.total_seconds / args.epochs

    run("después")  # warm-up (allocator, kernels), not counted
    times = {"antes": [], "después": []}
    for _ in range(args.repeats):
        for loop in times:
            times[loop].append(run(loop))
    before, after = statistics.median(times["antes"]), statistics.median(times["después"])
    print(f"Dispositivo: {device_name(device)}")
    print(f"{args.model.upper()}, {args.images} imágenes 28x28, lotes de {args.batch_size}, "
          f"{len(loader)} lotes por época; mediana de {args.repeats} repeticiones alternadas")
    print(f"antes   (.item() por lote):  {before:.3f} s por época  {[round(t, 3) for t in times['antes']]}")
    print(f"después (una vez por época): {after:.3f} s por época  {[round(t, 3) for t in times['después']]}")
    print(f"cociente antes/después: {before / after:.2f}x")


if __name__ == "__main__":
    main()

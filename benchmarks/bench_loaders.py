"""Side-by-side timings of the input pipelines, on this machine, in one run.

1. One epoch of an MNIST-shaped set (60,000 x 28x28, generated), same MLP and SGD:
   ``DataLoader(ToTensor())`` with batch 64 against ``helpers.data.TensorLoader``.
2. Loading a FER-shaped folder of 35,887 generated 48x48 PNGs: a per-file loop like the original
   notebook's against ``helpers.data.load_fer2013``, cold (no cache) and cached.

Usage: ``.venv/bin/python benchmarks/bench_loaders.py`` (about 2-3 minutes on 2 cores; the generated
data is kept in ``~/.cache/dl-curso/bench`` for the next run).
"""
import os
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn
from torchvision import datasets, transforms

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from helpers import data, standins  # noqa: E402
from helpers.course import cache_dir  # noqa: E402

BENCH = cache_dir() / "bench"
FER_TRAIN = (3995, 436, 4097, 7215, 4965, 4830, 3171)  # the real FER-2013 class counts
FER_TEST = (958, 111, 1024, 1774, 1233, 1247, 831)


def mnist_shaped(root: Path) -> datasets.MNIST:
    """60,000 digit images (the stand-in's digits, tiled and jittered) as an MNIST folder."""
    def build(tmp: Path) -> None:
        images, labels = standins._digits_as_mnist()
        reps = -(-60_000 // len(images))
        rng = np.random.default_rng(0)
        big = np.clip(np.tile(images, (reps, 1, 1))[:60_000] + rng.integers(0, 30, (60_000, 28, 28)), 0, 255)
        (tmp / "raw").mkdir()
        standins._write_idx(tmp / "raw" / "train-images-idx3-ubyte", big)
        standins._write_idx(tmp / "raw" / "train-labels-idx1-ubyte", np.tile(labels, reps)[:60_000])
        standins._write_idx(tmp / "raw" / "t10k-images-idx3-ubyte", images)
        standins._write_idx(tmp / "raw" / "t10k-labels-idx1-ubyte", labels)
    standins._publish(build, root / "MNIST")
    return datasets.MNIST(root, train=True, transform=transforms.ToTensor())


def train_epoch(loader) -> float:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 512), nn.ReLU(),
                          nn.Linear(512, 10))
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    start = time.perf_counter()
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()
    return time.perf_counter() - start


def bench_mnist() -> list[tuple[str, float]]:
    ds = mnist_shaped(BENCH / "mnist")
    standard = train_epoch(torch.utils.data.DataLoader(ds, batch_size=64, shuffle=True))
    start = time.perf_counter()
    fast_loader = data.TensorLoader.from_dataset(ds, batch_size=64, shuffle=True, device="cpu")
    load = time.perf_counter() - start
    fast = train_epoch(fast_loader)
    print(f"\n1. MNIST (60.000 × 28×28, MLP, SGD, lote 64), una época")
    print(f"   DataLoader(ToTensor())      {standard:7.2f} s")
    print(f"   TensorLoader                {fast:7.2f} s  (+ {load:.2f} s una sola vez para cargar los tensores)")
    print(f"   → {standard / fast:.1f}× por época ({standard / (fast + load):.1f}× contando la carga)")
    return [("MNIST, una época: DataLoader(ToTensor()) / TensorLoader", standard / fast)]


def fer_shaped(root: Path) -> Path:
    """35,887 generated 48x48 grey PNGs in FER-2013's folder layout (made once, then reused)."""
    def build(tmp: Path) -> None:
        rng = np.random.default_rng(0)
        for split, counts in (("train", FER_TRAIN), ("test", FER_TEST)):
            for i, (img, k) in enumerate(standins._fer_faces(counts, rng)):
                folder = tmp / split / standins.FER_CLASSES[k]
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(img, mode="L").save(folder / f"{i:05d}.png")
    return standins._publish(build, root / "fer2013")


def per_file_loop(folder: Path):
    """What the original notebook does: every file opened, converted and appended in a Python loop."""
    images, labels = [], []
    for split in ("train", "test"):
        for k, name in enumerate(sorted(os.listdir(folder / split))):
            for f in os.listdir(folder / split / name):
                img = Image.open(folder / split / name / f).convert("L")
                images.append(np.array(img))
                labels.append(k)
    return np.expand_dims(np.array(images, dtype=np.float32) / 255.0, -1), labels


def bench_fer() -> list[tuple[str, float]]:
    folder = fer_shaped(BENCH / "fer")
    per_file_loop(folder)  # warm the operating system's file cache so every contestant reads from memory
    start = time.perf_counter()
    x, _ = per_file_loop(folder)
    loop = time.perf_counter() - start
    shutil.rmtree(folder / ".cache", ignore_errors=True)
    timings = {}
    for run in ("cold", "cached"):
        start = time.perf_counter()
        loaded = [data.load_fer2013(split, root=folder.parent) for split in ("train", "test")]
        timings[run] = time.perf_counter() - start
    n = sum(len(d) for d in loaded)
    start = time.perf_counter()  # the cache is memory-mapped: this first pass reads every page
    checksum = sum(float(d.images.sum()) for d in loaded)
    first_pass = time.perf_counter() - start
    assert abs(checksum - float(np.sum(x, dtype=np.float64))) < 1e-3 * checksum
    assert n == len(x) == 35_887
    print(f"\n2. FER-2013 ({n} PNG de 48×48), carga completa")
    print(f"   bucle archivo a archivo      {loop:7.2f} s")
    print(f"   load_fer2013, sin caché     {timings['cold']:7.2f} s  → {loop / timings['cold']:.1f}×")
    print(f"   load_fer2013, con caché     {timings['cached']:7.2f} s  → {loop / timings['cached']:.0f}×"
          f"  (la caché se proyecta en memoria; la primera pasada por todas las imágenes añade {first_pass:.2f} s:"
          f" {loop / (timings['cached'] + first_pass):.0f}× contándola)")
    return [("FER-2013, carga: bucle por archivo / load_fer2013 sin caché", loop / timings["cold"]),
            ("FER-2013, carga: bucle por archivo / load_fer2013 con caché", loop / timings["cached"])]


if __name__ == "__main__":
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"Máquina: {os.cpu_count()} núcleos, torch {torch.__version__}, {torch.get_num_threads()} hilos")
    ratios = bench_mnist() + bench_fer()
    print("\nResumen (cocientes medidos en esta ejecución):")
    for name, ratio in ratios:
        print(f"   {ratio:6.1f}×  {name}")

"""Lab 4 (B): epochs with VGG16's frozen backbone in the loop vs epochs on cached features.

Run from the repository root:  python benchmarks/bench_features.py [--images 192] [--epochs 8]

Both variants train the same head (512 -> 256 -> ReLU -> Dropout -> 10) with Adam on the same
CIFAR-shaped data (32x32, generated: the timing does not depend on the pixels or the weights), on
the same machine in the same run. Prints the time of each and the ratio.
"""
import argparse
import copy
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("COURSE_PROFILE", "smoke")  # quiet progress bars; device and sizes are explicit below
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402
import torchvision  # noqa: E402
from torch import nn  # noqa: E402

from helpers import seed_everything  # noqa: E402
from helpers.data import TensorLoader  # noqa: E402
from helpers.training import fit  # noqa: E402


@torch.no_grad()
def extract_features(backbone: nn.Module, loader, device) -> tuple[torch.Tensor, torch.Tensor]:
    """Run the frozen ``backbone`` once over ``loader`` in eval mode; return (features, labels) on the CPU.

    (Lab 4's exercise 5.1 asks students to write this, so it is not in their library.)
    """
    backbone.to(device).eval()
    pairs = [(backbone(x.to(device)).float().cpu(), torch.as_tensor(y).cpu()) for x, y in loader]
    return torch.cat([f for f, _ in pairs]), torch.cat([y for _, y in pairs])


def head() -> nn.Module:
    """The lab's classifier head on VGG16's 512 pooled features."""
    return nn.Sequential(nn.Linear(512, 256), nn.ReLU(), nn.Dropout(0.5), nn.Linear(256, 10))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=192, help="training images (32x32)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = parser.parse_args()
    device = torch.device(args.device)

    seed_everything(0)
    x = torch.rand(args.images, 3, 32, 32)
    y = torch.randint(0, 10, (args.images,))
    images = TensorLoader(x, y, batch_size=args.batch_size, shuffle=True, device=device, seed=0)
    backbone = nn.Sequential(torchvision.models.vgg16(weights=None).features, nn.AdaptiveAvgPool2d(1),
                             nn.Flatten()).requires_grad_(False)
    start_head = head()
    loss_fn = nn.CrossEntropyLoss()

    # in the loop: every batch of every epoch goes through the frozen backbone
    in_loop = nn.Sequential(copy.deepcopy(backbone), copy.deepcopy(start_head))
    fit(in_loop, images, loss_fn, torch.optim.Adam(in_loop[1].parameters(), 1e-3), epochs=1, device=device,
        max_batches=1)  # warm-up (allocator, kernels), not timed
    in_loop = nn.Sequential(copy.deepcopy(backbone), copy.deepcopy(start_head))
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    fit(in_loop, images, loss_fn, torch.optim.Adam(in_loop[1].parameters(), 1e-3), epochs=args.epochs,
        device=device, max_batches=None)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t_loop = time.perf_counter() - t0

    # cached: the backbone runs once, then the head trains on the stored features
    cached_head = copy.deepcopy(start_head)
    t0 = time.perf_counter()
    features, labels = extract_features(backbone, images, device)
    t_extract = time.perf_counter() - t0
    feats = TensorLoader(features, labels, batch_size=args.batch_size, shuffle=True, device=device, seed=0)
    t0 = time.perf_counter()
    fit(cached_head, feats, loss_fn, torch.optim.Adam(cached_head.parameters(), 1e-3), epochs=args.epochs,
        device=device, max_batches=None)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t_heads = time.perf_counter() - t0
    t_cached = t_extract + t_heads

    print(f"Dispositivo: {device} · {torch.get_num_threads()} hilos · {args.images} imágenes 32×32, "
          f"lotes de {args.batch_size}, {args.epochs} épocas")
    print(f"Columna en el bucle:      {t_loop:8.2f} s  ({t_loop / args.epochs:.3f} s por época)")
    print(f"Características en caché: {t_cached:8.2f} s  (extracción {t_extract:.2f} s una vez + "
          f"{t_heads:.3f} s de entrenamiento: {t_heads / args.epochs:.4f} s por época)")
    print(f"Aceleración total ({args.epochs} épocas, extracción incluida): {t_loop / t_cached:.1f}×")
    print(f"Aceleración por época (sin contar la extracción): {t_loop / max(t_heads, 1e-9):.0f}×")


if __name__ == "__main__":
    main()

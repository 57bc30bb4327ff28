"""Small offline stand-ins for MNIST, CIFAR-10 and FER-2013, written in the real on-disk formats.

Each one is generated deterministically (fixed seed) the first time it is asked for and cached under
the smoke profile's data folder, so that the same torchvision and FER-2013 loaders that run in Colab
read it without touching the network.
"""
import hashlib
import os
import pickle
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

FER_CLASSES = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
#: Label order of the Kaggle CSV (``emotion`` column), which differs from the folders' sorted order.
FER_CSV_CLASSES = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")

_FER_TRAIN_COUNTS = (60, 10, 60, 90, 70, 60, 50)
_FER_TEST_COUNTS = (15, 3, 15, 22, 18, 15, 12)


def _publish(build, target: Path) -> Path:
    """Run ``build(tmp_dir)`` and move the result to ``target`` atomically (safe in parallel)."""
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        build(tmp)
        os.rename(tmp, target)
    except OSError:
        if not target.exists():
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


# --- MNIST ------------------------------------------------------------------------------------

def _write_idx(path: Path, array: np.ndarray) -> None:
    magic = 0x0800 + array.ndim  # unsigned bytes (0x08), then the number of dimensions
    with open(path, "wb") as f:
        f.write(struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in array.shape))
        f.write(array.astype(np.uint8).tobytes())


def _digits_as_mnist() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8x8 digits drawn like MNIST: a 20x20 box centred in 28x28, 0-255."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = []
    for img in digits.images:
        small = Image.fromarray((img * 255 / 16).astype(np.uint8))
        box = np.asarray(small.resize((20, 20), Image.BILINEAR))
        images.append(np.pad(box, 4))
    order = np.random.default_rng(0).permutation(len(images))
    return np.stack(images)[order], digits.target[order].astype(np.uint8)


def mnist(root: Path) -> Path:
    """Write the digits stand-in where ``torchvision.datasets.MNIST(root)`` looks; return its folder."""
    def build(tmp: Path) -> None:
        images, labels = _digits_as_mnist()
        cut = int(len(images) * 0.8)
        raw = tmp / "raw"
        raw.mkdir()
        _write_idx(raw / "train-images-idx3-ubyte", images[:cut])
        _write_idx(raw / "train-labels-idx1-ubyte", labels[:cut])
        _write_idx(raw / "t10k-images-idx3-ubyte", images[cut:])
        _write_idx(raw / "t10k-labels-idx1-ubyte", labels[cut:])

    return _publish(build, Path(root) / "MNIST")


# --- CIFAR-10 ---------------------------------------------------------------------------------

def _cifar_images(n: int, rng: np.random.Generator) -> tuple[np.ndarray, list[int]]:
    """Colour-and-stripe images a small network can tell apart: class k has its own hue and angle."""
    labels = rng.integers(0, 10, size=n)
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    palette = np.array([[200, 60, 60], [60, 200, 60], [60, 60, 200], [200, 200, 60], [200, 60, 200],
                        [60, 200, 200], [230, 140, 40], [120, 70, 30], [150, 150, 150], [30, 30, 30]])
    images = np.empty((n, 32, 32, 3), dtype=np.uint8)
    for i, k in enumerate(labels):
        angle = np.pi * k / 10
        stripes = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * (xx * np.cos(angle) + yy * np.sin(angle))
                                     + rng.uniform(0, 2 * np.pi))
        img = palette[k] * (0.55 + 0.45 * stripes[..., None]) + rng.normal(0, 25, size=(32, 32, 3))
        images[i] = np.clip(img, 0, 255)
    return images, labels.tolist()


def cifar10(root: Path, train_size: int = 1000, test_size: int = 200) -> Path:
    """Write a CIFAR-10-format stand-in (``cifar-10-batches-py``) under ``root``; return its folder."""
    def build(tmp: Path) -> None:
        rng = np.random.default_rng(10)
        per_batch = train_size // 5
        for name, n in [*((f"data_batch_{i}", per_batch) for i in range(1, 6)), ("test_batch", test_size)]:
            images, labels = _cifar_images(n, rng)
            entry = {"batch_label": name, "labels": labels,
                     "data": images.transpose(0, 3, 1, 2).reshape(n, -1),
                     "filenames": [f"{name}_{i}.png" for i in range(n)]}
            with open(tmp / name, "wb") as f:
                pickle.dump(entry, f)
        with open(tmp / "batches.meta", "wb") as f:
            pickle.dump({"label_names": list(CIFAR10_CLASSES), "num_cases_per_batch": per_batch}, f)

    return _publish(build, Path(root) / "cifar-10-batches-py")


# --- FER-2013 ---------------------------------------------------------------------------------

def _fer_faces(counts, rng: np.random.Generator):
    """48x48 grey 'faces': an oval with eyes, brows and a mouth whose shape depends on the emotion."""
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32)
    # (mouth curvature, mouth opening, brow slant, eye size) per class, in FER_CLASSES order
    traits = {"angry": (-0.3, 0.0, 0.8, 2.0), "disgust": (-0.5, 0.5, 0.4, 1.5),
              "fear": (-0.1, 2.5, -0.6, 3.2), "happy": (0.9, 0.8, 0.0, 2.0),
              "neutral": (0.0, 0.0, 0.0, 2.2), "sad": (-0.9, 0.0, -0.8, 2.0),
              "surprise": (0.0, 4.0, -0.2, 3.5)}
    for k, n in enumerate(counts):
        curve, opening, slant, eye = traits[FER_CLASSES[k]]
        for _ in range(n):
            cx, cy = 24 + rng.uniform(-3, 3), 24 + rng.uniform(-3, 3)
            img = np.full((48, 48), 40.0) + rng.normal(0, 12, (48, 48))
            img[((xx - cx) / 17) ** 2 + ((yy - cy) / 21) ** 2 <= 1] += 110
            for side in (-1, 1):
                ex = cx + side * 7
                img[(xx - ex) ** 2 + (yy - cy + 5) ** 2 <= eye ** 2] -= 90
                brow = (np.abs(xx - ex) <= 4) & (np.abs(yy - (cy - 11 + side * slant * (xx - ex) / 3)) <= 1)
                img[brow] -= 80
            mouth_y = cy + 10 - curve * ((xx - cx) / 6) ** 2
            mouth = (np.abs(xx - cx) <= 7) & (np.abs(yy - mouth_y) <= 1 + opening / 2)
            img[mouth] -= 100
            yield np.clip(img, 0, 255).astype(np.uint8), k


def fer2013(root: Path) -> Path:
    """Write a FER-2013 stand-in in both layouts under ``root/fer2013``; return that folder.

    The folder tree is ``train|test/<emotion>/<n>.png`` (48x48 grey) and ``fer2013.csv`` holds the
    same images as ``emotion,pixels,Usage`` rows (test images split into PublicTest/PrivateTest).
    """
    def build(tmp: Path) -> None:
        rng = np.random.default_rng(2013)
        rows = ["emotion,pixels,Usage"]
        for split, counts in (("train", _FER_TRAIN_COUNTS), ("test", _FER_TEST_COUNTS)):
            for i, (img, k) in enumerate(_fer_faces(counts, rng)):
                folder = tmp / split / FER_CLASSES[k]
                folder.mkdir(parents=True, exist_ok=True)
                Image.fromarray(img, mode="L").save(folder / f"{split}_{i:05d}.png")
                usage = "Training" if split == "train" else ("PublicTest" if i % 2 else "PrivateTest")
                label = FER_CSV_CLASSES.index(FER_CLASSES[k])
                rows.append(f"{label},{' '.join(map(str, img.ravel()))},{usage}")
        (tmp / "fer2013.csv").write_text("\n".join(rows) + "\n")

    return _publish(build, Path(root) / "fer2013")


def place_as_real(root: Path, cifar_sizes: tuple[int, int] = (320, 64)) -> dict[str, str]:
    """Write every stand-in where the full profile's loaders look for the real data under ``root``.

    That is torchvision's ``MNIST/raw`` and ``cifar-10-batches-py`` folders and FER-2013's
    ``fer2013/`` (folders and CSV). The full profile runs VGG16 over every CIFAR-10 image several
    times, so its stand-in is smaller here (``cifar_sizes``: train, test). torchvision checks
    CIFAR-10's files against the real archive's MD5 sums, so this returns ``{file name: MD5}`` of the
    stand-in's files for a dry run to register.
    """
    root = Path(root)
    mnist(root)
    fer2013(root)
    folder = cifar10(root, *cifar_sizes)
    return {f.name: hashlib.md5(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir()) if f.is_file()}


def sample_photos() -> dict[str, Path]:
    """Paths of the colour photos scikit-learn ships (``china.jpg``, ``flower.jpg``), by name (found
    without importing scikit-learn, which takes seconds)."""
    from importlib.util import find_spec

    folder = Path(find_spec("sklearn").origin).parent / "datasets" / "images"
    return {p.stem: p for p in sorted(folder.glob("*.jpg"))}

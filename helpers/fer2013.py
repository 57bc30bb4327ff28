"""FER-2013 read from its folders of images or from ``fer2013.csv`` (the stand-in in ``smoke``), decoded
once and cached beside the data."""
import hashlib
import os
import shutil
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch

from . import standins
from .data_root import CourseDataError, data_root
from .loaders import ImageTensorDataset
from .runtime import profile

FER_CLASSES = standins.FER_CLASSES
FER_NAMES_ES = ("enfado", "asco", "miedo", "alegría", "neutral", "tristeza", "sorpresa")


def _decode_gray(paths: list[str]) -> tuple[np.ndarray, list[int]]:
    """Decode image files to one ``(N, 48, 48)`` uint8 grey array; also return the unreadable indices."""
    from PIL import Image

    out, bad = np.zeros((len(paths), 48, 48), np.uint8), []
    for i, path in enumerate(paths):
        try:
            with Image.open(path) as img:
                img = img if img.mode == "L" else img.convert("L")
                out[i] = np.asarray(img if img.size == (48, 48) else img.resize((48, 48)))
        except Exception:  # any unreadable or truncated file is reported by the caller
            bad.append(i)
    return out, bad


def decode_images(paths: list[str], workers: int | None = None,
                  parallel_from: int = 2000) -> tuple[np.ndarray, list[int]]:
    """Decode many grey image files, in ``workers`` processes when there are at least ``parallel_from``.

    Returns the ``(N, 48, 48)`` uint8 images (zeros where a file could not be read) and the indices
    of the files that could not be read.
    """
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(paths) < parallel_from:
        return _decode_gray(paths)
    size = -(-len(paths) // (4 * workers))
    starts = range(0, len(paths), size)
    with ProcessPoolExecutor(workers) as pool:
        parts = list(pool.map(_decode_gray, [paths[i:i + size] for i in starts]))
    return np.concatenate([p[0] for p in parts]), [s + i for s, p in zip(starts, parts) for i in p[1]]


def fer_folder(root=None) -> Path:
    """The ``fer2013`` folder under ``root`` (the profile's data folder by default, where smoke writes the stand-in)."""
    folder = data_root(root) / "fer2013"
    if root is None and not profile().download:
        standins.fer2013(data_root())
    return folder


def _fingerprint(paths: list[Path], names: list[str] = ()) -> str:
    """A short hash of ``paths``' sizes and modification times and of ``names``.

    For a folder tree, pass the folders and the file names in them: adding, removing or renaming a
    file changes both.
    """
    h = hashlib.sha1()
    for p in paths:
        st = os.stat(p)
        h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    h.update("\n".join(names).encode())
    return h.hexdigest()[:16]


def _cached(cache: Path, compute) -> dict[str, np.ndarray]:
    """Return the arrays saved in the folder ``cache``, or compute, save and return them.

    Arrays are saved as ``.npy`` files and read back memory-mapped (copy on write), so a cached load
    costs almost nothing and the operating system reads the pages when they are first used.
    """
    if cache.is_dir():
        return {f.stem: np.load(f, mmap_mode="c") for f in sorted(cache.glob("*.npy"))}
    arrays = compute()
    tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
    try:
        tmp.mkdir(parents=True, exist_ok=True)
        for name, array in arrays.items():
            np.save(tmp / f"{name}.npy", array)
        os.rename(tmp, cache)
    except OSError as e:  # a read-only data folder still loads, only slower next time
        if not cache.is_dir():
            warnings.warn(f"No se pudo guardar la caché {cache}: {e}. La próxima carga será más lenta.")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return arrays


def _as_float_images(images: np.ndarray) -> np.ndarray:
    """``(N, 48, 48)`` uint8 to ``(N, 1, 48, 48)`` float32 in [0, 1] (torch's threads do the work)."""
    return torch.from_numpy(images).unsqueeze(1).to(torch.float32).div_(255).numpy()


FER_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _load_fer_folder(folder: Path, split: str, cache: bool):
    split_dir = folder / split
    if not split_dir.is_dir():
        raise CourseDataError(
            f"No se encontró la carpeta {split_dir}. FER-2013 debe estar en {folder} con las "
            f"subcarpetas train/ y test/, y dentro una carpeta por emoción ({', '.join(FER_CLASSES)}). "
            "Descárgalo de Kaggle (msambare/fer2013) y descomprímelo ahí.")
    found = sorted(d.name for d in split_dir.iterdir() if d.is_dir())
    missing = [c for c in FER_CLASSES if c not in found]
    if missing:
        raise CourseDataError(f"Faltan las carpetas de las emociones {', '.join(missing)} en {split_dir}. "
                              f"Se esperaban: {', '.join(FER_CLASSES)}.")
    class_dirs = [split_dir / name for name in FER_CLASSES]
    # Kaggle's common download holds JPG files, the stand-ins and other copies PNG: read any image,
    # and leave out what is not one (.DS_Store, Thumbs.db, notes...)
    names = [sorted(n for n in os.listdir(d) if not n.startswith(".") and n.lower().endswith(FER_IMAGE_SUFFIXES))
             for d in class_dirs]

    def compute():
        files = [os.path.join(d, n) for d, ns in zip(map(str, class_dirs), names) for n in ns]
        images, bad = decode_images(files)
        ok = np.ones(len(files), bool)
        ok[bad] = False
        labels = np.repeat(np.arange(len(names)), [len(ns) for ns in names])[ok]
        return {"images": _as_float_images(images[ok]), "labels": labels,
                "skipped": np.array([os.path.relpath(files[i], folder) for i in bad], dtype=str)}

    if not cache:
        return compute()
    key = _fingerprint(class_dirs, [n for ns in names for n in ns])
    return _cached(folder / ".cache" / f"{split}-{key}", compute)


def _load_fer_csv(csv_path: Path, split: str, cache: bool):
    if not csv_path.is_file():
        raise CourseDataError(f"No se encontró el archivo {csv_path}. Descarga fer2013.csv de Kaggle "
                              "(challenges-in-representation-learning-facial-expression-recognition-challenge).")
    usages = {"train": {"Training"}, "test": {"PublicTest", "PrivateTest"}}[split]
    # the CSV numbers emotions in its own order: map them to the folders' (sorted) order
    to_folder_order = np.array([FER_CLASSES.index(c) for c in standins.FER_CSV_CLASSES])

    def compute():
        images, labels, bad = [], [], []
        with open(csv_path) as f:
            header = f.readline().strip().split(",")
            if header[:3] != ["emotion", "pixels", "Usage"]:
                raise CourseDataError(f"{csv_path} no tiene las columnas emotion,pixels,Usage (tiene {header}).")
            for line_no, line in enumerate(f, start=2):
                emotion, pixels, usage = line.rstrip("\n").split(",")
                if usage not in usages:
                    continue
                values = np.array(pixels.split(), dtype=np.uint8)
                if values.size != 48 * 48:
                    bad.append(f"{csv_path.name}:{line_no}")
                    continue
                images.append(values.reshape(48, 48))
                labels.append(to_folder_order[int(emotion)])
        images = np.array(images).reshape(-1, 48, 48)  # (N, 48, 48) uint8, or (0, 48, 48) without rows
        return {"images": _as_float_images(images), "labels": np.array(labels, np.int64),
                "skipped": np.array(bad, dtype=str)}

    if not cache:
        return compute()
    return _cached(csv_path.parent / ".cache" / f"csv-{split}-{_fingerprint([csv_path])}", compute)


def load_fer2013(split: str = "train", layout: str = "folder", root=None, transform=None,
                 cache: bool = True) -> ImageTensorDataset:
    """Load FER-2013 as an :class:`ImageTensorDataset` of ``(N, 1, 48, 48)`` images in [0, 1].

    ``layout="folder"`` reads ``<root>/fer2013/<split>/<emotion>/*.jpg`` or ``*.png`` (classes in sorted
    order; other files are ignored);
    ``layout="csv"`` reads ``<root>/fer2013/fer2013.csv`` and maps its labels to the same order.
    Files that cannot be read are skipped and named in a warning. Decoded arrays are cached next to
    the data (``.cache/``) and reused until a file is added, removed or renamed (or the CSV changes). ``root`` defaults to the profile's data folder.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split debe ser 'train' o 'test', no {split!r}.")
    folder = fer_folder(root)
    if layout == "folder":
        arrays = _load_fer_folder(folder, split, cache)
    elif layout == "csv":
        arrays = _load_fer_csv(folder / "fer2013.csv", split, cache)
    else:
        raise ValueError(f"layout debe ser 'folder' o 'csv', no {layout!r}.")
    skipped = arrays["skipped"].tolist()
    if skipped:
        warnings.warn(f"Se omitieron {len(skipped)} imágenes que no se pudieron leer: "
                      f"{', '.join(skipped[:10])}{' ...' if len(skipped) > 10 else ''}")
    if len(arrays["labels"]) == 0:
        raise CourseDataError(f"No se pudo leer ninguna imagen de FER-2013 ({split}) en {folder}.")
    images, labels = torch.from_numpy(arrays["images"]), torch.from_numpy(np.asarray(arrays["labels"], np.int64))
    return ImageTensorDataset(images, labels, FER_CLASSES, transform, skipped)


def fer_layout(root=None) -> str:
    """The FER-2013 layout found under ``root`` (the profile's data folder by default): ``"folder"`` or ``"csv"``.

    The folder layout is preferred when both are there. Raises :class:`CourseDataError`, in Spanish,
    saying how to get the data when neither is.
    """
    folder = fer_folder(root)
    if all((folder / split / c).is_dir() for split in ("train", "test") for c in FER_CLASSES):
        return "folder"
    if (folder / "fer2013.csv").is_file():
        return "csv"
    raise CourseDataError(
        f"No encuentro FER-2013 en {folder}: ni las carpetas train/ y test/ (una subcarpeta por emoción) ni "
        "fer2013.csv. Ejecuta la celda «Conseguir los datos» del cuaderno (subir el zip, copiarlo de Drive "
        "o descargarlo de Kaggle con tu propio token).")

"""Datasets for the labs: MNIST, CIFAR-10 and FER-2013 (real in ``full``, stand-ins in ``smoke``),
and a tensor-resident loader that batches, shuffles and augments on the device."""
import hashlib
import os
import re
import shutil
import tempfile
import warnings
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torchvision import datasets, transforms

from . import course, standins
from .runtime import profile

FER_CLASSES = standins.FER_CLASSES
FER_NAMES_ES = ("enfado", "asco", "miedo", "alegría", "neutral", "tristeza", "sorpresa")
CIFAR10_CLASSES = standins.CIFAR10_CLASSES
#: CIFAR-10's classes in Spanish, in the order of its labels (``CIFAR10_CLASSES`` are torchvision's English names).
CIFAR10_NAMES_ES = ("avión", "automóvil", "pájaro", "gato", "ciervo", "perro", "rana", "caballo", "barco", "camión")
sample_photos = standins.sample_photos


class CourseDataError(Exception):
    """A dataset could not be read; the message (in Spanish) says which file and what to do."""


def _data_root(root) -> Path:
    return Path(root) if root is not None else profile().data_root


# --- torchvision datasets -----------------------------------------------------------------------

#: What to copy where when a dataset cannot be downloaded (torchvision then uses it without the network).
_BY_HAND = {
    "MNIST": "los cuatro archivos .gz de MNIST (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
             "t10k-images-idx3-ubyte.gz y t10k-labels-idx1-ubyte.gz) en {root}/MNIST/raw/",
    "CIFAR-10": "cifar-10-python.tar.gz (de https://www.cs.toronto.edu/~kriz/cifar.html) en {root}/",
}


def _downloaded(name: str, root: Path, make):
    """Return ``make()``, a torchvision dataset that downloads itself if it is not in ``root``.

    If it is not there and cannot be downloaded, raise a :class:`CourseDataError` that says, in
    Spanish, what is missing and how to get it, instead of torchvision's English download error.
    """
    try:
        return make()
    except (OSError, RuntimeError) as e:  # no connection, a refused or interrupted download
        raise CourseDataError(
            f"Falta {name} en {root} y no se pudo descargar ({type(e).__name__}). Comprueba la conexión a "
            f"internet y vuelve a ejecutar la celda; sin conexión, copia {_BY_HAND[name].format(root=root)} "
            "y vuelve a ejecutarla.") from None


def load_mnist(train: bool = True, transform=None, root=None) -> datasets.MNIST:
    """Return MNIST's training or test split as ``torchvision.datasets.MNIST``.

    ``full`` downloads it into the profile's data folder; ``smoke`` reads the offline digits
    stand-in with the same class. ``transform`` defaults to ``ToTensor()``.
    """
    p, root = profile(), _data_root(root)
    transform = transform or transforms.ToTensor()
    if p.download:
        return _downloaded("MNIST", root,
                           lambda: datasets.MNIST(root, train=train, transform=transform, download=True))
    standins.mnist(root)
    return datasets.MNIST(root, train=train, transform=transform)


class _StandinCIFAR10(datasets.CIFAR10):
    """torchvision's CIFAR-10 reader without the real files' checksums, for the offline stand-in."""

    train_list = [[name, None] for name, _ in datasets.CIFAR10.train_list]
    test_list = [[name, None] for name, _ in datasets.CIFAR10.test_list]
    meta = {**datasets.CIFAR10.meta, "md5": None}


def load_cifar10(train: bool = True, transform=None, root=None) -> datasets.CIFAR10:
    """Return CIFAR-10's training or test split as a ``torchvision.datasets.CIFAR10``.

    ``full`` downloads it; ``smoke`` reads the offline stand-in in the same pickled-batch format.
    ``transform`` defaults to ``ToTensor()``.
    """
    p, root = profile(), _data_root(root)
    transform = transform or transforms.ToTensor()
    if p.download:
        return _downloaded("CIFAR-10", root,
                           lambda: datasets.CIFAR10(root, train=train, transform=transform, download=True))
    standins.cifar10(root)
    return _StandinCIFAR10(root, train=train, transform=transform)


# --- FER-2013 -----------------------------------------------------------------------------------

class ImageTensorDataset(torch.utils.data.Dataset):
    """Images and labels held as tensors: ``images`` is ``(N, C, H, W)`` float in [0, 1].

    ``classes`` names the labels; ``skipped`` lists files that could not be read.
    """

    def __init__(self, images: torch.Tensor, targets: torch.Tensor, classes, transform=None,
                 skipped=()):
        self.images, self.targets, self.classes = images, targets, list(classes)
        self.transform, self.skipped = transform, list(skipped)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        image = self.images[i]
        return (self.transform(image) if self.transform else image), int(self.targets[i])


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


def _fer_root(root) -> Path:
    folder = _data_root(root) / "fer2013"
    if root is None and not profile().download:
        standins.fer2013(_data_root(None))
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
    folder = _fer_root(root)
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
    folder = _fer_root(root)
    if all((folder / split / c).is_dir() for split in ("train", "test") for c in FER_CLASSES):
        return "folder"
    if (folder / "fer2013.csv").is_file():
        return "csv"
    raise CourseDataError(
        f"No encuentro FER-2013 en {folder}: ni las carpetas train/ y test/ (una subcarpeta por emoción) ni "
        "fer2013.csv. Ejecuta la celda «Conseguir los datos» del cuaderno (subir el zip, copiarlo de Drive "
        "o descargarlo de Kaggle con tu propio token).")


def _unpack_all(path: Path, into: Path) -> None:
    """Unpack ``path`` (zip or tar) into ``into``, and any archive found inside it, one level down."""
    shutil.unpack_archive(str(path), str(into))
    for inner in list(into.rglob("*")):
        if inner.is_file() and inner.name.lower().endswith((".zip", ".tar.gz", ".tgz", ".tar")):
            shutil.unpack_archive(str(inner), str(inner.parent))
            inner.unlink()


def _find_fer(tree: Path) -> tuple[Path | None, Path | None]:
    """The folder holding ``train/`` and ``test/`` with every emotion, and the ``fer2013.csv``, under ``tree``."""
    folders = sorted((d for d in [tree, *tree.rglob("*")] if d.is_dir() and not d.name.startswith(".")
                      and all((d / s / c).is_dir() for s in ("train", "test") for c in FER_CLASSES)),
                     key=lambda d: len(d.parts))
    csvs = sorted((f for f in tree.rglob("*.csv") if f.name.lower() == "fer2013.csv"), key=lambda f: len(f.parts))
    if tree.is_file() and tree.name.lower() == "fer2013.csv":
        csvs = [tree]
    return (folders[0] if folders else None), (csvs[0] if csvs else None)


def install_fer2013(source, root=None) -> Path:
    """Put FER-2013 from ``source`` where :func:`load_fer2013` reads it; return the ``fer2013`` folder.

    ``source`` is a zip or tar file (Kaggle's ``msambare/fer2013`` download, the challenge's archive
    with ``fer2013.tar.gz`` inside, or any zip of those), a folder, or ``fer2013.csv`` itself. Both
    layouts are found at any depth: ``train/`` and ``test/`` with one folder per emotion, and
    ``fer2013.csv``.
    """
    source = Path(source)
    if not source.exists():
        raise CourseDataError(f"No existe {source}: revisa la ruta (en Drive suele empezar por "
                              "/content/drive/MyDrive/).")
    dest = _data_root(root) / "fer2013"
    scratch = dest.parent / ".fer2013-descomprimido"
    shutil.rmtree(scratch, ignore_errors=True)
    try:
        if source.is_file() and source.name.lower() != "fer2013.csv":
            scratch.mkdir(parents=True)
            try:
                _unpack_all(source, scratch)
            except (shutil.ReadError, ValueError) as e:
                raise CourseDataError(f"{source.name} no es un zip ni un tar que se pueda descomprimir ({e}).") from None
            tree = scratch
        else:
            tree = source
        folder, csv = _find_fer(tree)
        if folder is None and csv is None:
            raise CourseDataError(
                f"En {source.name} no hay FER-2013: se buscaban las carpetas train/ y test/ con una subcarpeta por "
                f"emoción ({', '.join(FER_CLASSES)}) o el archivo fer2013.csv.")
        dest.mkdir(parents=True, exist_ok=True)
        if folder is not None:
            for split in ("train", "test"):
                shutil.rmtree(dest / split, ignore_errors=True)
                shutil.copytree(folder / split, dest / split)
        if csv is not None and csv.resolve() != (dest / "fer2013.csv").resolve():
            shutil.copy2(csv, dest / "fer2013.csv")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return dest


FER_KAGGLE_DATASET = "msambare/fer2013"
#: Where ``drive.mount`` puts the student's Google Drive in Colab.
COLAB_DRIVE = Path("/content/drive")


def _colab_files():
    try:
        from google.colab import files
    except ImportError:
        raise CourseDataError("Subir archivos o usar Drive solo funciona en Google Colab. En tu computadora, "
                              "descomprime FER-2013 a mano y llama a install_fer2013(ruta).") from None
    return files


def in_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` package can be imported)."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def mount_drive() -> bool:
    """Mount the student's Google Drive at :data:`COLAB_DRIVE` (Colab asks for permission once).

    Returns whether ``MyDrive`` is there afterwards. Outside Colab it does nothing and returns
    ``False``; if the student refuses or the mount fails, it says so in Spanish and returns ``False``.
    """
    if (COLAB_DRIVE / "MyDrive").is_dir():
        return True
    if not in_colab():
        return False
    try:
        from google.colab import drive
        drive.mount(str(COLAB_DRIVE))
    except Exception as error:  # the student closed the permission window, or Drive did not answer
        print(f"No se pudo montar Google Drive ({type(error).__name__}: {error}).")
        return False
    return (COLAB_DRIVE / "MyDrive").is_dir()


#: Where the labs keep progress in the student's Drive: ``MyDrive/dl-curso/<lab>``.
DRIVE_PROGRESS = Path("MyDrive") / "dl-curso"
_temporary_folders = []  # kept alive until the kernel ends, then deleted


def progress_folder(lab: str, drive: bool = True) -> Path:
    """The folder where ``lab`` saves weights and results that must outlive a Colab session.

    ``COURSE_PROGRESS``, when set (by ``course checkpoints``), names the folder. In Colab with ``drive`` true it mounts Google Drive (see :func:`mount_drive`) and returns
    ``MyDrive/dl-curso/<lab>``; without Drive, ``<work_root>/<lab>``, which Colab deletes when the
    session ends. In smoke (grading, CI) it is a temporary folder, deleted when the kernel ends, so a
    graded notebook never reuses anything and never touches Drive. The folder exists on return.
    """
    p = profile()
    if os.environ.get("COURSE_PROGRESS"):  # ``course checkpoints``: the instructor's run writes there
        folder = Path(os.environ["COURSE_PROGRESS"])
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    if p.is_smoke:
        _temporary_folders.append(tempfile.TemporaryDirectory())
        return Path(_temporary_folders[-1].name)
    if drive and mount_drive():
        folder = COLAB_DRIVE / DRIVE_PROGRESS / lab
        where = "en tu Google Drive: sobrevive al cierre de la sesión"
    else:
        folder = p.work_root / lab
        where = ("fuera de Drive: Colab lo borra al cerrar la sesión" if in_colab()
                 else "en esta máquina")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"El progreso de {lab} se guarda en {folder} ({where}).")
    return folder


#: The ways ``get_fer2013`` can bring FER-2013 to Colab, each with the line the notebook and the
#: students' README say about it (one place: both are checked against this).
FER_ORIGINS = {
    "curso": "lo descarga del enlace que dejó el profesorado (sin cuenta ni token)",
    "kaggle": f"lo descarga de Kaggle ({FER_KAGGLE_DATASET}) con tu cuenta y tu token kaggle.json",
    "drive": "copia el zip (o la carpeta, o fer2013.csv) que guardaste en tu Google Drive",
    "subir": "sube el zip (o fer2013.csv) desde tu computadora",
}
#: ``get_fer2013``'s default: ``"curso"`` when the instructor set ``FER2013_URL``, else ``"kaggle"``.
FER_DEFAULT_ORIGIN = "automático"


def default_fer_origin() -> str:
    """``"curso"`` if the instructor set :data:`helpers.course.FER2013_URL`, otherwise ``"kaggle"``."""
    return "curso" if course.FER2013_URL.strip() else "kaggle"


def _direct_url(url: str) -> str:
    """A Google Drive sharing link (``drive.google.com/file/d/ID/...``) as its direct download; others as given."""
    match = re.match(r"https://drive\.google\.com/(?:file/d/|open\?id=)([\w-]+)", url)
    return f"https://drive.usercontent.google.com/download?id={match[1]}&export=download&confirm=t" if match else url


def _archive_suffix(path: Path) -> str:
    """The suffix :func:`install_fer2013` needs for ``path``, read from its first bytes."""
    with path.open("rb") as f:
        head = f.read(512)
    if head.startswith(b"PK"):
        return ".zip"
    if head.startswith(b"\x1f\x8b"):
        return ".tar.gz"
    if head[257:262] == b"ustar":
        return ".tar"
    if head.lstrip().lower().startswith(b"emotion"):
        return ".csv"
    if head.lstrip().lower().startswith((b"<!doctype", b"<html")):
        raise CourseDataError("El enlace del curso para FER-2013 devolvió una página web, no un archivo: si es de "
                              "Google Drive, el archivo debe estar compartido con «Cualquier persona con el "
                              "enlace». Avisa al profesorado y, mientras tanto, usa ORIGEN = \"kaggle\".")
    raise CourseDataError("Lo que se descargó del enlace del curso no es un zip, un tar ni fer2013.csv. Avisa al "
                          "profesorado y, mientras tanto, usa ORIGEN = \"kaggle\".")


def download_fer2013(url: str, root=None) -> Path:
    """Download FER-2013 from ``url`` (showing a progress bar), check it and install it; return its folder.

    ``url`` may be any ``http(s)://`` or ``file://`` address of a zip, a tar or ``fer2013.csv``, or a
    Google Drive sharing link. When :data:`helpers.course.FER2013_SHA256` is set, the download must
    have that SHA-256. Raises :class:`CourseDataError`, in Spanish, when it cannot.
    """
    import urllib.error
    import urllib.request

    from tqdm.auto import tqdm

    with tempfile.TemporaryDirectory() as tmp:
        target = Path(tmp) / "descarga"
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(_direct_url(url.strip()), timeout=60) as response, target.open("wb") as out:
                total = int(response.headers.get("Content-Length") or 0) or None
                with tqdm(total=total, unit="B", unit_scale=True, desc="FER-2013") as bar:
                    while chunk := response.read(1 << 20):
                        out.write(chunk)
                        digest.update(chunk)
                        bar.update(len(chunk))
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise CourseDataError(f"No se pudo descargar FER-2013 del enlace del curso ({url}): {error}. Comprueba "
                                  "la conexión y vuelve a ejecutar la celda; si sigue fallando, avisa al profesorado "
                                  "y usa otro ORIGEN.") from None
        expected = course.FER2013_SHA256.strip().lower()
        if expected and digest.hexdigest() != expected:
            raise CourseDataError("El archivo descargado del enlace del curso no es el que indicó el profesorado "
                                  "(su SHA-256 no coincide): la descarga se cortó o el archivo cambió. Vuelve a "
                                  "ejecutar la celda; si sigue fallando, avisa al profesorado.")
        archive = target.rename(target.with_name("fer2013" + _archive_suffix(target)))
        return install_fer2013(archive, root)


def get_fer2013(origin: str = FER_DEFAULT_ORIGIN, drive_path: str = "MyDrive/fer2013.zip", root=None) -> Path:
    """In Colab, fetch FER-2013 once and install it for :func:`load_fer2013`; return the ``fer2013`` folder.

    ``origin`` is one of :data:`FER_ORIGINS`: ``"curso"`` (download :data:`helpers.course.FER2013_URL`,
    see :func:`download_fer2013`), ``"kaggle"`` (download ``msambare/fer2013`` with the student's own
    ``kaggle.json`` token, uploaded when missing), ``"drive"`` (copy ``drive_path``, relative to
    ``/content/drive``, from Google Drive) or ``"subir"`` (upload a zip or ``fer2013.csv`` from this
    computer); ``"automático"`` (the default) picks :func:`default_fer_origin`. Does nothing when the
    data are already there.
    """
    if origin not in (*FER_ORIGINS, FER_DEFAULT_ORIGIN):
        choices = ", ".join(f"'{o}'" for o in (FER_DEFAULT_ORIGIN, *FER_ORIGINS))
        raise ValueError(f"origin debe ser uno de {choices}; no {origin!r}.")
    try:
        print(f"FER-2013 ya está en {_fer_root(root)} (formato {fer_layout(root)}): no hace falta descargarlo.")
        return _fer_root(root)
    except CourseDataError:
        pass
    if origin == FER_DEFAULT_ORIGIN:
        origin = default_fer_origin()
        if origin == "kaggle":
            print("El profesorado no ha dejado un enlace del curso para FER-2013 (FER2013_URL), así que se usa "
                  "Kaggle. Si prefieres, elige ORIGEN = \"drive\" o \"subir\".")
    if origin == "curso":
        if not course.FER2013_URL.strip():
            raise CourseDataError("El profesorado no ha dejado un enlace del curso para FER-2013 (FER2013_URL está "
                                  "vacío). Elige otro ORIGEN: \"kaggle\", \"drive\" o \"subir\".")
        print("Descargando FER-2013 del enlace del curso.")
        download_fer2013(course.FER2013_URL, root)
    elif origin == "subir":
        print("Elige el zip de FER-2013 (o fer2013.csv) en tu computadora; puede tardar unos minutos.")
        for name in _colab_files().upload():
            install_fer2013(Path(name), root)
            Path(name).unlink()
    elif origin == "drive":
        _colab_files()
        if not mount_drive():
            raise CourseDataError("No se pudo montar tu Google Drive: vuelve a ejecutar la celda y acepta el permiso, "
                                  "o elige otro ORIGEN.")
        install_fer2013(COLAB_DRIVE / drive_path, root)
    else:
        import subprocess
        token = Path.home() / ".kaggle" / "kaggle.json"
        if not token.exists():
            print("Sube tu kaggle.json (en kaggle.com: tu perfil → Settings → API → Create New Token).")
            uploaded = _colab_files().upload()
            if not uploaded:
                raise CourseDataError("No se subió ningún archivo: hace falta tu kaggle.json para descargar de Kaggle.")
            token.parent.mkdir(parents=True, exist_ok=True)
            token.write_bytes(next(iter(uploaded.values())))
            token.chmod(0o600)
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(["kaggle", "datasets", "download", "-d", FER_KAGGLE_DATASET, "-p", tmp],
                                  capture_output=True, text=True)
            if done.returncode != 0:
                raise CourseDataError(f"Kaggle no dejó descargar {FER_KAGGLE_DATASET}: {done.stderr.strip()[-300:]} "
                                      "¿Es correcto tu kaggle.json?")
            install_fer2013(next(Path(tmp).glob("*.zip")), root)
    folder = _fer_root(root)
    print(f"FER-2013 listo en {folder} (formato {fer_layout(root)}).")
    return folder


def course_checkpoint(lab: str, names, dest, url=course.checkpoint_url) -> list[Path]:
    """Download into ``dest`` the files ``names`` of ``lab`` that the instructor trained and published
    (``course checkpoints``), unless ``dest`` already has them; return the files now in ``dest``.

    ``url(lab, name)`` gives each file's address. Nothing is downloaded in smoke (grading, CI). If a
    file cannot be downloaded (the instructor published none, or there is no connection), it says so
    in Spanish and returns what there is: the notebook then trains that model itself.
    """
    import urllib.error
    import urllib.request

    dest = Path(dest)
    if profile().is_smoke:
        return [dest / n for n in names if (dest / n).exists()]
    for name in names:
        target = dest / name
        if target.exists():
            continue
        partial = target.with_name(target.name + ".descargando")
        try:
            with urllib.request.urlopen(url(lab, name), timeout=60) as response, partial.open("wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, ValueError) as error:
            partial.unlink(missing_ok=True)
            print(f"No se pudo descargar {name} de los modelos del curso ({error}): este modelo se entrenará aquí.")
            break
        partial.replace(target)
    return [dest / n for n in names if (dest / n).exists()]


# --- tensor-resident loading --------------------------------------------------------------------

def _vectorized(dataset) -> tuple[torch.Tensor, torch.Tensor] | None:
    """All of a torchvision MNIST/CIFAR dataset at once, when its transform is ToTensor (+ Normalize).

    Gives exactly what the per-example transform gives, without a Python loop over examples.
    """
    steps = getattr(dataset, "transform", None)
    steps = steps.transforms if isinstance(steps, transforms.Compose) else [steps]
    raw = getattr(dataset, "data", None)
    if (not isinstance(dataset, (datasets.MNIST, datasets.CIFAR10)) or raw is None
            or not isinstance(steps[0], transforms.ToTensor)
            or not all(isinstance(t, transforms.Normalize) for t in steps[1:])
            or getattr(dataset, "target_transform", None) is not None):
        return None
    x = torch.as_tensor(raw)
    x = (x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)).float().div_(255)
    for t in steps[1:]:
        x = transforms.functional.normalize(x, t.mean, t.std)
    return x.contiguous(), torch.as_tensor(dataset.targets)


def dataset_to_tensors(dataset, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``dataset`` (with its transform) once and return all ``(images, labels)`` as two tensors.

    Subsets are followed to their dataset, and MNIST/CIFAR-10 with ``ToTensor``/``Normalize`` are
    converted in one vectorised step.
    """
    if isinstance(dataset, torch.utils.data.Subset):
        images, labels = dataset_to_tensors(dataset.dataset, batch_size)
        index = torch.as_tensor(dataset.indices)
        return images[index], labels[index]
    if isinstance(dataset, ImageTensorDataset) and dataset.transform is None:
        return dataset.images, dataset.targets
    fast = _vectorized(dataset)
    if fast is not None:
        return fast
    xs, ys = [], []
    for x, y in torch.utils.data.DataLoader(dataset, batch_size=batch_size):
        xs.append(x)
        ys.append(torch.as_tensor(y))
    return torch.cat(xs), torch.cat(ys)


def random_crop_flip(images: torch.Tensor, padding: int = 4, flip: bool = True,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly shift each image by up to ``padding`` pixels (zero fill) and mirror half of them.

    Runs on whatever device ``images`` lives on; ``images`` is ``(N, C, H, W)``.
    """
    n, _, h, w = images.shape
    dev = images.device
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    oy = torch.randint(0, 2 * padding + 1, (n,), device=dev, generator=generator)
    ox = torch.randint(0, 2 * padding + 1, (n,), device=dev, generator=generator)
    rows = (oy[:, None] + torch.arange(h, device=dev))[:, :, None]
    cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, :]
    out = padded.permute(0, 2, 3, 1)[torch.arange(n, device=dev)[:, None, None], rows, cols].permute(0, 3, 1, 2)
    if flip:
        mirror = torch.rand(n, device=dev, generator=generator) < 0.5
        out = torch.where(mirror[:, None, None, None], out.flip(3), out)
    return out.contiguous()


class TensorLoader:
    """Batches of ``(x, y)`` cut from tensors that stay in memory (on the GPU when there is one).

    Shuffling and batching are tensor indexing, and ``augment`` (a function of a batch, such as
    :func:`random_crop_flip`) runs on the device, so no Python code touches single examples.
    Use it like a ``DataLoader``: ``for x, y in loader``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 64,
                 shuffle: bool = False, device=None, augment=None, drop_last: bool = False,
                 seed: int | None = None):
        if len(images) != len(labels):
            raise ValueError(f"Hay {len(images)} imágenes pero {len(labels)} etiquetas: deben coincidir.")
        device = torch.device(device) if device is not None else profile().device
        self.images, self.labels = images.to(device), torch.as_tensor(labels).to(device)
        self.batch_size, self.shuffle, self.augment, self.drop_last = batch_size, shuffle, augment, drop_last
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed if seed is not None else torch.initial_seed() % 2**63)

    @classmethod
    def from_dataset(cls, dataset, batch_size: int = 64, shuffle: bool = False, **kwargs) -> "TensorLoader":
        """Build a loader from any map-style dataset, applying its transform once."""
        images, labels = dataset_to_tensors(dataset)
        return cls(images, labels, batch_size=batch_size, shuffle=shuffle, **kwargs)

    @property
    def dataset(self) -> torch.utils.data.TensorDataset:
        """The tensors as a ``TensorDataset`` (so ``len(loader.dataset)`` works as with a DataLoader)."""
        return torch.utils.data.TensorDataset(self.images, self.labels)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.labels)
        order = (torch.randperm(n, device=self.images.device, generator=self.generator)
                 if self.shuffle else torch.arange(n, device=self.images.device))
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            x = self.images[idx]
            yield (self.augment(x) if self.augment else x), self.labels[idx]

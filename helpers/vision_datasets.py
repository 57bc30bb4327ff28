"""MNIST and CIFAR-10 as torchvision datasets: downloaded in ``full``, the offline stand-ins in ``smoke``."""
from pathlib import Path

from torchvision import datasets, transforms

from . import standins
from .data_root import CourseDataError, data_root
from .runtime import profile

CIFAR10_CLASSES = standins.CIFAR10_CLASSES
#: CIFAR-10's classes in Spanish, in the order of its labels (``CIFAR10_CLASSES`` are torchvision's English names).
CIFAR10_NAMES_ES = ("avión", "automóvil", "pájaro", "gato", "ciervo", "perro", "rana", "caballo", "barco", "camión")

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
    return _split("MNIST", datasets.MNIST, standins.mnist, datasets.MNIST, train, transform, root)


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
    return _split("CIFAR-10", datasets.CIFAR10, standins.cifar10, _StandinCIFAR10, train, transform, root)


def _split(name: str, dataset, standin, standin_reader, train: bool, transform, root):
    """One split of a torchvision ``dataset``: downloaded in ``full``; in ``smoke``, ``standin`` writes the
    offline files and ``standin_reader`` reads them."""
    p, root = profile(), data_root(root)
    transform = transform or transforms.ToTensor()
    if p.download:
        return _downloaded(name, root, lambda: dataset(root, train=train, transform=transform, download=True))
    standin(root)
    return standin_reader(root, train=train, transform=transform)

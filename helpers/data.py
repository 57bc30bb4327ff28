"""Everything a lab needs from its data, under one name (``from helpers.data import ...``).

Each concern lives in a module of its own:

- :mod:`helpers.data_root`: the data folder and :class:`CourseDataError`;
- :mod:`helpers.vision_datasets`: MNIST and CIFAR-10 (torchvision);
- :mod:`helpers.fer2013`: reading FER-2013; :mod:`helpers.fer2013_install`: getting it (Colab, Kaggle, Drive);
- :mod:`helpers.loaders`: tensors on the device and :class:`TensorLoader`;
- :mod:`helpers.colab` and :mod:`helpers.progress`: Google Drive, and what outlives a Colab session;
- :mod:`helpers.standins`: the offline stand-ins of the ``smoke`` profile (and :func:`sample_photos`).
"""
from .colab import COLAB_DRIVE, in_colab, mount_drive
from .data_root import CourseDataError
from .fer2013 import FER_CLASSES, FER_IMAGE_SUFFIXES, FER_NAMES_ES, decode_images, fer_layout, load_fer2013
from .fer2013_install import (FER_DEFAULT_ORIGIN, FER_KAGGLE_DATASET, FER_ORIGINS, default_fer_origin,
                              download_fer2013, get_fer2013, install_fer2013)
from .loaders import ImageTensorDataset, TensorLoader, dataset_to_tensors, random_crop_flip
from .progress import DRIVE_PROGRESS, course_checkpoint, progress_folder
from .standins import sample_photos
from .vision_datasets import CIFAR10_CLASSES, CIFAR10_NAMES_ES, load_cifar10, load_mnist

__all__ = ["CIFAR10_CLASSES", "CIFAR10_NAMES_ES", "COLAB_DRIVE", "DRIVE_PROGRESS", "FER_CLASSES",
           "FER_DEFAULT_ORIGIN", "FER_IMAGE_SUFFIXES", "FER_KAGGLE_DATASET", "FER_NAMES_ES", "FER_ORIGINS",
           "CourseDataError", "ImageTensorDataset", "TensorLoader", "course_checkpoint", "dataset_to_tensors",
           "decode_images", "default_fer_origin", "download_fer2013", "fer_layout", "get_fer2013", "in_colab",
           "install_fer2013", "load_cifar10", "load_fer2013", "load_mnist", "mount_drive", "progress_folder",
           "random_crop_flip", "sample_photos"]

"""Without internet, a dataset that is missing says in Spanish what to copy where; one in place loads."""
import urllib.error
import urllib.request

import pytest

from helpers import data, standins


@pytest.fixture
def offline_full(monkeypatch, tmp_path):
    """The full profile (it downloads) with its data in ``tmp_path`` and no network at all."""
    def refuse(*args, **kwargs):
        raise urllib.error.URLError("sin red")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path))
    return tmp_path


@pytest.mark.parametrize("load, name, error, what", [
    (data.load_mnist, "MNIST", "RuntimeError", "los cuatro archivos .gz de MNIST (train-images-idx3-ubyte.gz, "
     "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz y t10k-labels-idx1-ubyte.gz) en {root}/MNIST/raw/"),
    (data.load_cifar10, "CIFAR-10", "URLError",
     "cifar-10-python.tar.gz (de https://www.cs.toronto.edu/~kriz/cifar.html) en {root}/")])
def test_a_dataset_that_cannot_be_downloaded_says_what_to_copy_where(offline_full, load, name, error, what):
    with pytest.raises(data.CourseDataError) as raised:
        load()
    assert str(raised.value) == (
        f"Falta {name} en {offline_full} y no se pudo descargar ({error}). Comprueba la conexión a internet y vuelve "
        f"a ejecutar la celda; sin conexión, copia {what.format(root=offline_full)} y vuelve a ejecutarla.")


@pytest.mark.parametrize("load, name", [(data.load_mnist, "MNIST"), (data.load_cifar10, "CIFAR-10")])
def test_full_asks_torchvision_to_download_the_split_and_transform_asked_for(offline_full, monkeypatch, load, name):
    from torchvision import datasets, transforms
    asked = []
    monkeypatch.setattr(datasets, name.replace("-", ""), lambda root, **kwargs: asked.append((root, kwargs)))
    normalize = transforms.Normalize([0.5], [0.5])
    load(train=False, transform=normalize)
    load()
    assert asked[0] == (offline_full, {"train": False, "transform": normalize, "download": True})
    assert asked[1][1]["train"] is True and isinstance(asked[1][1]["transform"], transforms.ToTensor)


def test_mnist_already_in_the_data_folder_needs_no_network(offline_full):
    standins.mnist(offline_full)
    train, test = data.load_mnist(), data.load_mnist(train=False)
    assert (len(train), len(test)) == (1437, 360) and test[0][0].shape == (1, 28, 28)  # ToTensor by default

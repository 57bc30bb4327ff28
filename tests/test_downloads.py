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


@pytest.mark.parametrize("load, name, where", [(data.load_mnist, "MNIST", "MNIST/raw/"),
                                               (data.load_cifar10, "CIFAR-10", "cifar-10-python.tar.gz")])
def test_a_dataset_that_cannot_be_downloaded_says_what_to_copy_where(offline_full, load, name, where):
    with pytest.raises(data.CourseDataError, match=f"Falta {name} en {offline_full} y no se pudo descargar") as error:
        load()
    assert where in str(error.value) and "conexión a internet" in str(error.value)


def test_mnist_already_in_the_data_folder_needs_no_network(offline_full):
    standins.mnist(offline_full)
    train, test = data.load_mnist(), data.load_mnist(train=False)
    assert (len(train), len(test)) == (1437, 360) and test[0][0].shape == (1, 28, 28)  # ToTensor by default

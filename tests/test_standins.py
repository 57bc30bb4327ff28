"""The stand-ins, built fresh into a temporary folder and read as the real formats are read (byte by byte,
not through the course's loaders, which the data tests cover on the cached copies)."""
import hashlib
import pickle
import struct

import numpy as np
import pytest
from PIL import Image

from helpers import standins
from fixture_scope import shared


@pytest.fixture(scope=shared)
def root(tmp_path_factory):
    """A data folder for the module. Each test calls the builder of what it checks (the first call builds,
    later ones find it built), so every builder is reached from the tests that read its output."""
    return tmp_path_factory.mktemp("datos")


def read_idx(path):
    raw = path.read_bytes()
    magic, = struct.unpack(">I", raw[:4])
    ndim = magic & 0xFF
    dims = struct.unpack(f">{ndim}I", raw[4:4 + 4 * ndim])
    return magic, np.frombuffer(raw[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def test_mnist_is_written_as_torchvisions_idx_files(root):
    raw = standins.mnist(root) / "raw"
    assert raw == root / "MNIST" / "raw"
    magics, arrays = zip(*(read_idx(raw / name) for name in (
        "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")))
    assert magics == (2051, 2049, 2051, 2049)
    train, train_labels, test, test_labels = arrays
    assert train.shape == (1437, 28, 28) and test.shape == (360, 28, 28)  # scikit-learn's 1 797 digits, 80/20
    assert len(train_labels) == 1437 and len(test_labels) == 360
    assert set(train_labels) == set(test_labels) == set(range(10))
    for images in (train, test):  # a 20x20 digit centred in 28x28, 0-255 like MNIST
        assert images[:, :4].max() == images[:, -4:].max() == images[:, :, :4].max() == images[:, :, -4:].max() == 0
        assert images.max() == 255 and images[:, 4:24, 4:24].mean() > 20
    from sklearn.datasets import load_digits

    assert not np.array_equal(train_labels, load_digits().target[:1437])  # shuffled, not in scikit-learn's order


def test_cifar10_is_written_as_the_python_batches(root):
    md5 = standins.place_as_real(root, cifar_sizes=(50, 20))
    folder = root / "cifar-10-batches-py"
    assert sorted(md5) == ["batches.meta", "data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                           "data_batch_5", "test_batch"]
    assert all(md5[name] == hashlib.md5((folder / name).read_bytes()).hexdigest() for name in md5)
    meta = pickle.loads((folder / "batches.meta").read_bytes())
    assert meta == {"label_names": list(standins.CIFAR10_CLASSES), "num_cases_per_batch": 10}
    for name, n in [*((f"data_batch_{i}", 10) for i in range(1, 6)), ("test_batch", 20)]:
        batch = pickle.loads((folder / name).read_bytes())
        assert batch["batch_label"] == name and len(batch["labels"]) == n
        assert batch["data"].shape == (n, 3072) and batch["data"].dtype == np.uint8
        assert batch["filenames"] == [f"{name}_{i}.png" for i in range(n)]
        assert all(0 <= k < 10 for k in batch["labels"])


def test_cifar10_classes_have_their_own_colour():
    images, labels = standins._cifar_images(400, np.random.default_rng(0))
    means = {k: images[np.array(labels) == k].reshape(-1, 3).mean(0) for k in range(10)}
    assert images.shape == (400, 32, 32, 3) and images.dtype == np.uint8
    assert set(labels) == set(range(10))
    distances = [np.linalg.norm(means[a] - means[b]) for a in range(10) for b in range(a + 1, 10)]
    assert min(distances) > 10  # a small network can tell them apart


def test_fer2013_folders_and_csv_hold_the_same_faces(root):
    fer = standins.fer2013(root)
    assert fer == root / "fer2013"
    for split, counts in (("train", standins._FER_TRAIN_COUNTS), ("test", standins._FER_TEST_COUNTS)):
        assert [len(list((fer / split / name).glob("*.png"))) for name in standins.FER_CLASSES] == list(counts)
    lines = (fer / "fer2013.csv").read_text().splitlines()
    assert lines[0] == "emotion,pixels,Usage" and len(lines) == 1 + sum(standins._FER_TRAIN_COUNTS) + \
        sum(standins._FER_TEST_COUNTS)
    rows = [line.split(",") for line in lines[1:]]
    usage = [u for _, _, u in rows]
    assert usage.count("Training") == sum(standins._FER_TRAIN_COUNTS)
    assert usage[-4:] == ["PrivateTest", "PublicTest", "PrivateTest", "PublicTest"]
    for split, offset, i in (("train", 0, 0), ("train", 0, 399), ("test", sum(standins._FER_TRAIN_COUNTS), 7)):
        (png,) = (fer / split).glob(f"*/{split}_{i:05d}.png")
        image = Image.open(png)
        assert image.mode == "L" and image.size == (48, 48)
        label, pixels, _ = rows[offset + i]
        assert standins.FER_CSV_CLASSES[int(label)] == png.parent.name  # the CSV's own label order
        assert np.array_equal(np.asarray(image).ravel(), np.array(pixels.split(), dtype=np.uint8))


def test_fer2013_emotions_differ_where_the_face_shows_them():
    counts = [30] * 7
    faces = list(standins._fer_faces(counts, np.random.default_rng(1)))
    assert [k for _, k in faces] == [k for k in range(7) for _ in range(30)]
    mean = {k: np.mean([img for img, label in faces if label == k], axis=0) for k in range(7)}
    happy, sad = (standins.FER_CLASSES.index(e) for e in ("happy", "sad"))
    assert np.abs(mean[happy] - mean[sad])[28:42, 14:34].mean() > 5  # the mouth curves the other way
    assert all(img.shape == (48, 48) and img.dtype == np.uint8 for img, _ in faces[:5])


def test_each_build_is_the_same_bytes(root, tmp_path):
    elsewhere = tmp_path / "carpeta" / "nueva"  # folders that do not exist yet are made
    first, again = standins.fer2013(root), standins.fer2013(elsewhere)
    assert (first / "fer2013.csv").read_bytes() == (again / "fer2013.csv").read_bytes()
    first, again = standins.mnist(root) / "raw", standins.mnist(elsewhere) / "raw"
    for name in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert (first / name).read_bytes() == (again / name).read_bytes()


def test_a_stand_in_is_built_once_and_a_failed_build_leaves_nothing(tmp_path):
    calls = []

    def build(folder):
        calls.append(folder)
        (folder / "dato").write_text("x")

    target = tmp_path / "conjunto"
    assert standins._publish(build, target) == target and (target / "dato").read_text() == "x"
    assert standins._publish(build, target) == target and len(calls) == 1  # already there: not rebuilt
    # built beside the target, so the final rename is atomic (one file system), under a hidden name of its own
    assert calls[0].parent == tmp_path and calls[0].name.startswith(".conjunto-")

    def broken(folder):
        (folder / "a_medias").write_text("x")
        raise OSError("disco lleno")

    with pytest.raises(OSError, match="disco lleno"):
        standins._publish(broken, tmp_path / "roto")
    assert list(tmp_path.iterdir()) == [target]  # neither the target nor its temporary folder


def test_a_build_that_loses_the_race_keeps_the_winners_copy(tmp_path):
    target = tmp_path / "conjunto"

    def racing(folder):  # another process publishes first, while this one builds
        target.mkdir()
        (target / "dato").write_text("ganador")
        (folder / "dato").write_text("perdedor")

    assert standins._publish(racing, target) == target
    assert (target / "dato").read_text() == "ganador" and list(tmp_path.iterdir()) == [target]


def test_sample_photos_are_scikit_learns_two_jpegs():
    photos = standins.sample_photos()
    assert sorted(photos) == ["china", "flower"] and all(p.suffix == ".jpg" and p.exists() for p in photos.values())


def _sha256(*chunks):
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def test_the_stand_ins_are_the_committed_pictures(root, tmp_path):
    """The smoke profile's budgets and the labs' hidden-test thresholds were measured on exactly these
    images, so any change to what the stand-ins draw (a seed, a size, a stroke of the faces, a colour of the
    CIFAR-10 stripes, how the digits are scaled) must be deliberate: re-measure the smoke budgets and
    thresholds, then update the digests below with the values this test prints when it fails.

    What is hashed is what the loaders read, never an encoded picture (PNG or pickle bytes depend on library
    builds): the MNIST idx files (raw bytes), the FER-2013 CSV (the faces' pixels and labels as text) and the
    CIFAR-10 arrays and labels, at the default sizes the smoke profile uses. The digits are scaled by Pillow,
    so a Pillow whose bilinear resize differs changes the MNIST digest.
    """
    raw = standins.mnist(root) / "raw"
    cifar = standins.cifar10(tmp_path)
    batches = [pickle.loads((cifar / name).read_bytes())
               for name in [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]]
    digests = {
        "mnist": _sha256(*((raw / name).read_bytes() for name in (
            "train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"))),
        "fer2013": _sha256((standins.fer2013(root) / "fer2013.csv").read_bytes()),
        "cifar10": _sha256(*(np.ascontiguousarray(b["data"], dtype=np.uint8).tobytes()
                             + np.array(b["labels"], dtype=np.uint8).tobytes() for b in batches)),
    }
    assert [len(b["labels"]) for b in batches] == [200] * 6  # 1 000 training images in five batches, 200 test
    assert digests == {
        "mnist": "11f620a22daee322fb6a851dc9989eb68e8168468c697697e2c16f1cfbc0861f",
        "fer2013": "cf1d58796aaa0ee50c06f6535cce3ab36eaa15393d926b093bfdaf2483f04963",
        "cifar10": "5795c1ddfe131d9d97f17ae8bfa54282d8330b874c298470f27dcc059ebb9492",
    }, digests

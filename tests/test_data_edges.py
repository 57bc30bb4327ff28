"""The rarer paths of ``helpers.data`` on tiny data: FER-2013 folders and CSVs written here, archives
inside archives, the decoded-image cache, and tensors from datasets of other kinds."""
import io
import os
import re
import tarfile
import warnings
import zipfile

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision import datasets, transforms

from helpers import data, fer2013, runtime, standins

PIXELS = " ".join(["7"] * 48 * 48)


def _csv(folder, rows):
    """Write ``folder/fer2013.csv`` with ``rows`` of (CSV emotion number, pixels, usage); return the folder's parent."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["emotion,pixels,Usage"] + [f"{e},{p},{u}" for e, p, u in rows]
    (folder / "fer2013.csv").write_text("\n".join(lines) + "\n")
    return folder.parent


def _layout(fer, images=None, marker=None):
    """FER-2013's folders under ``fer`` (train/ and test/, one folder per emotion), empty but for
    ``images`` ({"split/emotion/name": uint8 array or bytes}) and an empty file ``marker`` in train/happy."""
    for split in ("train", "test"):
        for c in data.FER_CLASSES:
            (fer / split / c).mkdir(parents=True, exist_ok=True)
    for name, content in (images or {}).items():
        if isinstance(content, bytes):
            (fer / name).write_bytes(content)
        else:
            Image.fromarray(content).save(fer / name)
    if marker:
        (fer / "train" / "happy" / marker).write_bytes(b"")
    return fer


def _one_face_per_emotion(split="test"):
    return {f"{split}/{c}/{c}.png": np.full((48, 48), 30 * i, np.uint8) for i, c in enumerate(data.FER_CLASSES)}


# --- load_fer2013: options and messages ------------------------------------------------------------

def test_fer_defaults_to_the_training_split_and_names_the_accepted_values(tmp_path):
    faces = {**_one_face_per_emotion("train"), "test/sad/a.png": np.zeros((48, 48), np.uint8)}
    root = _layout(tmp_path / "fer2013", faces).parent
    assert len(data.load_fer2013(root=root, cache=False)) == 7
    with pytest.raises(ValueError) as error:
        data.load_fer2013("validacion")
    assert str(error.value) == "split debe ser 'train' o 'test', no 'validacion'."
    with pytest.raises(ValueError) as error:
        data.load_fer2013("test", layout="zip")
    assert str(error.value) == "layout debe ser 'folder' o 'csv', no 'zip'."


def test_fer_dataset_items_are_an_image_and_an_int_label_with_the_transform_applied(tmp_path):
    root = _layout(tmp_path / "fer2013", _one_face_per_emotion()).parent
    plain = data.load_fer2013("test", root=root, cache=False)
    image, label = plain[3]
    assert torch.equal(image, plain.images[3]) and image.shape == (1, 48, 48)
    assert type(label) is int and label == 3 and plain.classes[label] == "happy"
    flipped = data.load_fer2013("test", root=root, cache=False, transform=lambda im: 1 - im)
    image, label = flipped[3]
    assert torch.allclose(image, 1 - plain.images[3]) and label == 3
    assert torch.equal(flipped.images, plain.images)  # the transform runs per item, not on the stored images


def test_fer_csv_rows_are_mapped_to_the_folder_order_and_bad_rows_named_by_line(tmp_path):
    fer = tmp_path / "fer2013"
    csv_index = {c: i for i, c in enumerate(standins.FER_CSV_CLASSES)}
    root = _csv(fer, [(csv_index["sad"], PIXELS, "Training"),
                      (csv_index["fear"], "1 2 3", "Training"),        # line 3: not 48x48 pixels
                      (csv_index["angry"], PIXELS, "PublicTest"),
                      (csv_index["surprise"], PIXELS, "Training")])    # read after the bad row
    with pytest.warns(UserWarning) as caught:
        ds = data.load_fer2013("train", layout="csv", root=root, cache=False)
    assert [str(w.message) for w in caught] == ["Se omitieron 1 imágenes que no se pudieron leer: fer2013.csv:3"]
    assert ds.skipped == ["fer2013.csv:3"]
    assert [ds.classes[t] for t in ds.targets] == ["sad", "surprise"] and ds.targets.dtype == torch.int64
    assert torch.allclose(ds.images, torch.full((2, 1, 48, 48), 7 / 255))


@pytest.mark.parametrize("bad, listed", [(10, 10), (11, 10)])
def test_fer_warning_lists_ten_skipped_rows_at_most(tmp_path, bad, listed):
    root = _csv(tmp_path / "fer2013", [(0, PIXELS, "Training")] + [(0, "1 2", "Training")] * bad)
    with pytest.warns(UserWarning) as caught:
        data.load_fer2013("train", layout="csv", root=root, cache=False)
    names = ", ".join(f"fer2013.csv:{line}" for line in range(3, 3 + listed))
    assert [str(w.message) for w in caught] == [
        f"Se omitieron {bad} imágenes que no se pudieron leer: {names}{' ...' if bad > listed else ''}"]


def test_fer_csv_without_bad_rows_warns_nothing_also_from_the_cache(tmp_path):
    root = _csv(tmp_path / "fer2013", [(3, PIXELS, "PrivateTest")])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        first = data.load_fer2013("test", layout="csv", root=root)  # one image is enough
        cached = data.load_fer2013("test", layout="csv", root=root)
    assert first.skipped == cached.skipped == [] and len(first) == len(cached) == 1


def test_fer_without_a_readable_image_of_the_split_is_a_clear_error(tmp_path):
    root = _csv(tmp_path / "fer2013", [(3, PIXELS, "Training")])  # no test rows at all
    with pytest.raises(data.CourseDataError) as error:
        data.load_fer2013("test", layout="csv", root=root)
    assert str(error.value) == f"No se pudo leer ninguna imagen de FER-2013 (test) en {root / 'fer2013'}."
    _layout(root / "fer2013", {"test/sad/rota.png": b"no es una imagen"})
    with pytest.warns(UserWarning, match="test/sad/rota.png"), pytest.raises(data.CourseDataError) as error:
        data.load_fer2013("test", root=root, cache=False)
    assert str(error.value) == f"No se pudo leer ninguna imagen de FER-2013 (test) en {root / 'fer2013'}."


def test_fer_folder_ignores_hidden_files_such_as_macos_resource_forks(tmp_path):
    fer = _layout(tmp_path / "fer2013", {**_one_face_per_emotion(), "test/happy/._happy.png": b"\0\5\26\7Mac OS X"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ds = data.load_fer2013("test", root=fer.parent, cache=False)
    assert len(ds) == 7 and ds.skipped == []


def test_fer_in_the_profile_folder_is_made_in_smoke_but_never_in_a_folder_given(tmp_path, monkeypatch):
    made = []
    real = standins.fer2013
    monkeypatch.setattr(standins, "fer2013", lambda root: made.append(root) or real(root))
    with pytest.raises(data.CourseDataError):
        data.fer_layout(tmp_path)
    assert made == [] and not (tmp_path / "fer2013").exists()
    assert data.fer_layout() == "folder" and made == [runtime.profile().data_root]


# --- the decoded-image cache ---------------------------------------------------------------------

def test_fer_cache_sees_a_renamed_file_even_when_the_folder_keeps_its_size_and_time(tmp_path):
    sad = tmp_path / "fer2013" / "test" / "sad"
    _layout(tmp_path / "fer2013", {**_one_face_per_emotion(), "test/sad/a.png": np.zeros((48, 48), np.uint8),
                                   "test/sad/b.png": np.full((48, 48), 255, np.uint8)})
    first = data.load_fer2013("test", root=tmp_path)
    before = sad.stat()
    (sad / "a.png").rename(sad / "z.png")  # the same files, now read in another order
    os.utime(sad, ns=(before.st_atime_ns, before.st_mtime_ns))  # as copies that keep times leave it
    second = data.load_fer2013("test", root=tmp_path)
    assert [im.mean().item() for im in first.images[5:8]] == pytest.approx([0, 1, 150 / 255])
    assert [im.mean().item() for im in second.images[5:8]] == pytest.approx([1, 150 / 255, 0])


def test_fer_cache_is_one_hidden_folder_beside_the_data(tmp_path):
    fer = _layout(tmp_path / "fer2013", _one_face_per_emotion())
    _csv(fer, [(3, PIXELS, "PublicTest")])
    before = set(os.listdir(fer))
    data.load_fer2013("test", root=fer.parent)
    data.load_fer2013("test", layout="csv", root=fer.parent)
    assert set(os.listdir(fer)) - before == {".cache"} and len(os.listdir(fer / ".cache")) == 2


def _arrays():
    return {"images": np.arange(6, dtype=np.float32).reshape(2, 3), "labels": np.array([4, 5])}


def test_cache_is_read_memory_mapped_and_copy_on_write(tmp_path):
    cache = tmp_path / ".cache" / "test-1"
    fer2013._cached(cache, _arrays)
    again = fer2013._cached(cache, lambda: pytest.fail("a saved cache must not be computed again"))
    assert isinstance(again["images"], np.memmap) and np.array_equal(again["images"], _arrays()["images"])
    again["images"][0, 0] = 99  # a change in memory (a transform in place) never reaches the file
    assert np.array_equal(fer2013._cached(cache, _arrays)["images"], _arrays()["images"])


def test_cache_is_saved_over_a_temporary_folder_left_by_an_interrupted_save(tmp_path):
    cache = tmp_path / ".cache" / "test-1"
    left = cache.with_name(f"test-1.{os.getpid()}.tmp")  # a restarted Colab runtime often has the same pid
    left.mkdir(parents=True)
    (left / "images.npy").write_bytes(b"a medias")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fer2013._cached(cache, _arrays)
    assert sorted(os.listdir(tmp_path / ".cache")) == ["test-1"]
    assert np.array_equal(fer2013._cached(cache, _arrays)["images"], _arrays()["images"])


def test_cache_that_cannot_be_saved_warns_and_leaves_nothing_behind(tmp_path):
    cache = tmp_path / ".cache" / "test-1"
    cache.parent.mkdir()
    cache.write_text("un archivo donde iría la caché")
    with pytest.warns(UserWarning) as caught:
        arrays = fer2013._cached(cache, _arrays)
    assert np.array_equal(arrays["labels"], [4, 5])
    assert len(caught) == 1 and re.fullmatch(rf"No se pudo guardar la caché {re.escape(str(cache))}: \[Errno \d+\] "
                                             r".+\. La próxima carga será más lenta\.",
                                             str(caught[0].message))
    assert os.listdir(tmp_path / ".cache") == ["test-1"]  # the temporary folder is removed


# --- install_fer2013 -----------------------------------------------------------------------------

def test_install_prefers_the_shallowest_copy_and_skips_hidden_folders(tmp_path):
    for deep in ("a", "z"):  # the deeper copy first and last by name (and so in the folder listing)
        tree, other = tmp_path / f"fuente_{deep}", "z" if deep == "a" else "a"
        _layout(tree / deep / "copia" / "vieja", marker="vieja.png")
        _csv(tree / deep / "copia" / "vieja", [(0, "vieja", "Training")])
        _layout(tree / other / "buena", marker="buena.png")
        _csv(tree / other / "buena", [(0, "buena", "Training")])
        fer = data.install_fer2013(tree, tmp_path / f"datos_{deep}")
        assert os.listdir(fer / "train" / "happy") == ["buena.png"]
        assert "buena" in (fer / "fer2013.csv").read_text()
    tree = tmp_path / "con_checkpoints"
    _layout(tree / ".ipynb_checkpoints", marker="oculta.png")
    _layout(tree / "datos" / "fer2013", marker="buena.png")
    fer = data.install_fer2013(tree, tmp_path / "datos_ocultos")
    assert os.listdir(fer / "train" / "happy") == ["buena.png"]


@pytest.mark.parametrize("inner", ["fer2013.zip", "fer2013.tgz", "fer2013.tar"])
def test_install_unpacks_an_archive_inside_the_archive(tmp_path, inner):
    text = "emotion,pixels,Usage\n0,1 2 3,Training\n"
    packed = io.BytesIO()
    if inner.endswith(".zip"):
        with zipfile.ZipFile(packed, "w") as zf:
            zf.writestr("fer2013/fer2013.csv", text)
    else:
        with tarfile.open(fileobj=packed, mode="w:gz" if inner.endswith(".tgz") else "w") as tar:
            info = tarfile.TarInfo("fer2013/fer2013.csv")
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    outer = tmp_path / "de_drive.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr(f"descargas/{inner}", packed.getvalue())
    fer = data.install_fer2013(outer, tmp_path / "datos")
    assert (fer / "fer2013.csv").read_text() == text and data.fer_layout(tmp_path / "datos") == "csv"


def test_install_again_replaces_the_data_and_accepts_its_own_csv(tmp_path):
    root = tmp_path / "datos"
    data.install_fer2013(_layout(tmp_path / "vieja", marker="vieja.png"), root)
    new = _layout(tmp_path / "nueva", marker="nueva.png")
    _csv(new, [(0, "nueva", "Training")])
    fer = data.install_fer2013(new, root)
    assert os.listdir(fer / "train" / "happy") == ["nueva.png"]
    assert data.install_fer2013(fer / "fer2013.csv", root) == fer  # the CSV already in place
    assert "nueva" in (fer / "fer2013.csv").read_text()


def test_install_after_an_interrupted_one_starts_from_a_clean_scratch_folder(tmp_path):
    root = tmp_path / "datos"
    (root / ".fer2013-descomprimido" / "a_medias").mkdir(parents=True)  # left by a runtime that stopped
    archive = tmp_path / "fer.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("fer2013.csv", "emotion,pixels,Usage\n")
    assert data.fer_layout(data.install_fer2013(archive, root).parent) == "csv"
    assert sorted(os.listdir(root)) == ["fer2013"]


def test_install_and_layout_messages_say_what_to_do(tmp_path):
    with pytest.raises(data.CourseDataError) as error:
        data.install_fer2013(tmp_path / "fer.zip", tmp_path / "datos")
    assert str(error.value) == (f"No existe {tmp_path / 'fer.zip'}: revisa la ruta (en Drive suele empezar por "
                                "/content/drive/MyDrive/).")
    (tmp_path / "vacia").mkdir()
    with pytest.raises(data.CourseDataError) as error:
        data.install_fer2013(tmp_path / "vacia", tmp_path / "datos")
    assert str(error.value) == (
        "En vacia no hay FER-2013: se buscaban las carpetas train/ y test/ con una subcarpeta por emoción (angry, "
        "disgust, fear, happy, neutral, sad, surprise) o el archivo fer2013.csv.")
    with pytest.raises(data.CourseDataError) as error:
        data.fer_layout(tmp_path / "datos")
    assert str(error.value) == (
        f"No encuentro FER-2013 en {tmp_path / 'datos' / 'fer2013'}: ni las carpetas train/ y test/ (una subcarpeta "
        "por emoción) ni fer2013.csv. Ejecuta la celda «Conseguir los datos» del cuaderno (subir el zip, copiarlo "
        "de Drive o descargarlo de Kaggle con tu propio token).")


# --- tensors from datasets of every kind ---------------------------------------------------------

def _tiny_mnist(root, n=5):
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    images = np.arange(n * 28 * 28).reshape(n, 28, 28).astype(np.uint8)
    for split in ("train", "t10k"):
        standins._write_idx(raw / f"{split}-images-idx3-ubyte", images)
        standins._write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8))
    return images


def test_mnist_is_converted_at_once_without_reading_examples_one_by_one(tmp_path, monkeypatch):
    images = _tiny_mnist(tmp_path)
    ds = data.load_mnist(root=tmp_path)
    monkeypatch.setattr(datasets.MNIST, "__getitem__", lambda self, i: pytest.fail("read one by one"))
    x, y = data.dataset_to_tensors(ds)
    assert torch.equal(x, torch.from_numpy(images).unsqueeze(1) / 255) and y.tolist() == [0, 1, 2, 3, 4]


def test_mnist_with_other_transforms_or_label_transforms_gives_what_its_items_give(tmp_path):
    images = _tiny_mnist(tmp_path)
    raw = data.load_mnist(root=tmp_path, transform=transforms.PILToTensor())  # uint8, not scaled
    x, _ = data.dataset_to_tensors(raw)
    assert x.dtype == torch.uint8 and torch.equal(x, torch.from_numpy(images).unsqueeze(1))
    parity = datasets.MNIST(tmp_path, transform=transforms.ToTensor(), target_transform=lambda y: y % 2)
    assert data.dataset_to_tensors(parity)[1].tolist() == [0, 1, 0, 1, 0]


class _Inverted(torch.utils.data.Dataset):
    """A dataset of another kind that keeps ``data`` and ``transform`` as MNIST does, but inverts its images."""

    def __init__(self):
        self.data, self.targets = torch.arange(2 * 4 * 4, dtype=torch.uint8).reshape(2, 4, 4), [1, 0]
        self.transform = transforms.ToTensor()

    def __len__(self):
        return 2

    def __getitem__(self, i):
        return self.transform(255 - self.data[i].numpy()), self.targets[i]


def test_other_datasets_are_read_through_their_items_and_transforms():
    x, y = data.dataset_to_tensors(_Inverted())
    assert torch.equal(x, torch.stack([_Inverted()[i][0] for i in range(2)])) and y.tolist() == [1, 0]
    images, labels = torch.rand(4, 1, 3, 3), torch.tensor([3, 1, 2, 0])
    plain = torch.utils.data.TensorDataset(images, labels)  # no transform, no data attribute
    assert all(torch.equal(a, b) for a, b in zip(data.dataset_to_tensors(plain), (images, labels)))
    flipped = data.ImageTensorDataset(images, labels, "abcd", transform=lambda im: 1 - im)
    x, y = data.dataset_to_tensors(torch.utils.data.Subset(flipped, [2, 0]), batch_size=2)
    assert torch.allclose(x, 1 - images[[2, 0]]) and y.tolist() == [2, 3]
    assert torch.allclose(data.dataset_to_tensors(flipped)[0], 1 - images)


# --- TensorLoader and augmentation ---------------------------------------------------------------

def _order(loader):
    return torch.cat([y for _, y in loader]).tolist()


def test_tensor_loader_seed_fixes_the_order_whatever_torch_seed_and_follows_it_without_one():
    x, y = torch.zeros(20, 1, 1, 1), torch.arange(20)
    with torch.random.fork_rng():
        orders = []
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            orders.append(_order(data.TensorLoader(x, y, batch_size=8, shuffle=True, device="cpu", seed=5)))
        assert orders[0] == orders[1] != list(range(20))
        unseeded = []
        for global_seed in (1, 3, 1):
            torch.manual_seed(global_seed)
            unseeded.append(_order(data.TensorLoader(x, y, batch_size=8, shuffle=True, device="cpu")))
            torch.rand(3)  # drawing from torch's generator changes nothing in the loader's
        assert unseeded[0] == unseeded[2] != unseeded[1]


def test_tensor_loader_from_a_dataset_shuffles_augments_and_drops_as_asked():
    images, labels = torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10)
    options = dict(batch_size=4, shuffle=True, device="cpu", seed=3, augment=lambda b: -b, drop_last=True)
    loader = data.TensorLoader.from_dataset(torch.utils.data.TensorDataset(images, labels), **options)
    batches = list(loader)
    assert [len(y) for _, y in batches] == [4, 4] and len(loader) == 2
    first_epoch = torch.cat([y for _, y in batches]).tolist()
    assert first_epoch == _order(data.TensorLoader(images, labels, **options)) != list(range(8))
    assert all(torch.equal(x.flatten(), -y.float()) for x, y in batches)  # augmented, labels untouched


def test_random_crop_flip_draws_only_from_the_generator_given():
    images = torch.rand(32, 1, 6, 6)
    with torch.random.fork_rng():
        outs = []
        for global_seed in (1, 2):
            torch.manual_seed(global_seed)
            outs.append(data.random_crop_flip(images, padding=2, generator=torch.Generator().manual_seed(7)))
        assert torch.equal(outs[0], outs[1]) and not torch.equal(outs[0], images)

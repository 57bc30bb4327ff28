import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from helpers import data, fer2013, loaders, runtime, standins


def test_mnist_standin_is_read_by_torchvision():
    train, test = data.load_mnist(train=True), data.load_mnist(train=False)
    x, y = train[0]
    assert x.shape == (1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert len(train) + len(test) == 1797
    assert set(train.targets.tolist()) == set(range(10))
    assert x.sum() > 10  # a real drawn digit, not a blank image


def test_cifar10_standin_is_read_by_torchvision():
    train = data.load_cifar10(train=True)
    test = data.load_cifar10(train=False)
    assert type(train).__mro__[1].__name__ == "CIFAR10"
    assert len(train) == 1000 and len(test) == 200
    x, y = train[0]
    assert x.shape == (3, 32, 32) and 0 <= y < 10
    assert train.classes == list(data.CIFAR10_CLASSES)


def test_standins_are_deterministic(tmp_path):
    a = standins.cifar10(tmp_path / "a")
    b = standins.cifar10(tmp_path / "b")
    assert (a / "data_batch_3").read_bytes() == (b / "data_batch_3").read_bytes()


def test_fer_folder_and_csv_agree():
    folder = data.load_fer2013("train", layout="folder", cache=False)  # decoded now, not read from the cache
    csv = data.load_fer2013("train", layout="csv", cache=False)
    assert folder.images.shape == (400, 1, 48, 48) and folder.images.dtype == torch.float32
    assert 0 <= folder.images.min() and folder.images.max() <= 1
    assert folder.classes == sorted(folder.classes) == list(data.FER_CLASSES)
    assert torch.equal(folder.images, csv.images) and torch.equal(folder.targets, csv.targets)
    assert folder.targets.bincount().tolist() == [60, 10, 60, 90, 70, 60, 50]
    assert len(data.load_fer2013("test", cache=False)) == len(data.load_fer2013("test", layout="csv", cache=False)) == 100


def test_mnist_and_cifar10_read_the_folder_given_and_the_training_split_by_default(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for split, n in (("train", 3), ("t10k", 2)):  # a tiny MNIST, unlike the profile's stand-in
        standins._write_idx(raw / f"{split}-images-idx3-ubyte", np.zeros((n, 28, 28), np.uint8))
        standins._write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8))
    assert (len(data.load_mnist(root=tmp_path)), len(data.load_mnist(train=False, root=tmp_path))) == (3, 2)
    standins.cifar10(tmp_path, train_size=10, test_size=5)
    cifar, cifar_test = data.load_cifar10(root=tmp_path), data.load_cifar10(train=False, root=tmp_path)
    assert (len(cifar), len(cifar_test)) == (10, 5) and cifar[0][0].shape == (3, 32, 32)


def _copy_fer(tmp_path):
    import shutil
    root = tmp_path / "datos"
    shutil.copytree(standins.fer2013(runtime.profile().data_root), root / "fer2013")
    shutil.rmtree(root / "fer2013" / ".cache", ignore_errors=True)
    return root


def test_fer_missing_folder_or_csv_is_a_clear_error(tmp_path):
    fer = tmp_path / "fer2013"
    with pytest.raises(data.CourseDataError) as error:
        data.load_fer2013("train", root=tmp_path)
    assert str(error.value) == (
        f"No se encontró la carpeta {fer / 'train'}. FER-2013 debe estar en {fer} con las subcarpetas train/ y "
        "test/, y dentro una carpeta por emoción (angry, disgust, fear, happy, neutral, sad, surprise). Descárgalo "
        "de Kaggle (msambare/fer2013) y descomprímelo ahí.")
    with pytest.raises(data.CourseDataError) as error:
        data.load_fer2013("train", layout="csv", root=tmp_path)
    assert str(error.value) == (
        f"No se encontró el archivo {fer / 'fer2013.csv'}. Descarga fer2013.csv de Kaggle "
        "(challenges-in-representation-learning-facial-expression-recognition-challenge).")
    fer.mkdir()
    (fer / "fer2013.csv").write_text("emocion,pixeles\n0,1 2 3\n")
    with pytest.raises(data.CourseDataError) as error:
        data.load_fer2013("train", layout="csv", root=tmp_path)
    assert str(error.value) == (f"{fer / 'fer2013.csv'} no tiene las columnas emotion,pixels,Usage (tiene "
                                "['emocion', 'pixeles']).")


def test_fer_missing_class_is_named(tmp_path):
    import shutil
    root = _copy_fer(tmp_path)
    shutil.rmtree(root / "fer2013" / "test" / "disgust")
    shutil.rmtree(root / "fer2013" / "test" / "sad")
    with pytest.raises(data.CourseDataError) as error:
        data.load_fer2013("test", root=root)
    assert str(error.value) == (f"Faltan las carpetas de las emociones disgust, sad en {root / 'fer2013' / 'test'}. "
                                "Se esperaban: angry, disgust, fear, happy, neutral, sad, surprise.")


def test_fer_corrupt_image_is_skipped_and_named(tmp_path):
    root = _copy_fer(tmp_path)
    bad = next((root / "fer2013" / "test" / "happy").iterdir())
    bad.write_bytes(b"not a png")
    with pytest.warns(UserWarning, match=f"Se omitieron 1 .*{bad.name}"):
        ds = data.load_fer2013("test", root=root)
    assert len(ds) == 99 and ds.skipped == [f"test/happy/{bad.name}"]


def test_fer_cache_is_reused_and_invalidated(tmp_path, monkeypatch):
    root = _copy_fer(tmp_path)
    first = data.load_fer2013("test", root=root)
    decoded = []
    real_decode = data.decode_images
    monkeypatch.setattr(fer2013, "decode_images", lambda paths: decoded.append(len(paths)) or real_decode(paths))
    again = data.load_fer2013("test", root=root)
    assert decoded == [], "a second load of unchanged files must read the cache, not decode the images"
    assert torch.equal(again.images, first.images) and torch.equal(again.targets, first.targets)
    Image.fromarray(np.zeros((48, 48), np.uint8)).save(root / "fer2013" / "test" / "sad" / "nuevo.png")
    second = data.load_fer2013("test", root=root)
    assert decoded == [len(first) + 1] and len(second) == len(first) + 1
    uncached = data.load_fer2013("test", root=root, cache=False)
    assert torch.equal(uncached.images, second.images) and torch.equal(uncached.targets, second.targets)
    assert decoded == [len(first) + 1] * 2
    third = data.load_fer2013("test", root=root)
    assert len(decoded) == 2 and torch.equal(third.images, second.images)


def test_fer_csv_cache_is_reused_until_the_csv_changes(tmp_path):
    import os
    root = _copy_fer(tmp_path)
    csv = root / "fer2013" / "fer2013.csv"
    first = data.load_fer2013("test", layout="csv", root=root)
    # same size and modification time, other pixels: only a cached load still returns the old images
    stat, text = csv.stat(), csv.read_text()
    lines = text.splitlines(keepends=True)
    lines[1:] = [line.replace(" 0 ", " 9 ").replace(" 1 ", " 8 ") for line in lines[1:]]
    changed = "".join(lines)
    assert len(changed) == len(text) and changed != text
    csv.write_text(changed)
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert torch.equal(data.load_fer2013("test", layout="csv", root=root).images, first.images)
    assert not torch.equal(data.load_fer2013("test", layout="csv", root=root, cache=False).images, first.images)
    os.utime(csv, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert not torch.equal(data.load_fer2013("test", layout="csv", root=root).images, first.images)


def test_fer_folder_of_jpg_files_loads_like_png_and_ignores_other_files(tmp_path):
    root = _copy_fer(tmp_path)
    png = data.load_fer2013("test", root=root, cache=False)
    for path in sorted((root / "fer2013" / "test").glob("*/*.png")):  # as in Kaggle's msambare/fer2013
        Image.open(path).save(path.with_suffix(".jpg"), quality=95)
        path.unlink()
    (root / "fer2013" / "test" / "happy" / ".DS_Store").write_bytes(b"\0\1")
    (root / "fer2013" / "test" / "sad" / "LEEME.txt").write_text("no es una imagen")
    jpg = data.load_fer2013("test", root=root)
    assert jpg.skipped == [] and torch.equal(jpg.targets, png.targets)
    assert (jpg.images - png.images).abs().mean() < 0.02  # JPG is lossy


def test_tensor_loader_gives_the_same_batches_as_a_dataloader():
    ds = data.load_mnist(train=False)
    standard = list(torch.utils.data.DataLoader(ds, batch_size=64))
    fast = list(data.TensorLoader.from_dataset(ds, batch_size=64, device="cpu"))
    assert len(standard) == len(fast)
    for (x1, y1), (x2, y2) in zip(standard, fast):
        assert torch.equal(x1, x2) and torch.equal(y1, y2)


def test_tensor_loader_shuffles_every_example_once_per_epoch():
    x, y = torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10)
    loader = data.TensorLoader(x, y, batch_size=4, shuffle=True, device="cpu", seed=0)
    epoch1 = torch.cat([b for _, b in loader])
    epoch2 = torch.cat([b for _, b in loader])
    assert sorted(epoch1.tolist()) == list(range(10)) and not torch.equal(epoch1, epoch2)
    assert len(loader) == 3


def test_random_crop_flip_shifts_and_mirrors():
    img = torch.zeros(1, 1, 8, 8)
    img[0, 0, 3, 2] = 1.0
    out = data.random_crop_flip(img.repeat(200, 1, 1, 1), padding=2)
    assert out.shape == (200, 1, 8, 8)
    assert torch.all(out.sum((1, 2, 3)) <= 1)  # each pixel moved, none duplicated
    positions = {tuple(torch.nonzero(o[0])[0].tolist()) for o in out if o.sum() == 1}
    assert len(positions) > 10
    mirrored = data.random_crop_flip(img.repeat(200, 1, 1, 1), padding=0)
    assert {tuple(torch.nonzero(o[0])[0].tolist()) for o in mirrored} == {(3, 2), (3, 5)}
    dot = torch.zeros(400, 1, 16, 16)
    dot[:, 0, 8, 8] = 1.0
    moved = data.random_crop_flip(dot, flip=False, generator=torch.Generator().manual_seed(0))  # 4 pixels by default
    shifts = torch.stack([torch.nonzero(o[0])[0] for o in moved]) - 8
    assert shifts.abs().amax(0).tolist() == [4, 4]


@pytest.mark.parametrize("shuffle", [False, True])
def test_tensor_loader_drop_last_leaves_out_the_short_batch(shuffle):
    x, y = torch.arange(10.0).reshape(10, 1, 1, 1), torch.arange(10)
    kept = data.TensorLoader(x, y, batch_size=4, shuffle=shuffle, device="cpu", seed=0)
    dropped = data.TensorLoader(x, y, batch_size=4, shuffle=shuffle, device="cpu", seed=0, drop_last=True)
    assert [len(b) for _, b in kept] == [4, 4, 2] and len(kept) == 3
    assert [len(b) for _, b in dropped] == [4, 4] and len(dropped) == 2
    seen = torch.cat([b for _, b in dropped])
    assert len(set(seen.tolist())) == 8
    exact = data.TensorLoader(x[:8], y[:8], batch_size=4, device="cpu", drop_last=True)
    assert [len(b) for _, b in exact] == [4, 4] and len(exact) == 2


def test_tensor_loader_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="3 imágenes pero 2 etiquetas"):
        data.TensorLoader(torch.zeros(3, 1, 2, 2), torch.zeros(2), device="cpu")


def test_sample_photos_are_bundled():
    photos = data.sample_photos()
    assert {"china", "flower"} <= set(photos)
    with Image.open(photos["china"]) as img:
        assert img.mode == "RGB"


@pytest.mark.parametrize("loader, transform", [
    (data.load_mnist, None),
    (data.load_cifar10, None),
    (data.load_cifar10, "imagenet"),
])
def test_vectorised_conversion_equals_the_per_example_transform(loader, transform):
    from torchvision import transforms
    if transform == "imagenet":
        transform = transforms.Compose([transforms.ToTensor(),
                                        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    ds = loader(train=False, transform=transform)
    fast_x, fast_y = loaders._vectorized(ds)
    slow_x = torch.stack([ds[i][0] for i in range(len(ds))])
    slow_y = torch.tensor([ds[i][1] for i in range(len(ds))])
    assert torch.allclose(fast_x, slow_x, atol=1e-6) and torch.equal(fast_y, slow_y)
    sub = torch.utils.data.Subset(ds, [5, 1, 3])
    x, y = data.dataset_to_tensors(sub)
    assert torch.allclose(x, slow_x[[5, 1, 3]], atol=1e-6) and torch.equal(y, slow_y[[5, 1, 3]])


def test_unknown_transforms_take_the_general_path():
    from torchvision import transforms
    ds = data.load_mnist(train=False, transform=transforms.Compose([transforms.ToTensor(), transforms.RandomRotation(0)]))
    assert loaders._vectorized(ds) is None
    assert data.dataset_to_tensors(ds)[0].shape == (360, 1, 28, 28)


def test_images_decoded_in_parallel_equal_one_process_and_name_the_same_bad_files(tmp_path):
    rng = np.random.default_rng(0)
    paths = []
    for i, (size, mode) in enumerate([((48, 48), "L"), ((60, 40), "L"), ((48, 48), "RGB"), (None, None),
                                      ((48, 48), "L"), ((96, 96), "RGB"), (None, None), ((48, 48), "L"),
                                      ((48, 48), "RGB"), ((30, 30), "L")]):
        path = tmp_path / f"{i}.png"
        if size is None:
            path.write_bytes(b"no es una imagen")
        else:
            Image.fromarray(rng.integers(0, 256, (*size[::-1], 3) if mode == "RGB" else size[::-1], dtype=np.uint8),
                            mode).save(path)
        paths.append(str(path))
    alone, bad = data.decode_images(paths, workers=1)
    assert alone.shape == (10, 48, 48) and alone.dtype == np.uint8 and bad == [3, 6]
    assert not alone[3].any() and alone[0].any()
    assert np.array_equal(alone[0], np.asarray(Image.open(paths[0])))  # 48x48 grey: read as it is
    together, bad_together = data.decode_images(paths, workers=2, parallel_from=1)  # 10 files in 5 chunks of 2
    assert np.array_equal(together, alone) and bad_together == bad


def _fer_archive(tmp_path, layout):
    """A zip like Kaggle's: the folder layout under an extra top folder, or the challenge's tar.gz with the CSV."""
    import io
    import tarfile
    import zipfile
    fer = standins.fer2013(runtime.profile().data_root)
    archive = tmp_path / f"descarga_{layout}.zip"
    with zipfile.ZipFile(archive, "w") as zf:  # stored, not compressed: PNGs are compressed already
        if layout == "folder":
            for path in sorted(fer.glob("t*/*/*.png")):
                zf.write(path, f"archive/{path.relative_to(fer)}")
            zf.writestr("archive/train/.DS_Store", b"")
        else:
            packed = io.BytesIO()
            with tarfile.open(fileobj=packed, mode="w:gz", compresslevel=1) as tar:  # fast: 4 MB of text
                tar.add(fer / "fer2013.csv", arcname="fer2013/fer2013.csv")
            zf.writestr("fer2013.tar.gz", packed.getvalue())
    return archive


@pytest.mark.parametrize("layout", ["folder", "csv"])
def test_install_fer2013_from_a_kaggle_style_zip(tmp_path, layout):
    root = tmp_path / "datos"
    with pytest.raises(data.CourseDataError, match="Conseguir los datos"):
        data.fer_layout(root)
    folder = data.install_fer2013(_fer_archive(tmp_path, layout), root)
    assert folder == root / "fer2013" and data.fer_layout(root) == layout
    assert not (root / ".fer2013-descomprimido").exists()
    ours = data.load_fer2013("test", layout=layout, root=root)
    reference = data.load_fer2013("test", layout=layout)
    assert torch.equal(ours.images, reference.images) and torch.equal(ours.targets, reference.targets)


def test_install_fer2013_from_a_folder_or_the_csv_and_clear_errors(tmp_path):
    fer = standins.fer2013(runtime.profile().data_root)
    data.install_fer2013(fer / "fer2013.csv", tmp_path / "a")
    assert data.fer_layout(tmp_path / "a") == "csv"
    data.install_fer2013(fer, tmp_path / "b")
    assert data.fer_layout(tmp_path / "b") == "folder"
    with pytest.raises(data.CourseDataError, match="No existe"):
        data.install_fer2013(tmp_path / "no_esta.zip", tmp_path / "c")
    (tmp_path / "roto.zip").write_bytes(b"esto no es un zip")
    with pytest.raises(data.CourseDataError, match="no es un zip"):
        data.install_fer2013(tmp_path / "roto.zip", tmp_path / "c")
    (tmp_path / "vacia").mkdir()
    with pytest.raises(data.CourseDataError, match="no hay FER-2013"):
        data.install_fer2013(tmp_path / "vacia", tmp_path / "c")


def test_get_fer2013_does_nothing_when_the_data_are_there_and_explains_outside_colab(tmp_path, capsys):
    assert data.get_fer2013("drive") == runtime.profile().data_root / "fer2013"  # smoke: the stand-ins are there
    assert "ya está" in capsys.readouterr().out
    with pytest.raises(data.CourseDataError) as error:
        data.get_fer2013("subir", root=tmp_path)
    assert str(error.value) == ("Subir archivos o usar Drive solo funciona en Google Colab. En tu computadora, "
                                "descomprime FER-2013 a mano y llama a install_fer2013(ruta).")
    with pytest.raises(ValueError, match="'automático', 'curso', 'kaggle', 'drive', 'subir'; no 'correo'"):
        data.get_fer2013("correo", root=tmp_path)


def test_cifar10_spanish_names_follow_the_label_order():
    english_to_spanish = {"airplane": "avión", "automobile": "automóvil", "bird": "pájaro", "cat": "gato",
                          "deer": "ciervo", "dog": "perro", "frog": "rana", "horse": "caballo", "ship": "barco",
                          "truck": "camión"}
    assert [english_to_spanish[name] for name in data.CIFAR10_CLASSES] == list(data.CIFAR10_NAMES_ES)

"""``get_fer2013`` as Colab runs it: an upload, Google Drive and the Kaggle command, each faked here
(``google.colab``'s ``files.upload`` and ``drive.mount``, a ``kaggle`` program on the ``PATH``)."""
import io
import stat
import sys
import types
import zipfile

import pytest

from helpers import data, standins


@pytest.fixture
def fer_zip():
    """A zip with FER-2013's CSV in it, as bytes (the stand-in's CSV)."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        zf.write(standins.fer2013(data.profile().data_root) / "fer2013.csv", "fer2013/fer2013.csv")
    return packed.getvalue()


@pytest.fixture
def colab(monkeypatch, tmp_path):
    """A fake ``google.colab``: ``uploads`` is what the next ``files.upload()`` saves in the working
    folder (``/content``) and returns; ``mounted`` lists the folders ``drive.mount`` was asked for."""
    content = tmp_path / "content"
    content.mkdir()
    monkeypatch.chdir(content)
    state = types.SimpleNamespace(uploads=[], mounted=[], content=content, root=tmp_path / "datos")

    def upload():
        files = state.uploads.pop(0)
        for name, body in files.items():
            (content / name).write_bytes(body)
        return files

    colab_module = types.ModuleType("google.colab")
    colab_module.files = types.SimpleNamespace(upload=upload)
    colab_module.drive = types.SimpleNamespace(mount=state.mounted.append)
    google = types.ModuleType("google")
    google.colab = colab_module
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab_module)
    return state


def test_an_uploaded_zip_is_installed_then_deleted_and_not_asked_for_again(colab, fer_zip, capsys):
    colab.uploads.append({"fer2013.zip": fer_zip})
    folder = data.get_fer2013("subir", root=colab.root)
    assert folder == colab.root / "fer2013" and data.fer_layout(colab.root) == "csv"
    assert list(colab.content.iterdir()) == []  # the uploaded zip is not left in /content
    assert capsys.readouterr().out.splitlines() == [
        "Elige el zip de FER-2013 (o fer2013.csv) en tu ordenador; puede tardar unos minutos.",
        f"FER-2013 listo en {folder} (formato csv)."]
    assert data.get_fer2013("subir", root=colab.root) == folder  # nothing left to upload: not asked
    assert f"FER-2013 ya está en {folder} (formato csv)" in capsys.readouterr().out


def test_drive_is_mounted_and_the_zip_copied_from_it(colab, fer_zip, monkeypatch):
    monkeypatch.setattr(data, "COLAB_DRIVE", colab.content / "drive")
    (colab.content / "drive" / "MyDrive").mkdir(parents=True)
    (colab.content / "drive" / "MyDrive" / "fer2013.zip").write_bytes(fer_zip)
    assert data.get_fer2013("drive", root=colab.root) == colab.root / "fer2013"
    assert colab.mounted == [str(colab.content / "drive")] and data.fer_layout(colab.root) == "csv"
    with pytest.raises(data.CourseDataError, match="No existe .*otra/carpeta.zip"):
        data.get_fer2013("drive", "MyDrive/otra/carpeta.zip", root=colab.root / "otra")


@pytest.fixture
def kaggle(tmp_path, monkeypatch, fer_zip):
    """A ``kaggle`` program on the PATH that saves ``fer_zip`` as Kaggle's download (or fails with
    Kaggle's message when ``kaggle.fail`` is set), and a home folder without a token."""
    home, bin_dir = tmp_path / "casa", tmp_path / "bin"
    bin_dir.mkdir()
    (tmp_path / "descarga.zip").write_bytes(fer_zip)
    program = bin_dir / "kaggle"
    program.write_text(f"""#!{sys.executable}
import pathlib, shutil, sys
args = sys.argv[1:]
if pathlib.Path({str(tmp_path / "falla")!r}).exists():
    sys.exit("401 - Unauthorized")
assert args[:4] == ["datasets", "download", "-d", "msambare/fer2013"] and args[4] == "-p", args
assert (pathlib.Path.home() / ".kaggle" / "kaggle.json").exists()
shutil.copy({str(tmp_path / "descarga.zip")!r}, pathlib.Path(args[5]) / "fer2013.zip")
""")
    program.chmod(0o755)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PATH", f"{bin_dir}:{sys.exec_prefix}/bin:/usr/bin:/bin")
    return types.SimpleNamespace(home=home, fail=tmp_path / "falla")


def test_kaggle_asks_for_the_token_once_and_downloads_with_it(colab, kaggle, capsys):
    (kaggle.home / ".kaggle").mkdir(parents=True)  # a folder without the token, as deleting a wrong one leaves
    colab.uploads.append({})  # the student closed the upload dialog
    with pytest.raises(data.CourseDataError) as error:
        data.get_fer2013("kaggle", root=colab.root)
    assert str(error.value) == "No se subió ningún archivo: hace falta tu kaggle.json para descargar de Kaggle."
    assert capsys.readouterr().out == ("Sube tu kaggle.json (en kaggle.com: tu perfil → Settings → API → Create New "
                                       "Token).\n")
    colab.uploads.append({"kaggle.json": b'{"username": "ana", "key": "abc"}'})
    assert data.get_fer2013(root=colab.root) == colab.root / "fer2013"  # Kaggle is the default
    token = kaggle.home / ".kaggle" / "kaggle.json"
    assert token.read_bytes() == b'{"username": "ana", "key": "abc"}'
    assert stat.S_IMODE(token.stat().st_mode) == 0o600  # the kaggle command refuses a token others can read


def test_a_refused_kaggle_download_says_so_in_spanish(colab, kaggle):
    token = kaggle.home / ".kaggle" / "kaggle.json"
    token.parent.mkdir(parents=True)
    token.write_text("{}")
    kaggle.fail.touch()
    with pytest.raises(data.CourseDataError, match=r"^Kaggle no dejó descargar msambare/fer2013: 401 - Unauthorized "
                                                   r"¿Es correcto tu kaggle.json\?$"):
        data.get_fer2013("kaggle", root=colab.root)
    assert not (colab.root / "fer2013").exists()

"""``get_fer2013`` as Colab runs it: an upload, Google Drive and the Kaggle command, each faked here
(``google.colab``'s ``files.upload`` and ``drive.mount``, a ``kaggle`` program on the ``PATH``)."""
import io
import stat
import sys
import tarfile
import types
import zipfile
from pathlib import Path

import pytest

from helpers import colab as helpers_colab, course, data, fer2013_install, progress, runtime, standins


@pytest.fixture
def fer_zip():
    """A zip with FER-2013's CSV in it, as bytes (the stand-in's CSV)."""
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w") as zf:
        zf.write(standins.fer2013(runtime.profile().data_root) / "fer2013.csv", "fer2013/fer2013.csv")
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
    def mount(path):  # what the student keeps in Drive (state.drive, by path) appears once mounted
        state.mounted.append(path)
        for name, body in state.drive.items():
            (Path(path) / name).parent.mkdir(parents=True, exist_ok=True)
            (Path(path) / name).write_bytes(body)
        (Path(path) / "MyDrive").mkdir(parents=True, exist_ok=True)

    state.drive = {}
    colab_module.drive = types.SimpleNamespace(mount=mount)
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
        "Elige el zip de FER-2013 (o fer2013.csv) en tu computadora; puede tardar unos minutos.",
        f"FER-2013 listo en {folder} (formato csv)."]
    assert data.get_fer2013("subir", root=colab.root) == folder  # nothing left to upload: not asked
    assert f"FER-2013 ya está en {folder} (formato csv)" in capsys.readouterr().out


def test_drive_is_mounted_and_the_zip_copied_from_it(colab, fer_zip, monkeypatch):
    monkeypatch.setattr(helpers_colab, "COLAB_DRIVE", colab.content / "drive")
    colab.drive["MyDrive/fer2013.zip"] = fer_zip
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


# --- the instructor's copy: helpers.course.FER2013_URL ------------------------------------------

@pytest.fixture
def course_copy(tmp_path, monkeypatch, fer_zip):
    """The instructor's copy of FER-2013 as a file:// address without a suffix (as a Drive download
    is), set as the course's FER2013_URL."""
    copy = tmp_path / "servidor" / "descarga"
    copy.parent.mkdir()
    copy.write_bytes(fer_zip)
    monkeypatch.setattr(course, "FER2013_URL", copy.as_uri())
    return copy


def test_with_the_course_url_set_it_is_the_default_and_downloads_with_a_progress_bar(colab, course_copy, capsys):
    folder = data.get_fer2013(root=colab.root)
    out, err = capsys.readouterr()
    assert folder == colab.root / "fer2013" and data.fer_layout(colab.root) == "csv"
    assert "Descargando FER-2013 del enlace del curso." in out and "Kaggle" not in out
    assert "FER-2013" in err and "100%" in err  # tqdm's bar, on stderr
    assert data.default_fer_origin() == "curso"


def test_without_the_course_url_the_default_says_so_and_the_course_origin_refuses(colab, monkeypatch):
    monkeypatch.setattr(course, "FER2013_URL", "")
    assert data.default_fer_origin() == "kaggle"
    with pytest.raises(data.CourseDataError, match=r"no ha dejado un enlace del curso.*\"kaggle\", \"drive\" o "
                                                   r"\"subir\""):
        data.get_fer2013("curso", root=colab.root)
    assert not (colab.root / "fer2013").exists()


def test_a_download_with_another_checksum_is_refused_and_the_right_one_installed(colab, course_copy, monkeypatch):
    import hashlib

    monkeypatch.setattr(course, "FER2013_SHA256", "0" * 64)
    with pytest.raises(data.CourseDataError, match="SHA-256 no coincide"):
        data.get_fer2013("curso", root=colab.root)
    assert not (colab.root / "fer2013").exists()
    monkeypatch.setattr(course, "FER2013_SHA256", hashlib.sha256(course_copy.read_bytes()).hexdigest().upper())
    assert data.get_fer2013("curso", root=colab.root) == colab.root / "fer2013"


def test_a_web_page_or_a_dead_link_instead_of_the_file_fails_in_spanish(colab, course_copy, monkeypatch):
    course_copy.write_bytes(b"<!DOCTYPE html><html><body>Google Drive - Virus scan warning</body></html>")
    with pytest.raises(data.CourseDataError, match="devolvió una página web.*Cualquier persona con el enlace"):
        data.get_fer2013("curso", root=colab.root)
    monkeypatch.setattr(course, "FER2013_URL", (course_copy.parent / "no-existe.zip").as_uri())
    with pytest.raises(data.CourseDataError, match="No se pudo descargar FER-2013 del enlace del curso"):
        data.get_fer2013("curso", root=colab.root)
    assert not (colab.root / "fer2013").exists()


@pytest.mark.parametrize("kind", ["tar.gz", "tar", "csv"])
def test_the_course_url_may_give_a_gzipped_tar_a_tar_or_the_bare_csv(colab, course_copy, kind):
    csv = standins.fer2013(runtime.profile().data_root) / "fer2013.csv"
    if kind == "csv":
        course_copy.write_bytes(csv.read_bytes())
    else:
        course_copy.unlink()
        with tarfile.open(course_copy, "w:gz" if kind == "tar.gz" else "w") as tar:
            tar.add(csv, "fer2013/fer2013.csv")
    assert data.get_fer2013("curso", root=colab.root) == colab.root / "fer2013"
    assert data.fer_layout(colab.root) == "csv"


def test_what_a_download_is_comes_from_its_first_bytes(tmp_path):
    file = tmp_path / "descarga"
    with tarfile.open(file, "w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(tarfile.TarInfo("vacío.txt"))
    assert fer2013_install._archive_suffix(file) == ".tar"
    kinds = {b"PK\x03\x04": ".zip", b"\x1f\x8b\x08": ".tar.gz", b"\n  Emotion,pixels,Usage\n": ".csv"}
    for head, suffix in kinds.items():
        file.write_bytes(head + bytes(600))
        assert fer2013_install._archive_suffix(file) == suffix
    file.write_bytes(b"  <HTML><body>Google Drive</body></html>")
    with pytest.raises(data.CourseDataError, match="devolvió una página web"):
        fer2013_install._archive_suffix(file)
    file.write_bytes(b"emocion,pixeles\n" + bytes(600))
    with pytest.raises(data.CourseDataError, match="no es un zip, un tar ni fer2013.csv"):
        fer2013_install._archive_suffix(file)


def test_a_server_that_does_not_say_the_size_gets_a_bar_that_counts_bytes(colab, course_copy, monkeypatch, capsys):
    import urllib.request

    class Response(io.BytesIO):
        headers = {}  # no Content-Length

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Response(course_copy.read_bytes()))
    assert data.get_fer2013("curso", root=colab.root) == colab.root / "fer2013"
    err = capsys.readouterr().err
    assert "FER-2013" in err and "%" not in err  # no percentage of an unknown size


def test_a_drive_sharing_link_becomes_its_direct_download():
    link = "https://drive.google.com/file/d/1AbC-d_9/view?usp=sharing"
    assert fer2013_install._direct_url(link) == "https://drive.usercontent.google.com/download?id=1AbC-d_9&export=download&confirm=t"
    assert fer2013_install._direct_url("https://ejemplo.org/fer2013.zip") == "https://ejemplo.org/fer2013.zip"


def test_an_unknown_origin_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'automático', 'curso', 'kaggle', 'drive', 'subir'"):
        data.get_fer2013("dropbox")


# --- where lab 5 keeps its progress -------------------------------------------------------------

@pytest.fixture
def full_profile(monkeypatch, tmp_path):
    for name in ("NBGRADER_EXECUTION", "COURSE_MAX_STEPS", "COURSE_WORK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("COURSE_DATA", str(tmp_path / "datos"))
    return tmp_path / "datos"


def test_in_colab_progress_goes_to_drive_which_is_mounted_by_default(colab, full_profile, monkeypatch, capsys):
    monkeypatch.setattr(helpers_colab, "COLAB_DRIVE", colab.content / "drive")
    folder = data.progress_folder("lab5")
    assert folder == colab.content / "drive" / "MyDrive" / "dl-curso" / "lab5" and folder.is_dir()
    assert colab.mounted == [str(colab.content / "drive")]
    assert capsys.readouterr().out == (f"El progreso de lab5 se guarda en {folder} "
                                       "(en tu Google Drive: sobrevive al cierre de la sesión).\n")
    assert data.progress_folder("lab5") == folder and len(colab.mounted) == 1  # mounted once


def test_opting_out_of_drive_or_refusing_it_keeps_progress_in_the_session(colab, full_profile, monkeypatch, capsys):
    monkeypatch.setattr(helpers_colab, "COLAB_DRIVE", colab.content / "drive")
    assert data.progress_folder("lab5", drive=False) == full_profile / "lab5" and colab.mounted == []
    assert capsys.readouterr().out == (f"El progreso de lab5 se guarda en {full_profile / 'lab5'} "
                                       "(fuera de Drive: Colab lo borra al cerrar la sesión).\n")

    def refuse(path):
        raise ValueError("mount failed")

    monkeypatch.setattr(sys.modules["google.colab"].drive, "mount", refuse)
    assert data.progress_folder("lab5") == full_profile / "lab5"
    assert "No se pudo montar Google Drive (ValueError: mount failed)" in capsys.readouterr().out


def test_in_smoke_progress_is_temporary_and_drive_is_never_touched(colab, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    monkeypatch.setattr(helpers_colab, "COLAB_DRIVE", colab.content / "drive")
    monkeypatch.setattr(progress, "_temporary_folders", [])  # a new kernel's
    first = data.progress_folder("lab5")
    (first / "pesos.pt").write_bytes(b"de esta sesion")
    second = data.progress_folder("lab5")
    assert first.is_dir() and second.is_dir() and list(second.iterdir()) == [] and colab.mounted == []
    assert not (colab.content / "drive").exists()


def test_a_colab_without_the_drive_module_falls_back_to_the_session_folder(colab, full_profile, monkeypatch, capsys):
    monkeypatch.setattr(helpers_colab, "COLAB_DRIVE", colab.content / "drive")
    del sys.modules["google.colab"].drive
    assert data.progress_folder("lab5") == full_profile / "lab5"
    assert "No se pudo montar Google Drive (ImportError" in capsys.readouterr().out


def test_outside_colab_progress_stays_on_this_machine(full_profile, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "google.colab", None)  # not importable: not Colab
    monkeypatch.setattr(helpers_colab, "COLAB_DRIVE", full_profile / "sin_drive")
    assert data.progress_folder("lab5") == full_profile / "lab5" and (full_profile / "lab5").is_dir()
    assert capsys.readouterr().out == f"El progreso de lab5 se guarda en {full_profile / 'lab5'} (en esta máquina).\n"


def test_course_checkpoints_writes_where_it_is_told_in_any_profile(tmp_path, monkeypatch, capsys):
    told = tmp_path / "checkpoints" / "lab5_fer2013"  # its parent does not exist yet
    monkeypatch.setenv("COURSE_PROGRESS", str(told))
    for name in ("smoke", "full"):
        monkeypatch.setenv("COURSE_PROFILE", name)
        assert data.progress_folder("lab5_fer2013") == told and told.is_dir()
    assert capsys.readouterr().out == ""

"""Bringing FER-2013 to where :func:`helpers.fer2013.load_fer2013` reads it: from an archive, a folder or
the CSV, downloaded from the course's link or Kaggle, copied from Google Drive or uploaded in Colab."""
import hashlib
import re
import shutil
import tempfile
from pathlib import Path

from . import colab, course
from .data_root import CourseDataError, data_root
from .fer2013 import FER_CLASSES, fer_folder, fer_layout

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
    dest = data_root(root) / "fer2013"
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


def _colab_files():
    try:
        from google.colab import files
    except ImportError:
        raise CourseDataError("Subir archivos o usar Drive solo funciona en Google Colab. En tu computadora, "
                              "descomprime FER-2013 a mano y llama a install_fer2013(ruta).") from None
    return files


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
        print(f"FER-2013 ya está en {fer_folder(root)} (formato {fer_layout(root)}): no hace falta descargarlo.")
        return fer_folder(root)
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
        if not colab.mount_drive():
            raise CourseDataError("No se pudo montar tu Google Drive: vuelve a ejecutar la celda y acepta el permiso, "
                                  "o elige otro ORIGEN.")
        install_fer2013(colab.COLAB_DRIVE / drive_path, root)
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
    folder = fer_folder(root)
    print(f"FER-2013 listo en {folder} (formato {fer_layout(root)}).")
    return folder

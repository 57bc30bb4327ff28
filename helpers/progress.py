"""Where a lab keeps what must outlive a Colab session, and the instructor's trained models it can download."""
import os
import shutil
import tempfile
from pathlib import Path

from . import colab, course
from .runtime import profile

#: Where the labs keep progress in the student's Drive: ``MyDrive/dl-curso/<lab>``.
DRIVE_PROGRESS = Path("MyDrive") / "dl-curso"
_temporary_folders = []  # kept alive until the kernel ends, then deleted


def progress_folder(lab: str, drive: bool = True) -> Path:
    """The folder where ``lab`` saves weights and results that must outlive a Colab session.

    ``COURSE_PROGRESS``, when set (by ``course checkpoints``), names the folder. In Colab with ``drive`` true it mounts Google Drive (see :func:`helpers.colab.mount_drive`) and returns
    ``MyDrive/dl-curso/<lab>``; without Drive, ``<work_root>/<lab>``, which Colab deletes when the
    session ends. In smoke (grading, CI) it is a temporary folder, deleted when the kernel ends, so a
    graded notebook never reuses anything and never touches Drive. The folder exists on return.
    """
    p = profile()
    if os.environ.get("COURSE_PROGRESS"):  # ``course checkpoints``: the instructor's run writes there
        folder = Path(os.environ["COURSE_PROGRESS"])
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    if p.is_smoke:
        _temporary_folders.append(tempfile.TemporaryDirectory())
        return Path(_temporary_folders[-1].name)
    if drive and colab.mount_drive():
        folder = colab.COLAB_DRIVE / DRIVE_PROGRESS / lab
        where = "en tu Google Drive: sobrevive al cierre de la sesión"
    else:
        folder = p.work_root / lab
        where = ("fuera de Drive: Colab lo borra al cerrar la sesión" if colab.in_colab()
                 else "en esta máquina")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"El progreso de {lab} se guarda en {folder} ({where}).")
    return folder


def course_checkpoint(lab: str, names, dest, url=course.checkpoint_url) -> list[Path]:
    """Download into ``dest`` the files ``names`` of ``lab`` that the instructor trained and published
    (``course checkpoints``), unless ``dest`` already has them; return the files now in ``dest``.

    ``url(lab, name)`` gives each file's address. Nothing is downloaded in smoke (grading, CI). If a
    file cannot be downloaded (the instructor published none, or there is no connection), it says so
    in Spanish and returns what there is: the notebook then trains that model itself.
    """
    import urllib.error
    import urllib.request

    dest = Path(dest)
    if profile().is_smoke:
        return [dest / n for n in names if (dest / n).exists()]
    for name in names:
        target = dest / name
        if target.exists():
            continue
        partial = target.with_name(target.name + ".descargando")
        try:
            with urllib.request.urlopen(url(lab, name), timeout=60) as response, partial.open("wb") as out:
                shutil.copyfileobj(response, out)
        except (urllib.error.URLError, OSError, ValueError) as error:
            partial.unlink(missing_ok=True)
            print(f"No se pudo descargar {name} de los modelos del curso ({error}): este modelo se entrenará aquí.")
            break
        partial.replace(target)
    return [dest / n for n in names if (dest / n).exists()]

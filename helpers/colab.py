"""Google Colab: whether this kernel runs there, and the student's Google Drive."""
from pathlib import Path

#: Where ``drive.mount`` puts the student's Google Drive in Colab.
COLAB_DRIVE = Path("/content/drive")


def in_colab() -> bool:
    """True inside Google Colab (its ``google.colab`` package can be imported)."""
    try:
        import google.colab  # noqa: F401
    except ImportError:
        return False
    return True


def mount_drive() -> bool:
    """Mount the student's Google Drive at :data:`COLAB_DRIVE` (Colab asks for permission once).

    Returns whether ``MyDrive`` is there afterwards. Outside Colab it does nothing and returns
    ``False``; if the student refuses or the mount fails, it says so in Spanish and returns ``False``.
    """
    if (COLAB_DRIVE / "MyDrive").is_dir():
        return True
    if not in_colab():
        return False
    try:
        from google.colab import drive
        drive.mount(str(COLAB_DRIVE))
    except Exception as error:  # the student closed the permission window, or Drive did not answer
        print(f"No se pudo montar Google Drive ({type(error).__name__}: {error}).")
        return False
    return (COLAB_DRIVE / "MyDrive").is_dir()

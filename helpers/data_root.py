"""Where the datasets live (the profile's data folder unless a caller names another), and the error
raised when one cannot be read."""
from pathlib import Path

from .runtime import profile


class CourseDataError(Exception):
    """A dataset could not be read; the message (in Spanish) says which file and what to do."""


def data_root(root=None) -> Path:
    """``root`` as a ``Path``; when it is ``None``, the active profile's data folder."""
    return Path(root) if root is not None else profile().data_root

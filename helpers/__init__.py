"""helpers: the package every lab notebook of the course imports.

One module per concern: ``course`` (labs and paths), ``runtime`` (profiles), ``standins`` and ``data``
(datasets), ``models``, ``training``, ``evaluation``, ``plots``, ``checks``, and ``cli`` (the
instructor's ``course`` command).
"""
from .course import LABS
from .runtime import profile, seed_everything

__all__ = ["LABS", "profile", "seed_everything"]

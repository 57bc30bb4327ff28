"""helpers: the package every lab notebook of the course imports.

This is the students' half: ``course`` (the labs), ``runtime`` (profiles and the kernel's setup), ``data``
(every dataset name, from ``vision_datasets``, ``fer2013``, ``fer2013_install``, ``loaders``, ``colab``,
``progress``, ``data_root`` and ``standins``), ``models``, ``training``, ``evaluation``, ``plots``, ``checks``
and ``budgets``. It imports nothing from ``helpers.instructor`` (build, grading and the ``course``
command), which students never install.
"""
from .course import LABS

__all__ = ["LABS", "prepare_notebook", "profile", "seed_everything"]


def __getattr__(name):
    # ``helpers.prepare_notebook``, ``helpers.profile`` and ``helpers.seed_everything`` import PyTorch on
    # first use, not on ``import helpers``: the grader's own processes import this package and never need PyTorch.
    if name in ("prepare_notebook", "profile", "seed_everything"):
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")

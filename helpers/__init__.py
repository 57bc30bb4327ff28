"""helpers: the package every lab notebook of the course imports.

This is the students' half: ``course`` (the labs), ``runtime`` (profiles), ``standins`` and ``data``
(datasets), ``models``, ``training``, ``evaluation``, ``plots``, ``checks`` and ``budgets``. It imports nothing from ``helpers.instructor`` (build, grading and the ``course``
command), which students never install.
"""
import sys
import warnings

from .course import LABS


def _show_warning_on_stdout(message, category, filename, lineno, file=None, line=None):
    print(f"Aviso ({category.__name__}): {message}", file=sys.stdout)


# nbgrader scores 0 any test cell that writes to stderr, so a harmless warning raised by a correct
# answer (a deprecation in a library, say) must not go there: notebooks show warnings on stdout.
warnings.showwarning = _show_warning_on_stdout

__all__ = ["LABS", "profile", "seed_everything"]


def __getattr__(name):
    # ``helpers.profile`` and ``helpers.seed_everything`` import PyTorch on first use, not on ``import
    # helpers``: the grader's own processes import this package and never need PyTorch.
    if name in ("profile", "seed_everything"):
        from . import runtime

        return getattr(runtime, name)
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")

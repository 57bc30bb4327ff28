"""nbgrader's ``Execute`` made robust: a cell that kills or hangs the kernel is disabled and the notebook re-run.

nbgrader gives up on the whole notebook when the kernel dies (``os._exit``, a segfault, the memory
limit...) or stops answering; the student then gets nothing. :class:`RobustExecute` instead replaces
the offending cell by one that raises a Spanish error (the student's lines kept as comments) and runs
the notebook again from the top, so the student loses only the points that depend on that cell.
Test cells and tripwires run without entering the kernel's input history (see :func:`grader_cell`).
The grading command enables it in each student's isolated course folder (see ``helpers.instructor.grading``).
"""
import copy

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbgrader.preprocessors import Execute, NbGraderPreprocessor
from traitlets import Any, Integer

from .judge import is_test
from .tamper import FINDINGS, INCIDENTS, MARK
from .vocabulary import StepFailed

#: What formgrader's «Autograde» button says in a grading folder (see :class:`RefuseAutograde`).
AUTOGRADE_REFUSED = ("En esta carpeta se califica con «course grade LAB ENTREGAS», que ejecuta cada cuaderno aislado "
                     "y juzga sus pruebas fuera de él; el botón «Autograde» de formgrader ejecutaría el código de los "
                     "estudiantes sin aislarlo, así que aquí no califica. Usa formgrader solo para las respuestas "
                     "escritas.")

REASONS = {
    "DeadKernelError": "el núcleo de Python se cayó al ejecutarla (salida abrupta, fallo grave o límite de memoria)",
    "CellTimeoutError": "dejó de responder y no se pudo interrumpir",
    "MemoryExhausted": "superó el límite de memoria (MemoryError)",
}


class MemoryExhausted(Exception):
    """A cell raised ``MemoryError``: the kernel keeps that memory (its traceback holds it), so the
    notebook is re-run without the cell rather than letting later cells fail for want of memory."""


def disabled_cell_source(source: str, reason: str) -> str:
    """The source of a disabled cell: a Spanish error, then the original lines commented out."""
    kept = "\n".join(f"# {line}" if line else "#" for line in source.splitlines())
    return (f'raise RuntimeError("Celda desactivada por el corrector: {reason}.")\n'
            f"# Código original de la celda:\n{kept}")


def grader_cell(cell) -> bool:
    """Whether ``cell`` is the grader's: a test (its hidden part included) or a tripwire
    (:mod:`helpers.instructor.tamper`). Such a cell runs with ``store_history=False``, so its source
    never enters the kernel's input history (``In``, ``_ih``, the history manager) where a later
    student cell could read it."""
    return is_test(cell) or (cell.cell_type == "code" and MARK in cell.metadata)


class RobustExecute(Execute):
    """``Execute`` that disables a cell which kills or hangs the kernel, then runs the notebook again.

    In a grading worker, the first run takes a kernel warmed ahead of time from ``warm_kernels``
    and shuts it down after; a re-run starts a cold one.
    """

    # not Instance(WarmKernels): the worker runs as ``python -m``, so its class is __main__.WarmKernels
    warm_kernels = Any(None, allow_none=True, help="Kernels warmed ahead by a grading worker "
                       "(:class:`~helpers.instructor.worker.WarmKernels`); None: a new kernel for every run."
                       ).tag(config=True)
    max_disabled = Integer(5, help="Most cells disabled in one notebook before giving up.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        self._running = index
        if grader_cell(cell):
            self._check_assign_resources(resources)
            cell = self.execute_cell(cell, index, store_history=False)
        else:
            cell, resources = super().preprocess_cell(cell, resources, index)
        if any(out.get("ename") == "MemoryError" for out in cell.get("outputs", [])):
            raise MemoryExhausted()
        return cell, resources

    def preprocess(self, nb, resources=None, km=None):
        pristine = copy.deepcopy(nb)
        incidents = []
        for attempt in range(self.max_disabled + 1):
            self._running = None
            warm = self.warm_kernels.take() if km is None and attempt == 0 and self.warm_kernels else None
            try:
                result = super().preprocess(copy.deepcopy(pristine), resources, km or warm)
                break
            except (DeadKernelError, CellTimeoutError, MemoryExhausted) as e:
                index = self._running
                if index is None or attempt == self.max_disabled:
                    raise
                cell = pristine.cells[index]
                reason = REASONS[type(e).__name__]
                label = cell.metadata.get("nbgrader", {}).get("grade_id") or cell.get("id") or f"n.º {index + 1}"
                incidents.append({"cell": label, "index": index, "reason": reason})
                self.log.warning("Celda %s desactivada: %s", label, reason)
                cell.source = disabled_cell_source(cell.source, reason)
            finally:
                if warm is not None:  # ours, not nbclient's: never used for anything else
                    self.km = warm
                    self._cleanup_kernel()
        result[0].metadata.setdefault(FINDINGS, {})[INCIDENTS] = incidents
        return result


class RefuseAutograde(NbGraderPreprocessor):
    """The only autograding step a grading folder's own ``nbgrader_config.py`` allows: formgrader's «Autograde»
    button (or a bare ``nbgrader autograde``) there would run students' code unsealed and unjudged, so it stops
    before any cell runs. ``course grade`` puts its own steps on top (``settings.autograde_config``)."""

    def preprocess(self, nb, resources):
        raise StepFailed(AUTOGRADE_REFUSED)

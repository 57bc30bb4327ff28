"""release/ and solutions/ are what the build makes from source/, and release/ leaks no answer."""
import json
import re
import shutil

import nbformat
import pytest

from helpers.instructor import build, exercises, nbgrader_io
from helpers.course import LABS, ROOT, existing_labs, lab_notebook

LABS_HERE = existing_labs()


def _cells(path):
    nb = nbformat.read(str(path), as_version=4)
    return [(c.cell_type, c.source, c.metadata.get("nbgrader")) for c in nb.cells]


def test_every_lab_in_source_is_a_course_lab():
    assert LABS_HERE, "no lab notebooks in source/"
    assert {p.name for p in (ROOT / "source").iterdir() if p.is_dir()} == set(LABS_HERE)
    assert LABS_HERE == [lab for lab in LABS if lab in LABS_HERE]


@pytest.mark.slow
@pytest.mark.parametrize("lab", LABS_HERE)
def test_committed_release_equals_a_fresh_build(lab, tmp_path):
    shutil.copytree(lab_notebook("source", lab).parent, lab_notebook("source", lab, tmp_path).parent)
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path)
    assert not build.sync_source_header(lab, tmp_path), "source/ header is stale: run `course build`"
    fresh = build.build_release(lab, tmp_path)
    assert _cells(fresh) == _cells(lab_notebook("release", lab)), f"release/{lab} is stale: run `course build`"


@pytest.mark.parametrize("lab", LABS_HERE)
def test_release_holds_no_solution_and_no_hidden_test(lab):
    text = lab_notebook("release", lab).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "Rúbrica"):
        assert marker not in text
    nb = nbformat.read(str(lab_notebook("release", lab)), as_version=4)
    stubs = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("solution")]
    assert stubs and all("TU CÓDIGO AQUÍ" in c.source or "ESCRIBE TU RESPUESTA AQUÍ" in c.source for c in stubs)


@pytest.mark.parametrize("lab", LABS_HERE)
def test_every_stub_names_its_exercise_in_spanish(lab):
    nb = nbformat.read(str(lab_notebook("release", lab)), as_version=4)
    titles = exercises.answer_titles(nbformat.read(str(lab_notebook("source", lab)), as_version=4))
    answers = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    assert answers and set(titles) == {c.metadata.nbgrader.grade_id for c in answers}
    for c in answers:
        title = titles[c.metadata.nbgrader.grade_id]
        assert re.fullmatch(r"Ejercicio \d+\.\d+", title), title
        raises = [line.strip() for line in c.source.splitlines() if "NotImplementedError" in line]
        assert raises and set(raises) == {f'raise NotImplementedError("{title} sin completar")'}, c.source


def test_a_stub_run_before_its_answer_says_which_exercise(tmp_path):
    nb = nbformat.read(str(lab_notebook("release", "lab1_convolutions")), as_version=4)
    stub = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "maxpool_manual")
    namespace = {}
    exec(stub.source, namespace)  # defines max_pool2d_manual, whose body is the stub
    with pytest.raises(NotImplementedError, match=r"^Ejercicio 1\.2 sin completar$"):
        namespace["max_pool2d_manual"](None, 2, 2)


@pytest.mark.parametrize("lab", LABS_HERE)
def test_release_opens_with_badge_and_setup_cell(lab):
    nb = nbformat.read(str(lab_notebook("release", lab)), as_version=4)
    assert "colab.research.google.com/github/" in nb.cells[0].source and f"release/{lab}/{lab}.ipynb" in nb.cells[0].source
    assert nb.cells[1].source == build.header_cells(lab)[1].source
    assert nb.cells[1].metadata["nbgrader"]["locked"]


@pytest.mark.parametrize("lab", LABS_HERE)
def test_solutions_are_executed_keys_without_hidden_tests(lab):
    path = lab_notebook("solutions", lab)
    text = path.read_text()
    assert "HIDDEN TESTS" not in text and "BEGIN SOLUTION" not in text
    nb = nbformat.read(str(path), as_version=4)
    assert "perfil `smoke`" in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "solutions/ must be executed"
    assert not any(o.output_type == "error" for c in code for o in c.outputs)
    source = build.with_header(build.answer_key(nbgrader_io.read_notebook(lab_notebook("source", lab))), lab, "solutions")
    assert [c.source for c in nb.cells if c.id != "key-note"] == [c.source for c in source.cells], \
        f"solutions/{lab} is stale: run `course build`"


def test_answer_key_strips_hidden_tests_and_markers():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "a = 1\n### BEGIN SOLUTION\nb = 2\n### END SOLUTION\nassert a\n### BEGIN HIDDEN TESTS\nassert b == 2\n### END HIDDEN TESTS\n")])
    assert build.answer_key(nb).cells[0].source == "a = 1\nb = 2\nassert a\n"


def test_read_notebook_names_a_corrupt_file(tmp_path):
    bad = tmp_path / "roto.ipynb"
    bad.write_text("{no es json")
    with pytest.raises(ValueError, match="roto.ipynb no es un cuaderno de Jupyter válido"):
        nbgrader_io.read_notebook(bad)


@pytest.mark.parametrize("lab", LABS_HERE)
def test_at_least_a_third_of_test_cells_carry_hidden_tests(lab):
    nb = nbgrader_io.read_notebook(lab_notebook("source", lab))
    tests = [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]
    hidden = [c for c in tests if "### BEGIN HIDDEN TESTS" in c.source]
    assert tests and 3 * len(hidden) >= len(tests), f"{len(hidden)} of {len(tests)} test cells have hidden tests"
    assert all(c.metadata["nbgrader"]["points"] > 0 for c in tests)


def test_lone_surrogates_are_replaced_on_read_and_the_file_is_left_as_it_was(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = '\ud800'  # 😀", metadata={"nota": "a\udfffb", "\udc00clave": 1}),
        nbformat.v4.new_markdown_cell("sin problemas 😀")])
    path = tmp_path / "sustitutos.ipynb"
    path.write_text(json.dumps(nb))  # ASCII: JSON escapes every surrogate, a lone one included
    raw = path.read_bytes()
    notes = []
    read = nbgrader_io.read_notebook(path, notes)
    code, markdown = read.cells
    assert code.source == "x = '\ufffd'  # 😀" and code.metadata == {"nota": "a\ufffdb", "\ufffdclave": 1}
    assert markdown.source == "sin problemas 😀"  # a valid pair is one character, untouched
    assert [n.text for n in notes] == ["caracteres no válidos (sustitutos UTF-16 sueltos) sustituidos por «\ufffd» al leer el cuaderno: 3"]
    nbformat.writes(read).encode("utf-8")  # the point: it can be written as UTF-8 again
    assert path.read_bytes() == raw
    clean, notes = tmp_path / "limpio.ipynb", []
    clean.write_text(nbformat.writes(read))
    assert nbgrader_io.read_notebook(clean, notes) == read and notes == []  # nothing to replace, nothing said

"""A failed test explained as the student reads the lab: which exercise is missing or broken, never a
traceback through the course's code (helpers.instructor.exercises)."""
import nbformat
import pytest

from helpers.instructor import exercises
from helpers.instructor.nbgrader_io import read_notebook
from helpers.course import lab_notebook


def _answer(source, gid):
    return nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"solution": True, "grade": False, "grade_id": gid}})


@pytest.fixture
def notebook():
    return nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**Ejercicio 2.1.** Define la red."),
        _answer("class MultiLayerNN(nn.Module):\n    pass\nmodel_mlp, criterion = MultiLayerNN(), None", "mlp"),
        nbformat.v4.new_markdown_cell("**Ejercicio 2.2.** Entrena."),
        _answer("def train_epoch(model, loader):\n    # TU CÓDIGO AQUÍ\n    raise NotImplementedError()", "train"),
        _answer("def ayuda(", "roto"),  # does not parse: defines nothing
    ])


def _error(ename, evalue, *frames):
    return {"ename": ename, "evalue": evalue, "traceback": [
        "\x1b[0;31m---------\x1b[0m", *(f"\x1b[0;32mCell In[{i}], line 3, in {f}(x)\x1b[0m\n  1 ..." for i, f in enumerate(frames)),
        f"{ename}: {evalue}"]}


def test_names_are_mapped_to_the_exercise_whose_answer_defines_them(notebook):
    assert exercises.defined_by(notebook) == {"MultiLayerNN": "Ejercicio 2.1", "model_mlp": "Ejercicio 2.1",
                                              "criterion": "Ejercicio 2.1", "train_epoch": "Ejercicio 2.2"}


def test_a_missing_prerequisite_says_which_exercise_to_complete_first(notebook):
    defined = exercises.defined_by(notebook)
    said = exercises.explain(_error("NameError", "name 'model_mlp' is not defined"), defined, "Ejercicio 2.2")
    assert said.startswith("Completa primero el Ejercicio 2.1") and "`model_mlp`" in said
    said = exercises.explain(_error("NotImplementedError", "", "<module>", "train_epoch"), defined, "Ejercicio 3.1")
    assert said.startswith("Completa primero el Ejercicio 2.2") and "`train_epoch`" in said


def test_the_exercise_itself_unfinished_or_broken(notebook):
    defined = exercises.defined_by(notebook)
    said = exercises.explain(_error("NotImplementedError", "", "<module>", "train_epoch"), defined,
                             "Ejercicio 2.2 (prueba 2)")
    assert said.startswith("`train_epoch` (Ejercicio 2.2) todavía no está hecha") and "Completa primero" not in said
    said = exercises.explain(_error("TypeError", "unsupported operand", "<module>", "train_epoch", "forward"),
                             defined, "Ejercicio 2.2")
    assert said == "al ejecutar la prueba, tu código lanzó TypeError: unsupported operand (en `train_epoch`, Ejercicio 2.2)."
    assert "ejecuta el cuaderno en orden" in exercises.explain(_error("NameError", "name 'perfil' is not defined"),
                                                              defined, "Ejercicio 2.2")


def test_checks_and_the_graders_own_errors_are_shown_as_they_are(notebook):
    defined = exercises.defined_by(notebook)
    assert exercises.explain(_error("AssertionError", "La salida: se esperaba la forma (2,)."), defined, "x") == \
        "La salida: se esperaba la forma (2,)."
    for error in (_error("ManipulacionDetectada", "el corrector detectó..."),
                  _error("RuntimeError", "Celda desactivada por el corrector: dejó de responder.")):
        assert exercises.explain(error, defined, "x") == f"{error['ename']}: {error['evalue']}"


def test_every_lab_names_its_tests_and_answers():
    from helpers.course import existing_labs

    for lab in existing_labs():
        release = read_notebook(lab_notebook("release", lab))
        titles, defined = exercises.titles(release), exercises.defined_by(release)
        assert all(t != "Comienzo del cuaderno" for t in titles.values()), lab
        assert defined and all(t.startswith("Ejercicio") for t in defined.values()), lab

"""Each repair rule on its own, on a six-cell release (as nbgrader tests its preprocessors on synthetic cells)."""
import copy

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from helpers.instructor.repair import NotThisLab, _moved, repair

STUB = "# TU CÓDIGO AQUÍ\nraise NotImplementedError()"
NAMED_STUB = '# TU CÓDIGO AQUÍ\nraise NotImplementedError("Ejercicio 1.2 sin completar")'  # as the course's releases


def meta(gid, **flags):
    return {"nbgrader": {"grade_id": gid, "schema_version": 3, "solution": False, "grade": False,
                         "locked": False, **flags}}


def cell(kind, source, gid=None, cid=None, **flags):
    new = new_code_cell if kind == "code" else new_markdown_cell
    c = new(source, metadata=meta(gid, **flags) if gid else {})
    c["id"] = cid or (gid or "libre").replace("_", "-")
    return c


@pytest.fixture
def release():
    return new_notebook(cells=[
        cell("markdown", "# Laboratorio de prueba", cid="intro"),
        cell("code", "import math\nBASE = 2", "setup", locked=True),
        cell("code", STUB, "cuadrado", solution=True),
        cell("code", "assert cuadrado(3) == 9, 'cuadrado(3) debe dar 9'\nassert cuadrado(-2) == 4\n"
                     "assert cuadrado(0) == 0", "test_cuadrado", grade=True, locked=True, points=1),
        cell("markdown", "ESCRIBE TU RESPUESTA AQUÍ", "pregunta", solution=True, grade=True, points=2),
        cell("code", NAMED_STUB, "doble", solution=True),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
                 "language_info": {"name": "python"}})


ANSWERS = {"cuadrado": "def cuadrado(x):\n    return x * x", "pregunta": "Porque sí.",
           "doble": "def doble(x):\n    return 2 * x"}


@pytest.fixture
def student(release):
    """The release completed, as a student hands it in."""
    nb = copy.deepcopy(release)
    for c in nb.cells:
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        c.source = ANSWERS.get(gid, c.source)
    return nb


def by_id(nb, gid):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == gid]


def gids(nb):
    return [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]


def test_a_complete_notebook_is_left_as_it_is(student, release):
    fixed = repair(copy.deepcopy(student), release, "lab")
    assert fixed.notes == []
    assert [(c.cell_type, c.source, c.id) for c in fixed.nb.cells] == [(c.cell_type, c.source, c.id) for c in student.cells]
    nbformat.validate(fixed.nb)


def test_a_duplicated_answer_keeps_the_first_graded_and_the_copy_as_a_plain_cell(student, release):
    copy_ = copy.deepcopy(by_id(student, "cuadrado")[0])
    copy_.source, copy_["id"] = "def cuadrado(x):\n    return 0", "copia"
    student.cells.insert(3, copy_)
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "cuadrado")[0].source == ANSWERS["cuadrado"]
    plain = [c for c in fixed.nb.cells if c.source.endswith("return 0")]
    assert len(plain) == 1 and "nbgrader" not in plain[0].metadata
    assert fixed.notes == ["celda de solución «cuadrado» duplicada: se califica la primera; la copia se conserva "
                           "como celda normal"]


def test_a_duplicated_test_is_dropped(student, release):
    student.cells.append(copy.deepcopy(by_id(student, "test_cuadrado")[0]))
    fixed = repair(student, release, "lab")
    assert gids(fixed.nb) == gids(release) and len(fixed.nb.cells) == len(release.cells)
    assert fixed.notes == ["celda de pruebas «test_cuadrado» duplicada: se quita la copia"]


def test_a_copy_of_a_test_without_metadata_is_dropped(student, release):
    student.cells.append(new_code_cell(by_id(student, "test_cuadrado")[0].source))
    fixed = repair(student, release, "lab")
    assert len(fixed.nb.cells) == len(release.cells)
    assert fixed.notes == ["celda de pruebas «test_cuadrado» duplicada: se quita la copia"]


def test_foreign_metadata_is_removed_and_the_cell_kept(student, release):
    student.cells.append(cell("code", "x = 1", "ajeno_b", cid="b"))
    student.cells.append(cell("code", "y = 2", "ajeno_a", cid="a"))
    fixed = repair(student, release, "lab")
    extra = fixed.nb.cells[-2:]
    assert [c.source for c in extra] == ["x = 1", "y = 2"] and all("nbgrader" not in c.metadata for c in extra)
    assert fixed.notes == ["metadatos de nbgrader ajenos al enunciado quitados: ajeno_a, ajeno_b"]


def test_cells_without_metadata_are_recognised_by_id_then_by_source(student, release):
    answer, test = by_id(student, "cuadrado")[0], by_id(student, "test_cuadrado")[0]
    answer.metadata, test.metadata, test["id"] = {}, {}, "otro-id"  # as Colab or a copy and paste leaves them
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "cuadrado")[0].source == ANSWERS["cuadrado"]
    assert by_id(fixed.nb, "test_cuadrado")[0].source == by_id(release, "test_cuadrado")[0].source
    assert gids(fixed.nb) == gids(release)
    assert fixed.notes == ["2 celdas sin metadatos de nbgrader, reconocidas por su identificador o su contenido y "
                           "recuperadas: «cuadrado», «test_cuadrado»"]


def test_an_answer_without_metadata_or_id_is_found_between_its_neighbours(student, release):
    answer = by_id(student, "doble")[0]
    answer.metadata, answer["id"] = {}, "nuevo"
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "doble")[0].source == ANSWERS["doble"]
    assert fixed.notes == ["1 celdas sin metadatos de nbgrader, reconocidas por su identificador o su contenido y "
                           "recuperadas: «doble»"]


def test_a_cell_that_resembles_nothing_is_not_taken_for_a_test(student, release):
    test = by_id(student, "test_cuadrado")[0]
    test.metadata, test["id"], test.source = {}, "otro", "print('hola')"
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "test_cuadrado")[0].source == by_id(release, "test_cuadrado")[0].source
    assert "print('hola')" in [c.source for c in fixed.nb.cells]
    assert fixed.notes == ["celda de pruebas «test_cuadrado» borrada: restaurada desde el enunciado"]


@pytest.mark.parametrize("change, note", [
    (lambda c: setattr(c, "source", ""), "celda de pruebas «test_cuadrado» vaciada: restaurada desde el enunciado"),
    (lambda c: setattr(c, "source", "pass"), "celda de pruebas «test_cuadrado» modificada: restaurada desde el "
                                             "enunciado (su texto se conserva en una celda sin ejecutar a continuación)"),
])
def test_an_emptied_or_edited_test_is_restored(student, release, change, note):
    change(by_id(student, "test_cuadrado")[0])
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "test_cuadrado")[0].source == by_id(release, "test_cuadrado")[0].source
    raw = [c for c in fixed.nb.cells if c.cell_type == "raw"]
    assert [c.source for c in raw] == (["pass"] if "modificada" in note else [])
    if raw:  # right after the test it replaced
        assert fixed.nb.cells[fixed.nb.cells.index(raw[0]) - 1].metadata["nbgrader"]["grade_id"] == "test_cuadrado"
    assert fixed.notes == [note]


def test_a_test_turned_into_markdown_comes_back_as_code(student, release):
    i = student.cells.index(by_id(student, "test_cuadrado")[0])
    student.cells[i] = new_markdown_cell("assert True", metadata=copy.deepcopy(student.cells[i].metadata))
    fixed = repair(student, release, "lab")
    (test,) = by_id(fixed.nb, "test_cuadrado")
    assert test.cell_type == "code" and test.source == by_id(release, "test_cuadrado")[0].source
    assert fixed.notes == ["celda de pruebas «test_cuadrado» convertida en markdown: restaurada desde el enunciado"]


def test_an_answer_turned_into_markdown_comes_back_as_code_with_its_text(student, release):
    i = student.cells.index(by_id(student, "doble")[0])
    student.cells[i] = new_markdown_cell(ANSWERS["doble"], metadata=copy.deepcopy(student.cells[i].metadata))
    fixed = repair(student, release, "lab")
    (answer,) = by_id(fixed.nb, "doble")
    assert answer.cell_type == "code" and answer.source == ANSWERS["doble"] and answer.outputs == []
    assert answer.metadata["nbgrader"] == by_id(release, "doble")[0].metadata["nbgrader"]
    assert fixed.notes == ["celda de solución «doble» convertida en markdown: vuelve a ser code con su contenido"]


def test_the_repairs_are_noted_in_the_releases_order_when_cells_were_moved(student, release):
    doble = by_id(student, "doble")[0]
    student.cells.remove(doble)
    student.cells.insert(0, new_markdown_cell(doble.source, metadata=copy.deepcopy(doble.metadata)))
    by_id(student, "test_cuadrado")[0].source = ""
    fixed = repair(student, release, "lab")
    assert fixed.notes == ["celda de pruebas «test_cuadrado» vaciada: restaurada desde el enunciado",
                           "celda de solución «doble» convertida en markdown: vuelve a ser code con su contenido",
                           "celdas fuera del orden del enunciado: «doble» vuelven a su sitio"]


def test_a_deleted_graded_cell_is_restored_in_its_place(student, release):
    student.cells.remove(by_id(student, "pregunta")[0])
    fixed = repair(student, release, "lab")
    assert gids(fixed.nb) == gids(release)
    assert by_id(fixed.nb, "pregunta")[0].source == "ESCRIBE TU RESPUESTA AQUÍ"
    assert fixed.notes == ["celda de respuesta escrita «pregunta» borrada: restaurada desde el enunciado"]


def test_moved_cells_go_back_and_the_students_own_cells_follow_theirs(student, release):
    mine_first, mine_after = new_code_cell("arriba = 1"), new_code_cell("despues_de_doble = 1")
    doble = by_id(student, "doble")[0]
    student.cells.remove(doble)
    student.cells[1:1] = [doble, mine_after]  # «doble» moved up, with the student's cell after it
    student.cells.insert(0, mine_first)
    fixed = repair(student, release, "lab")
    sources = [c.source for c in fixed.nb.cells]
    assert gids(fixed.nb) == [None] + gids(release) + [None]
    assert sources[0] == "arriba = 1" and sources[-2:] == [ANSWERS["doble"], "despues_de_doble = 1"]
    assert fixed.notes == ["celdas fuera del orden del enunciado: «doble» vuelven a su sitio"]


def test_the_notebook_takes_the_releases_kernel_and_format_and_gets_valid_unique_ids(student, release):
    student.metadata = {"colab": {"provenance": []}, "kernelspec": {"name": "ir", "display_name": "R"}}
    student.cells.append(new_code_cell("a = 1"))
    student.cells.append(new_code_cell("b = 2"))
    student.cells[-1]["id"] = student.cells[-2]["id"]  # two cells with one id
    student.cells.append(new_markdown_cell("nota"))
    student.cells[-1]["id"] = "no válido!"
    del student.cells[2]["outputs"]
    del student.cells[2]["execution_count"]
    fixed = repair(student, release, "lab")
    assert fixed.nb.metadata["kernelspec"] == release.metadata["kernelspec"]
    assert fixed.nb.metadata["language_info"] == release.metadata["language_info"]
    assert fixed.nb.metadata["colab"] == {"provenance": []}
    ids = [c.id for c in fixed.nb.cells]
    assert len(set(ids)) == len(ids) and ids[-2:] == [f"alumno-{len(ids) - 2}", f"alumno-{len(ids) - 1}"]
    assert all(c.outputs == [] and c.execution_count is None for c in fixed.nb.cells if c.cell_type == "code")
    nbformat.validate(fixed.nb)


def test_generated_ids_never_collide_with_the_students_own(student, release):
    mine = new_code_cell("arriba = 1")
    mine["id"] = "alumno-1"
    student.cells.insert(0, mine)
    student.cells[1]["id"] = "id no válido"  # the release's first cell, now second
    fixed = repair(student, release, "lab")
    assert [c.id for c in fixed.nb.cells[:2]] == ["alumno-1", "alumno-1-b"]


def test_a_test_with_trailing_spaces_and_blank_lines_is_unchanged(student, release):
    test = by_id(student, "test_cuadrado")[0]
    test.source = "\n" + "\n".join(line + "   " for line in test.source.splitlines()) + "\n\n"
    assert repair(student, release, "lab").notes == []


def test_a_cell_sharing_half_of_a_locked_cells_lines_is_taken_for_it(student, release):
    del student.cells[0]  # the introduction too: nothing before it to place it by
    setup = by_id(student, "setup")[0]
    setup.metadata, setup["id"], setup.source = {}, "otro", "import math\nBASE = 3"
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "setup")[0].source == "import math\nBASE = 2"
    assert [c.source for c in fixed.nb.cells if c.cell_type == "raw"] == ["import math\nBASE = 3"]
    assert fixed.notes == ["celda bloqueada «setup» modificada: restaurada desde el enunciado (su texto se conserva "
                           "en una celda sin ejecutar a continuación)",
                           "1 celdas sin metadatos de nbgrader, reconocidas por su identificador o su contenido "
                           "y recuperadas: «setup»"]


def test_a_cell_sharing_a_third_of_a_tests_lines_is_not(student, release):
    test = by_id(student, "test_cuadrado")[0]
    test.metadata, test["id"] = {}, "otro"
    test.source = test.source.splitlines()[0] + "\nprint('mi prueba')\nprint('otra')"
    fixed = repair(student, release, "lab")
    assert test.source in [c.source for c in fixed.nb.cells]
    assert fixed.notes == ["celda de pruebas «test_cuadrado» borrada: restaurada desde el enunciado"]


def test_a_test_turned_into_markdown_without_metadata_is_still_recognised_by_its_id(student, release):
    i = student.cells.index(by_id(student, "test_cuadrado")[0])
    student.cells[i] = new_markdown_cell("nada")
    student.cells[i]["id"] = "test-cuadrado"
    fixed = repair(student, release, "lab")
    assert "nada" not in [c.source for c in fixed.nb.cells]
    assert fixed.notes == ["celda de pruebas «test_cuadrado» convertida en markdown: restaurada desde el enunciado",
                           "1 celdas sin metadatos de nbgrader, reconocidas por su identificador o su contenido y "
                           "recuperadas: «test_cuadrado»"]


def test_a_lost_answer_is_searched_everywhere_when_its_neighbours_were_moved(student, release):
    doble, answer = by_id(student, "doble")[0], by_id(student, "pregunta")[0]
    student.cells.remove(doble)
    student.cells.insert(0, doble)  # «doble», the answer's only graded neighbour after it, moved to the top
    answer.metadata, answer["id"] = {}, "perdida"
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "pregunta")[0].source == ANSWERS["pregunta"]
    assert "«pregunta» borrada" not in " ".join(fixed.notes)


@pytest.mark.parametrize("stub", [STUB, NAMED_STUB])
def test_a_copy_of_an_answers_stub_stays_as_the_students_cell(student, release, stub):
    student.cells.append(new_code_cell(stub))
    fixed = repair(student, release, "lab")
    assert [c.source for c in fixed.nb.cells][-1] == stub and fixed.notes == []


def test_a_lost_test_is_looked_for_between_its_neighbours_first(student, release):
    test = by_id(student, "test_cuadrado")[0]
    lines = test.source.splitlines()
    test.metadata, test["id"], test.source = {}, "aqui", "\n".join(lines[:2] + ["print('cambiada')"])
    before, after = (new_code_cell("\n".join(lines + [f"print('{where}')"])) for where in ("antes", "después"))
    student.cells.insert(0, before)  # both resemble the test more, but lie outside its neighbours
    student.cells.append(after)
    fixed = repair(student, release, "lab")
    assert [c.source for c in fixed.nb.cells if c.cell_type == "raw"] == [test.source]
    assert fixed.nb.cells[0].source == before.source and fixed.nb.cells[-1].source == after.source


def test_an_all_stub_answer_is_the_one_code_cell_where_it_should_be(student, release):
    answer = by_id(student, "doble")[0]
    answer.metadata, answer["id"] = {}, "sin-nada"
    student.cells.insert(student.cells.index(answer), new_markdown_cell("Mis notas"))
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "doble")[0].source == ANSWERS["doble"]
    assert "Mis notas" in [c.source for c in fixed.nb.cells if c.cell_type == "markdown"]


def test_a_written_answer_turned_into_code_comes_back_as_markdown(student, release):
    i = student.cells.index(by_id(student, "pregunta")[0])
    student.cells[i] = new_code_cell(ANSWERS["pregunta"], metadata=copy.deepcopy(student.cells[i].metadata))
    (answer,) = by_id(repair(student, release, "lab").nb, "pregunta")
    assert answer.cell_type == "markdown" and answer.source == ANSWERS["pregunta"]


def test_a_cell_not_found_does_not_stop_the_search_for_the_next(student, release):
    student.cells.remove(by_id(student, "test_cuadrado")[0])
    answer = by_id(student, "doble")[0]
    answer.metadata, answer["id"] = {}, "sin-nada"
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "doble")[0].source == ANSWERS["doble"]


def test_recovered_cells_are_named_in_the_releases_order(student, release):
    setup, test = by_id(student, "setup")[0], by_id(student, "test_cuadrado")[0]
    for c, new_id in ((setup, "a-1"), (test, "a-2")):
        c.metadata, c["id"] = {}, new_id  # found by their text, wherever they are
    student.cells.remove(setup)
    student.cells.append(setup)
    fixed = repair(student, release, "lab")
    assert gids(fixed.nb) == gids(release)
    assert "recuperadas: «setup», «test_cuadrado»" in fixed.notes[0]


def test_the_release_and_the_submission_are_never_changed_nor_shared(student, release):
    student.cells.append(new_code_cell("mio = 1"))
    answer = by_id(student, "doble")[0]
    answer.metadata, answer["id"] = {}, "sin-nada"
    student.cells.remove(by_id(student, "pregunta")[0])
    before = (copy.deepcopy(release), copy.deepcopy(student))
    fixed = repair(student, release, "lab").nb
    assert (release, student) == before
    given = [*release.cells, *student.cells]
    for c in fixed.cells:
        assert all(c is not g and c.metadata is not g.metadata for g in given)
        assert all(c.metadata.get("nbgrader") is not g.metadata.get("nbgrader") for g in given if "nbgrader" in c.metadata)
    assert fixed.metadata is not student.metadata
    assert fixed.metadata["kernelspec"] is not release.metadata["kernelspec"]


def test_nested_metadata_is_copied_not_shared(student, release):
    release.metadata["language_info"]["codemirror_mode"] = {"name": "ipython", "version": 3}
    student.metadata["colab"] = {"provenance": [{"file_id": "abc"}]}
    fixed = repair(student, release, "lab").nb
    fixed.metadata["language_info"]["codemirror_mode"]["version"] = 2
    fixed.metadata["colab"]["provenance"].clear()
    assert release.metadata["language_info"]["codemirror_mode"]["version"] == 3
    assert student.metadata["colab"] == {"provenance": [{"file_id": "abc"}]}


def test_a_notebook_of_another_lab_is_refused_and_named(release):
    with pytest.raises(NotThisLab, match="no tiene ninguna celda calificable"):  # the same introduction is not enough
        repair(new_notebook(cells=[copy.deepcopy(release.cells[0]), new_code_cell("x = 1")]), release, "lab1")
    other = new_notebook(cells=[cell("code", "x = 1", "red_de_otro")])
    with pytest.raises(NotThisLab, match="^no es una entrega de lab1: no tiene ninguna celda calificable"):
        repair(copy.deepcopy(other), release, "lab1")
    with pytest.raises(NotThisLab, match=r"no es una entrega de lab1 \(parece un cuaderno de lab2\)"):
        repair(copy.deepcopy(other), release, "lab1", {"lab3": {"otra"}, "lab2": {"red_de_otro"}})


@pytest.mark.parametrize("order, moved", [([], set()), ([0, 1, 2], set()), ([3, 0, 1, 2], {3}), ([0, 3, 1, 2], {3}),
                                          ([2, 0, 1, 3, 4], {2}), ([1, 2, 0], {0}), ([1, 2, 3, 0, 4, 5], {0})])
def test_moved_cells_are_those_outside_the_longest_ordered_run(order, moved):
    assert _moved(order) == moved


def test_an_edited_plain_cell_of_the_release_is_known_by_its_id_and_goes_back(student, release):
    intro = student.cells.pop(0)
    intro.source = "# Laboratorio de prueba (mis notas)"
    student.cells.append(intro)
    fixed = repair(student, release, "lab")
    assert [c.source for c in fixed.nb.cells][0] == "# Laboratorio de prueba (mis notas)"
    assert gids(fixed.nb) == gids(release)
    assert fixed.notes == ["celdas fuera del orden del enunciado: «intro» vuelven a su sitio"]


def test_every_moved_cell_is_named_in_the_releases_order(student, release):
    doble, answer = by_id(student, "doble")[0], by_id(student, "pregunta")[0]
    student.cells.remove(doble)
    student.cells.remove(answer)
    student.cells[:0] = [doble, answer]
    fixed = repair(student, release, "lab")
    assert gids(fixed.nb) == gids(release)
    assert fixed.notes == ["celdas fuera del orden del enunciado: «pregunta», «doble» vuelven a su sitio"]


def test_a_lost_answer_at_the_top_is_found_when_its_neighbours_were_moved(student, release):
    doble, answer = by_id(student, "doble")[0], by_id(student, "pregunta")[0]
    student.cells.remove(doble)
    student.cells.remove(answer)
    answer.metadata, answer["id"] = {}, "perdida"
    student.cells[:0] = [answer, doble]  # the answer, without metadata, is the very first cell
    fixed = repair(student, release, "lab")
    assert by_id(fixed.nb, "pregunta")[0].source == ANSWERS["pregunta"]
    assert not any("borrada" in note for note in fixed.notes)


def test_a_lost_cell_is_not_looked_for_past_the_end_of_the_notebook(student, release):
    del student.cells[0]  # no introduction: nothing is matched before the setup cell
    setup = student.cells.pop(0)
    setup.metadata, setup["id"] = {}, "mi-setup"
    setup.source += "\nEXTRA = 3"
    student.cells.append(setup)  # an edited copy of the setup, without metadata, after every graded cell
    fixed = repair(student, release, "lab")
    assert fixed.notes == ["celda bloqueada «setup» borrada: restaurada desde el enunciado"]
    assert fixed.nb.cells[-1].source == "import math\nBASE = 2\nEXTRA = 3"  # kept as the student's own cell


def test_valid_ids_of_any_case_are_kept(student, release):
    mine = new_code_cell("mio = 1")
    mine["id"] = "Mi-Celda_2"
    student.cells.append(mine)
    assert repair(student, release, "lab").nb.cells[-1].id == "Mi-Celda_2"

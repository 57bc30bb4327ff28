"""A written answer is graded beside the student's own Colab outputs of the cells it discusses."""
import base64
import io

import matplotlib
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from helpers.course import existing_labs, lab_notebook
from helpers.instructor import colab_outputs, inert
from helpers.instructor.nbgrader_io import read_notebook
from test_inert import IMAGE_PROBE, fired, formgrade_page, hostile_outputs, needs_chromium

LAB = "lab1_convolutions"

matplotlib.use("Agg")


def _png() -> str:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(1, 1))
    ax.plot([0, 1], [1, 0])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


def _answer(gid, text="ESCRIBE TU RESPUESTA AQUÍ", discusses=None):
    meta = {"nbgrader": {"grade_id": gid, "grade": True, "solution": True, "points": 2, "schema_version": 3}}
    if discusses:
        meta["course"] = {"discusses": discusses}
    cell = new_markdown_cell(text, metadata=meta)
    cell.id = gid
    return cell


def _code(cid, source, outputs=()):
    cell = new_code_cell(source, outputs=list(outputs))
    cell.id = cid
    return cell


@pytest.fixture
def notebooks():
    source = new_notebook(cells=[_code("entrenar", "historia = entrenar()"), _code("tabla", "print(tabla)"),
                                 new_markdown_cell("**Pregunta 1.** ¿Qué modelo gana?"),
                                 _answer("q_gana", "La clave.", ["entrenar", "tabla"]),
                                 _answer("q_libre", "Sin figuras.")])
    figure = _png()
    submitted = new_notebook(cells=[
        _code("entrenar", "historia = entrenar()", [
            new_output("display_data", data={"image/png": figure, "text/plain": "<Figure>"}),
            new_output("display_data", data={"text/html": "<img src=x onerror=alert(1)>"})]),
        _code("tabla", "print(tabla)", [new_output("stream", name="stdout", text="exactitud 91,3 % ``` </pre><script>x</script>")]),
        new_markdown_cell("**Pregunta 1.** ¿Qué modelo gana?"),
        _answer("q_gana", "Gana la CNN con 91,3 %."), _answer("q_libre", "Nada.")])
    graded = nbformat.from_dict(submitted)  # re-run on stand-ins: other numbers, no figure
    graded.cells[0].outputs = []
    graded.cells[1].outputs = [new_output("stream", name="stdout", text="exactitud 12,0 %")]
    return source, submitted, graded, figure


def test_the_answer_is_preceded_by_its_cells_outputs_as_submitted(notebooks):
    source, submitted, graded, figure = notebooks
    shown = colab_outputs.beside_answers(graded, submitted, source)
    index = next(i for i, c in enumerate(shown.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == "q_gana")
    added = shown.cells[index - 1]
    assert added.cell_type == "markdown" and added.source.startswith("**Tus salidas en Colab")
    assert f"data:image/png;base64,{figure}" in added.source and "exactitud 91,3 %" in added.source
    assert "`historia = entrenar()`" in added.source and "`print(tabla)`" in added.source
    assert "12,0" not in added.source and "onerror" not in added.source  # not the re-run; no active HTML
    assert inert.WITHHELD in added.source
    assert [c.source for c in shown.cells if c.cell_type == "markdown"].count(added.source) == 1
    assert len(shown.cells) == len(graded.cells) + 1  # only the answer that discusses cells gets them
    assert shown.cells[index].source == "Gana la CNN con 91,3 %." and graded.cells[1].outputs[0].text == "exactitud 12,0 %"


def test_the_text_cannot_escape_its_block_and_stays_inert(notebooks):
    source, submitted, graded, _ = notebooks
    added = next(c for c in colab_outputs.beside_answers(graded, submitted, source).cells
                 if "course" in c.metadata and colab_outputs.MARK in c.metadata["course"])
    assert "\n````text\nexactitud 91,3 % ``` </pre><script>x</script>\n````" in added.source
    # it renders to plain formatting only (the figure embedded, the text escaped in its block), so the
    # inert view keeps it as it is
    assert inert.inert_markdown(added.source) == added.source


def test_grading_twice_replaces_the_cell_and_a_missing_output_is_said(notebooks):
    source, submitted, graded, _ = notebooks
    once = colab_outputs.beside_answers(graded, submitted, source)
    submitted.cells[1].outputs = []
    twice = colab_outputs.beside_answers(once, submitted, source)
    added = [c for c in twice.cells if colab_outputs.MARK in c.metadata.get("course", {})]
    assert len(added) == 1 and colab_outputs.NONE_SUBMITTED in added[0].source
    assert len({c.id for c in twice.cells}) == len(twice.cells)


@pytest.mark.parametrize("lab", existing_labs())
def test_every_cell_an_answer_discusses_is_a_plain_code_cell_of_the_lab(lab):
    source = read_notebook(lab_notebook("source", lab))
    cells = {c.id: c for c in source.cells}
    wanted = colab_outputs.discussed(source)
    for gid, ids in wanted.items():
        for cid in ids:
            assert cid in cells, f"{lab}: {gid} comenta la celda {cid}, que no existe"
            assert cells[cid].cell_type == "code" and not cells[cid].metadata.get("nbgrader"), (lab, gid, cid)
    assert wanted, f"{lab}: ninguna respuesta escrita comenta las salidas de una celda"


# ---------------------------------------------------------------- in a real browser



@needs_chromium
def test_the_grader_and_the_student_see_the_colab_figure_and_nothing_runs(tmp_path):
    """Lab 1 graded for a student whose Colab run left a figure and a hostile output in a cell that
    written answer q_parameters discusses: formgrader's view and the feedback page show the figure,
    labelled, and run nothing of the student's."""
    from helpers.instructor.feedback import write_feedback

    release = read_notebook(lab_notebook("release", LAB))
    source = read_notebook(lab_notebook("source", LAB))
    submitted = nbformat.from_dict(release)
    cid = colab_outputs.discussed(source)["q_parameters"][0]
    cell = next(c for c in submitted.cells if c.id == cid)
    cell.outputs = [new_output("display_data", data={"image/png": _png(), "text/plain": "<Figure>"}),
                    *hostile_outputs()]
    path = tmp_path / f"{LAB}.ipynb"
    nbformat.write(colab_outputs.beside_answers(release, submitted, source), path)
    inert.make_file_inert(path, release)
    pages = [formgrade_page(path, tmp_path / "formgrader.html"),
             write_feedback(LAB, "ana", path, {}, [], tmp_path / "feedback.html", set())]
    for page in pages:
        html = page.read_text()
        assert html.count("Tus salidas en Colab para la pregunta siguiente") == 1
        page.write_text(html.replace("</body>", IMAGE_PROBE))
        assert fired(page) == {"figura0x100"}  # the 1-inch figure at 100 dpi, decoded; no payload ran

"""The autograder is fair: correct-but-different submissions get full marks, one mistake costs its own points.

Each lab's submissions from ``lab_submissions.py`` are graded together with the demo class (the key's
answers, a blank and a half-done notebook), as one sealed class, with the real nbgrader pipeline
(``helpers.instructor.grading.grade``). Honest work is never flagged for review, and the perfect
notebook, graded sealed, shows no error in any cell. (Timings belong in ``benchmarks/``, never in a
test.)
"""
import nbformat
import pytest

from helpers.course import existing_labs, lab_notebook
from helpers.instructor import build, grading, nbgrader_io
from helpers.instructor.gradebook import gradebook_dump
from lab_submissions import SUBMISSIONS, graded_cell_points, notebook


def errors_shown(nb) -> list[str]:
    """One line per error a graded notebook shows (an error output, or a traceback printed on stderr),
    naming its cell."""
    found = []
    for number, cell in enumerate(nb.cells):
        label = f"celda {number} «{cell.metadata.get('nbgrader', {}).get('grade_id') or cell.get('id')}»"
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{label}: {out.get('ename')}: {out.get('evalue')}")
            elif out.get("output_type") == "stream" and out.get("name") == "stderr" and "Traceback" in out["text"]:
                found.append(f"{label}: traza en stderr: {out['text'].strip().splitlines()[-1]}")
    return found


def test_errors_shown_finds_error_outputs_and_printed_tracebacks_and_nothing_else():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x", id="ok", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="Traceback (en stdout no cuenta)\n"),
            nbformat.v4.new_output("stream", name="stderr", text="UserWarning: sin pesos de ImageNet\n")]),
        nbformat.v4.new_code_cell("y", id="falla", outputs=[
            nbformat.v4.new_output("error", ename="OSError", evalue="Read-only file system", traceback=[])]),
        nbformat.v4.new_code_cell("z", id="imprime", metadata={"nbgrader": {"grade_id": "prueba"}}, outputs=[
            nbformat.v4.new_output("stream", name="stderr", text="Traceback (most recent call last):\nKeyError: 1\n")]),
    ])
    assert errors_shown(nb) == ["celda 1 «falla»: OSError: Read-only file system",
                                "celda 2 «prueba»: traza en stderr: KeyError: 1"]


def test_every_lab_has_two_correct_and_one_wrong_submission():
    for lab in existing_labs():
        subs = SUBMISSIONS[lab].values()
        assert sum(not s.loses for s in subs) >= 2 and any(s.loses for s in subs), lab
        points = graded_cell_points(lab)
        assert all(s.loses <= set(points) for s in subs), lab


@pytest.mark.slow
@pytest.mark.parametrize("lab", existing_labs())
def test_correct_submissions_get_full_marks_and_a_mistake_costs_its_points(lab, tmp_path):
    folder = tmp_path / "entregas"
    for name, submission in SUBMISSIONS[lab].items():
        nbgrader_io.write_notebook(notebook(lab, submission), folder / f"{name}.ipynb")
    for name, nb in build.demo_submissions(lab).items():
        nbgrader_io.write_notebook(nb, folder / f"{name}.ipynb")
    grades = {g.student: g for g in grading.grade(lab, folder, tmp_path / "curso", log=lambda *_: None, jobs=2)}
    perfect, blank, half = grades.pop("perfecto"), grades.pop("en_blanco"), grades.pop("a_medias")
    # every cell of the perfect notebook, graded or not, runs cleanly in the sealed kernel
    # (a test cell's output is the grader's verdict, empty when it passed)
    graded = nbformat.read(lab_notebook("autograded/perfecto", lab, tmp_path / "curso"), as_version=4)
    assert errors_shown(graded) == [], f"{lab}: el cuaderno perfecto muestra errores al calificarlo"
    assert perfect.score == perfect.max_score > 0
    assert blank.score == 0
    assert 0 < half.score < half.max_score
    assert perfect.manual_pending > 0  # written answers wait for the instructor
    assert not any(g.review for g in (perfect, blank, half, *grades.values()))  # honest work is never flagged
    points = graded_cell_points(lab)
    cells = {}  # (student, test cell) -> autograded score
    for student, _, cell, score, *_ in gradebook_dump(lab, tmp_path / "curso"):
        if cell in points:
            cells[student, cell] = score
    assert set(grades) == set(SUBMISSIONS[lab])
    for name, submission in SUBMISSIONS[lab].items():
        lost = {cell: points[cell] - cells[name, cell] for cell in points if cells[name, cell] != points[cell]}
        assert lost == {cell: points[cell] for cell in submission.loses}, f"{lab}/{name} ({submission.about})"
        assert grades[name].score == grades[name].max_score - sum(points[c] for c in submission.loses)

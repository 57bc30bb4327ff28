"""The autograder is fair: correct-but-different submissions get full marks, one mistake costs its own points.

Each lab's submissions from ``lab_submissions.py`` are graded together with the demo class (the key's
answers, a blank and a half-done notebook), as one sealed class, with the real nbgrader pipeline
(``helpers.instructor.grading.grade``). Honest work is never flagged for review. (Timings belong in
``benchmarks/``, never in a test.)
"""
import pytest

from helpers.course import existing_labs
from helpers.instructor import build, grading
from lab_submissions import SUBMISSIONS, graded_cell_points, notebook


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
        build.write_notebook(notebook(lab, submission), folder / f"{name}.ipynb")
    for name, nb in build.demo_submissions(lab).items():
        build.write_notebook(nb, folder / f"{name}.ipynb")
    grades = {g.student: g for g in grading.grade(lab, folder, tmp_path / "curso", log=lambda *_: None, jobs=2)}
    perfect, blank, half = grades.pop("perfecto"), grades.pop("en_blanco"), grades.pop("a_medias")
    assert perfect.score == perfect.max_score > 0
    assert blank.score == 0
    assert 0 < half.score < half.max_score
    assert perfect.manual_pending > 0  # written answers wait for the instructor
    assert not any(g.review for g in (perfect, blank, half, *grades.values()))  # honest work is never flagged
    points = graded_cell_points(lab)
    cells = {}  # (student, test cell) -> autograded score
    for student, _, cell, score, *_ in grading.gradebook_dump(lab, tmp_path / "curso"):
        if cell in points:
            cells[student, cell] = score
    assert set(grades) == set(SUBMISSIONS[lab])
    for name, submission in SUBMISSIONS[lab].items():
        lost = {cell: points[cell] - cells[name, cell] for cell in points if cells[name, cell] != points[cell]}
        assert lost == {cell: points[cell] for cell in submission.loses}, f"{lab}/{name} ({submission.about})"
        assert grades[name].score == grades[name].max_score - sum(points[c] for c in submission.loses)

"""The autograder is fair: correct-but-different submissions get full marks, one mistake costs its own points.

Each lab's submissions from ``lab_submissions.py`` are graded together, as one class, with the real
nbgrader pipeline (``helpers.instructor.grading.grade``).
"""
import time

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
    start = time.perf_counter()
    grades = {g.student: g for g in grading.grade(lab, folder, tmp_path / "curso", log=lambda *_: None, jobs=2)}
    print(f"{lab}: {len(grades)} entregas en {time.perf_counter() - start:.0f} s")
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

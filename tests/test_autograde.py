"""Real nbgrader end to end, sealed: a perfect, a blank and a half-done submission of every lab.

(Timings belong in ``benchmarks/bench_autograde.py``, never in a test.)"""
import pytest

from helpers.instructor import build, grading
from helpers.course import existing_labs


@pytest.mark.slow
@pytest.mark.parametrize("lab", existing_labs())
def test_perfect_blank_and_half_done_submissions(lab, tmp_path):
    submissions = tmp_path / "entregas"
    for name, nb in build.demo_submissions(lab).items():
        build.write_notebook(nb, submissions / f"{name}.ipynb")
    grades = {g.student: g for g in grading.grade(lab, submissions, tmp_path / "curso", log=lambda *_: None)}
    perfect, blank, half = grades["perfecto"], grades["en_blanco"], grades["a_medias"]
    assert perfect.score == perfect.max_score > 0
    assert blank.score == 0
    assert 0 < half.score < half.max_score
    assert perfect.manual_pending > 0  # written answers wait for the instructor
    assert not any(g.review for g in grades.values())  # honest work is never flagged as tampering

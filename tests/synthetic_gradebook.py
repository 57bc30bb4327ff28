"""A gradebook filled by hand, as course grade and formgrader would leave it, for tests and benchmarks that
read grades without running notebooks."""
from helpers.course import lab_notebook
from helpers.instructor import nbgrader_io


def register_lab(gb, lab: str, duedate) -> None:
    """Add ``lab`` to the open nbgrader ``gb`` as generate_assignment would: its notebook, each graded cell
    with its points and each answer cell, from the release."""
    gb.add_assignment(lab, duedate=duedate)
    gb.add_notebook(lab, lab)
    for cell in nbgrader_io.read_notebook(lab_notebook("release", lab)).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade"):
            gb.add_grade_cell(meta["grade_id"], lab, lab, max_score=meta["points"], cell_type=cell.cell_type)
        if meta.get("solution"):
            gb.add_solution_cell(meta["grade_id"], lab, lab)


def add_graded(gb, lab: str, student: str, timestamp, written, comment=None):
    """Add ``student``'s submission of ``lab`` to ``gb`` as formgrader leaves it: every code test passed, the
    written answers scored ``written`` in order (None: still to grade by hand), each with ``comment(grade_id)``
    as the instructor's comment when given."""
    gb.add_student(student)
    sub = gb.add_submission(lab, student, timestamp=timestamp)
    manual = iter(written or ())
    for g in sub.notebooks[0].grades:
        if g.cell.cell_type == "code":
            g.auto_score = g.max_score
        elif written is not None:
            g.manual_score, g.needs_manual_grade = next(manual), False
            if comment:
                gb.find_comment(g.name, lab, lab, student).manual_comment = comment(g.name)
        else:
            g.needs_manual_grade = True

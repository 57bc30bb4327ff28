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

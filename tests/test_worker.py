"""Grading workers: many students per nbgrader process, a fresh kernel warmed ahead for each, and a
notebook over its time limit costs only its worker. On a one-cell course, so each student takes seconds."""
import dataclasses
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from helpers.course import ROOT
from helpers.instructor import judge, sandbox
from helpers.instructor.gradebook import empty_gradebook
from helpers.instructor.settings import Settings
from helpers.instructor.nbgrader_io import run_nbgrader
from helpers.instructor.worker import Job, WorkerFailed, WorkerPool

pytestmark = pytest.mark.slow  # each worker starts nbgrader and a sealed kernel with PyTorch in it

LAB = "mini"
#: The one test: a kernel warmed ahead already has the labs' libraries, and no earlier student left anything in it.
TEST = ("import builtins, sys\n"
        "assert 'torchinfo' in sys.modules, 'el núcleo no venía preparado'\n"
        "assert not hasattr(builtins, 'ya_usado'), 'el núcleo ya sirvió a otro estudiante'\n"
        "builtins.ya_usado = True\n"
        "assert respuesta == 42")


def course_notebook(answer: str):
    meta = lambda gid, **kw: {"nbgrader": {"grade_id": gid, "schema_version": 3, "locked": False,  # noqa: E731
                                           "solution": False, "grade": False, **kw}}
    return new_notebook(cells=[
        new_code_cell(answer, metadata=meta("respuesta", solution=True)),
        new_code_cell(TEST, metadata=meta("prueba", grade=True, locked=True, points=1))],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


SETTINGS = Settings(data=sandbox.data_folder())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A sealed course folder with the one-cell assignment in its gradebook (what each student's copy starts from)."""
    from nbgrader.converters import GenerateAssignment

    sandbox.require()
    sandbox.prepare_data(SETTINGS.data)
    root = tmp_path_factory.mktemp("curso")
    shutil.copy2(ROOT / "nbgrader_config.py", root)
    (root / "source" / LAB).mkdir(parents=True)
    nbformat.write(course_notebook("### BEGIN SOLUTION\nrespuesta = 42\n### END SOLUTION"),
                   root / "source" / LAB / f"{LAB}.ipynb")
    shutil.copy2(empty_gradebook(), root / "gradebook.db")
    assert run_nbgrader(GenerateAssignment, root, LAB)["success"]
    # What the test is judged against (see helpers.instructor.judge): it records no value, so it passes
    # when it raises nothing
    (root / judge.REFERENCE_NAME).write_text(json.dumps({"prueba": {"sites": {}}}))
    return root


def submit(course: Path, tmp: Path, student: str, answer: str) -> Job:
    root = tmp / student
    shutil.copytree(course, root)
    folder = root / "submitted" / student / LAB
    folder.mkdir(parents=True)
    nbformat.write(course_notebook(answer), folder / f"{LAB}.ipynb")
    return Job(str(root), LAB, student)


def points(job: Job) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{Path(job.root) / 'gradebook.db'}", "dl-curso") as gb:
        return gb.find_submission(LAB, job.student).score


def test_one_worker_grades_many_students_each_in_a_fresh_warm_kernel(course, tmp_path):
    forger = ("import os\nrespuesta = 42\n"  # tries to answer for the worker, on every descriptor it has
              + "".join(f"os.write({fd}, b'{json.dumps({'student': 'bea', 'error': None})}\\n')\n" for fd in (1, 2)))
    jobs = [submit(course, tmp_path, "ana", forger), submit(course, tmp_path, "bea", "respuesta = 41"),
            submit(course, tmp_path, "carla", "respuesta = 42")]
    with WorkerPool(1, tmp_path, SETTINGS) as pool:
        pool.expect(len(jobs))
        for job in jobs:
            with pool.lend() as worker:
                worker.autograde(job, timeout=300)
        (worker,) = pool.workers
        pid = worker.proc.pid
    assert [points(j) for j in jobs] == [1, 0, 1]  # bea's wrong answer was graded, not forged
    assert not Path(f"/proc/{pid}").exists()  # closed with the pool


def test_a_notebook_over_its_time_limit_costs_only_its_worker(course, tmp_path):
    slow = submit(course, tmp_path, "lento", "import time\ntime.sleep(600)\nrespuesta = 42")
    after = submit(course, tmp_path, "despues", "respuesta = 42")
    with WorkerPool(1, tmp_path, SETTINGS) as pool:
        pool.expect(2)
        with pool.lend() as worker:
            first = worker.proc
            with pytest.raises(WorkerFailed, match="tiempo máximo total"):
                worker.autograde(slow, timeout=10)
        assert first.poll() is not None  # killed, with the kernel it ran
        with pool.lend() as worker:
            worker.autograde(after, timeout=300)
    assert points(after) == 1


def test_a_cell_over_the_runs_cell_timeout_is_stopped(course, tmp_path):
    late = submit(course, tmp_path, "tardio", "import time\ntime.sleep(60)\nrespuesta = 42")
    with WorkerPool(1, tmp_path, dataclasses.replace(SETTINGS, cell_timeout=5)) as pool:
        with pool.lend() as worker:
            worker.autograde(late, timeout=50)  # the cell is stopped at 5 s: its answer never comes
    assert points(late) == 0

"""``course grade --cluster``: the same grading on the workers of a real (local) Dask cluster."""
import csv
import io
import shutil

import nbformat
import pytest

from helpers.instructor import build, cli, cluster, grading, nbgrader_io
from helpers.instructor.gradebook import gradebook_dump
from helpers.instructor.settings import Settings
from helpers.instructor.vocabulary import Status

LAB = "lab1_convolutions"


def test_an_unreachable_scheduler_is_a_spanish_error_before_any_work(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 0.3)  # a refused port is retried until the timeout
    folder = tmp_path / "entregas"
    nbgrader_io.write_notebook(build.demo_submissions(LAB)["perfecto"], folder / "ana.ipynb")
    code = cli.main(["grade", LAB, str(folder), "--workdir", str(tmp_path / "curso"), "--no-sandbox",
                     "--cluster", "tcp://127.0.0.1:9"])
    err = capsys.readouterr().err
    assert code == 1
    assert "No se pudo conectar con el planificador de Dask en tcp://127.0.0.1:9" in err and "Traceback" not in err
    assert not (tmp_path / "curso" / LAB / "_plantilla").exists()  # nothing was built for nothing


def test_a_worker_with_another_version_of_the_lab_refuses_to_grade():
    nb = build.demo_submissions(LAB)["perfecto"]
    settings = Settings(jobs=1, sandboxed=False)
    outcome, packed = cluster.grade_remotely(LAB, "ana", nbformat.writes(nb), "otra-version/limites", settings)
    assert packed == b"" and outcome.grades == {}
    assert "otra versión de lab1_convolutions" in outcome.error and "misma copia del curso" in outcome.error


@pytest.mark.slow
@pytest.mark.changes_environment  # Dask's Nanny sets its workers' variables in this process; conftest undoes them
def test_a_local_cluster_of_two_workers_grades_exactly_as_two_local_jobs(graded_corpora, tmp_path):
    """Three students of the corpus (a perfect one, one whose kernel dies, one with a test cell deleted)
    graded on the cluster match, row for row, what the corpus's ``--jobs 2`` run gave them."""
    distributed = pytest.importorskip("distributed")
    folder = tmp_path / "entregas"
    folder.mkdir()
    students = {"perfecto", "nucleo_caido", "sin_prueba"}
    for name in students:
        shutil.copy2(graded_corpora.submissions / f"{name}.ipynb", folder / f"{name}.ipynb")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        remote = grading.grade_class(LAB, folder, tmp_path / "cluster", cell_timeout=45, cluster=lc.scheduler_address,
                                     log=lambda *_: None)
    local = graded_corpora.run
    assert {g.student for g in remote.grades} == students
    assert {g.status for g in remote.grades} == {Status.GRADED}
    assert gradebook_dump(LAB, remote.workdir) == [
        row for row in gradebook_dump(LAB, local.workdir) if row[0] in students]
    rows = lambda run: [r for r in csv.DictReader(io.StringIO(run.csv.read_text())) if r["estudiante"] in students]  # noqa: E731
    assert rows(remote) == rows(local)
    for g in remote.grades:  # feedback written from the files the workers sent back
        assert (remote.workdir / "feedback" / g.student / LAB / f"{LAB}.html").exists()

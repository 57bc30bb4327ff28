"""A hostile class, graded sealed: every trick ends with 0 points and a name in the report, and nothing
it does reaches the key, classmates, the grader, the instructor's files or the network."""
import csv
import io
import re
from pathlib import Path

import pytest

from helpers.course import ROOT
from helpers.instructor import grading
from helpers.instructor.feedback import hidden_lines
from helpers.instructor.gradebook import read_grades
from helpers.instructor.isolated import verified_template
from helpers.instructor.vocabulary import Status
from conftest import CORPUS_LAB, SECRET_ENV
import hostile_corpus

pytestmark = pytest.mark.slow

#: The cases whose trick works inside their own kernel: the tripwires must catch them, not only the report.
TAMPERING = {"checks_vacios", "transformador", "manejador_excepciones", "helpers_falso", "falsificar_registros"}


def _rows(run):
    return {r["estudiante"]: r for r in csv.DictReader(io.StringIO(run.csv.read_text()))}


@pytest.mark.parametrize("case", sorted(hostile_corpus.CASES))
def test_every_trick_gets_no_points_and_is_named(graded_corpora, case):
    run = graded_corpora.run
    row = _rows(run)[case]
    assert row["puntos_automaticos"] == "0", row
    assert row["estado"] == Status.GRADED
    assert row["revisar"], row  # named for the instructor...
    report = run.report.read_text()
    assert f"! {case}: {row['revisar']}" in report  # ...at the top of the report
    if case in TAMPERING:
        assert grading.TAMPERED in row["revisar"]
        assert f"MANIPULACIÓN DETECTADA" in report.split(f"- {case}.ipynb")[1].split("\n- ")[0]


def test_honest_perfect_notebook_keeps_every_point_unflagged(graded_corpora):
    row = _rows(graded_corpora.run)["perfecto"]
    assert row["puntos_automaticos"] == row["maximo_automatico"] != "0"
    assert row["revisar"] == ""


def test_classmates_and_received_files_are_untouched(graded_corpora):
    now = {p.relative_to(graded_corpora.submissions): p.read_bytes()
           for p in graded_corpora.submissions.rglob("*") if p.is_file()}
    assert now == graded_corpora.received
    workdir = graded_corpora.run.workdir
    graded = [f for f in graded_corpora.run.files if f.status == Status.GRADED]
    assert len(graded) > len(hostile_corpus.CASES)
    for f in graded:  # each student's copy is still exactly what they sent
        kept = workdir / "entregas" / f.student / f"{CORPUS_LAB}.ipynb"
        assert kept.read_bytes() == graded_corpora.received[Path(f.name)], f.name
    students = {g.student for g in read_grades(CORPUS_LAB, workdir)}
    assert hostile_corpus.MARK not in students and "perfecto" in students


def test_the_grader_and_the_instructors_files_are_untouched(graded_corpora):
    workdir = graded_corpora.run.workdir
    assert verified_template(workdir / "_plantilla") is not None
    assert hostile_corpus.MARK not in (workdir / "_plantilla" / "nbgrader_config.py").read_text()
    assert hostile_corpus.MARK not in (ROOT / "helpers" / "checks.py").read_text()
    import torch
    assert hostile_corpus.MARK not in Path(torch.__file__).read_text()


def test_no_process_outlives_the_run(graded_corpora):  # after the class run, even when run alone
    left = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if hostile_corpus.MARK.encode() in cmdline.read_bytes():
                left.append(cmdline.parent.name)
        except OSError:
            pass
    assert not left, f"procesos de estudiantes que siguen vivos: {left}"


@pytest.mark.parametrize("case", ["leer_gradebook", "leer_companeros", "entorno", "leer_clave", "red"])
def test_nothing_secret_reaches_a_students_outputs(graded_corpora, case):
    workdir = graded_corpora.run.workdir
    executed = (workdir / "autograded" / case / CORPUS_LAB / f"{CORPUS_LAB}.ipynb").read_text()
    feedback = (workdir / "feedback" / case / CORPUS_LAB / f"{CORPUS_LAB}.html").read_text()
    hidden = hidden_lines(CORPUS_LAB)
    for text in (executed, feedback):
        assert SECRET_ENV[1] not in text
        assert "/entregas/" not in text and "autograded/" not in text  # no classmate's notebook was found
        assert "RED ALCANZADA http" not in text  # what the cell would print had it reached the network
    assert not [line for line in hidden if line in feedback], "la retroalimentación muestra pruebas ocultas"


def test_feedback_of_a_failed_test_shows_its_message_not_its_source(graded_corpora):
    html = (graded_corpora.run.workdir / "feedback" / "entorno" / CORPUS_LAB / f"{CORPUS_LAB}.html").read_text()
    assert "NotImplementedError" in html and 'lang="es"' in html
    # an unfinished answer is named with its exercise, and a missing one is asked for first, in Spanish
    assert "`max_pool2d_manual` (Ejercicio 1.2) todavía no está hecha" in html
    assert "Esta prueba usa `pool`, que tu respuesta de este ejercicio debe definir" in html
    shown = re.sub(r"<style[^>]*>.*?</style>", "", html, flags=re.S)  # not the page's CSS (/* Generic.Traceback */)
    assert "BEGIN HIDDEN TESTS" not in shown and "Traceback" not in shown
    external = [img for img in re.findall(r"<img[^>]*>", html) if 'src="data:' not in img]
    # figures embedded, readable offline; the only outside image is the «Abrir en Colab» link
    assert all('alt="Abrir en Colab"' in img for img in external), external

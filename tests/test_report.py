"""course report: the class at a glance (synthetic gradebook, no notebook is run): its numbers match the
grades and the CSV, student text is escaped, the page renders in Chromium with its figures decoded, and
the copied answer is shown side by side."""
import csv
import html
import json
import re
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import nbformat
import pytest

from helpers.course import COURSE_ID, lab_notebook
from helpers.instructor import cli, nbgrader_io, report
from helpers.instructor.gradebook import empty_gradebook, read_grades
from helpers.instructor.records import write_csv
from synthetic_gradebook import register_lab
from test_inert import IMAGE_PROBE, fired, needs_chromium
from test_similarity import COPY, ORIGINAL

LAB = "lab1_convolutions"
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")
DUE = datetime(2026, 11, 20, 23, 59)
HOSTILE = '<img src=x onerror="document.body.appendChild(Object.assign(document.createElement(\'div\'),{id:\'xss-ran\'}))">'
#: student -> (fraction of each test's points, hours late); test_output_size's message below is hostile
CLASS = {"ana": (1.0, -1), "beto": (1.0, 5), "carla": (0.0, -1), "dani": (0.5, -1), "eva": (0.0, 30)}


@pytest.fixture
def graded(tmp_path):
    """A work folder as course grade leaves it: scores per CLASS, failed tests with their messages in the
    autograded notebooks, ana's answer copied by beto, renamed and reordered."""
    from nbgrader.api import Gradebook

    workdir = tmp_path / LAB
    workdir.mkdir()
    shutil.copy2(empty_gradebook(), workdir / "gradebook.db")
    state = {}
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        register_lab(gb, LAB, DUE)
        for sid, (part, hours) in CLASS.items():
            gb.add_student(sid)
            sub = gb.add_submission(LAB, sid, timestamp=DUE + timedelta(hours=hours))
            for g in sub.notebooks[0].grades:
                if g.cell.cell_type == "code":
                    g.auto_score = g.max_score * part
                else:
                    g.needs_manual_grade = True
            executed = nbgrader_io.read_notebook(lab_notebook("release", LAB))
            for cell in executed.cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id", "")
                if gid.startswith("test_") and part < 1:
                    evalue = HOSTILE if gid == "test_output_size" else f"Se esperaba 15, se obtuvo {part:g}"
                    cell.outputs = [nbformat.v4.new_output("error", ename="CheckFailed", evalue=evalue, traceback=[])]
                if gid == "maxpool_manual" and sid in ("ana", "beto"):
                    cell.source = ORIGINAL if sid == "ana" else COPY
            for folder in ("autograded", "submitted"):
                path = lab_notebook(f"{folder}/{sid}", LAB, workdir)
                path.parent.mkdir(parents=True)
                nbgrader_io.write_notebook(executed, path)
            feedback = workdir / "feedback" / sid / LAB / f"{LAB}.html"
            feedback.parent.mkdir(parents=True)
            feedback.write_text("<html></html>")
            state[sid] = {"revisar": "manipulación detectada <b>x</b>" if sid == "eva" else ""}
        gb.db.commit()
    (workdir / "estado.json").write_text(json.dumps(state))
    (workdir / f"informe_{LAB}.txt").write_text(f"Informe de la calificación de {LAB}\n\nEntregas que conviene revisar "
                                                "a mano:\n  ! eva: manipulación detectada <b>x</b>\n\n- eva.ipynb → eva: calificado\n")
    return workdir


def _rows(page: str, first: str) -> dict[str, list[str]]:
    """The cells of each table row whose first cell is ``first``-like, keyed by it."""
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", page, re.S):
        cells = re.findall(r"<td>(.*?)</td>", row, re.S)
        if cells and re.fullmatch(first, cells[0]):
            rows[cells[0]] = cells
    return rows


def test_the_numbers_match_the_grades_and_the_csv(graded, capsys):
    assert cli.main(["report", LAB, "--workdir", str(graded.parent)]) == 0
    assert f"informe_{LAB}.html" in capsys.readouterr().out
    page = (graded / f"informe_{LAB}.html").read_text()

    csv_path = write_csv(read_grades(LAB, graded), graded / f"notas_{LAB}.csv")
    students = _rows(page, r"[a-z]+")
    with open(csv_path, encoding="utf-8") as f:
        expected = {r["estudiante"]: f"{r['puntos_automaticos']} de {r['maximo_automatico']}" for r in csv.DictReader(f)}
    assert {sid: cells[1] for sid, cells in students.items()} == expected
    assert students["ana"][1] == "24 de 24" and students["dani"][1] == "12 de 24"
    assert students["beto"][4] == "5.0 h" and students["eva"][4] == "30.0 h" and students["ana"][4] == ""
    assert students["carla"][5] == f'<a href="feedback/carla/{LAB}/{LAB}.html">ver</a>'

    tests = _rows(page, r"test_\w+")
    assert tests["test_output_size"][1:5] == ["Ejercicio 3.1", "2", "1", "2"]  # passed, partly, failed
    assert "Se esperaba 15, se obtuvo 0 (2)" in tests["test_conv_layer"][5]  # carla, eva
    assert "<img" not in page.split("<h2>Cada prueba")[1] and html.escape(HOSTILE)[:20] in page
    assert "manipulación detectada &lt;b&gt;x&lt;/b&gt;" in page.split("<h2>Puntuaciones")[0]


def test_once_exported_the_lateness_is_the_exports(graded):
    """course export knows the platform's submission times (Moodle's worksheet): the report then shows those."""
    final = graded / "exportar" / f"notas_finales_{LAB}.csv"
    final.parent.mkdir()
    final.write_text("estudiante,retraso_horas,nota_final\nbeto,0.00,20\nana,2.50,24\n")
    students = _rows(report.write_report(LAB, graded).read_text(), r"[a-z]+")
    assert (students["beto"][4], students["ana"][4], students["eva"][4]) == ("", "2.5 h", "30.0 h")


def test_the_copied_answer_is_side_by_side(graded):
    page = report.write_report(LAB, graded).read_text()
    copied = page.split("Respuestas que parecen copiadas")[1]
    assert re.search(r"<h3>[^<]*: ana y beto \(\d+% en común\)</h3>", copied)
    assert copied.count("<h3>") == 1  # the stubs every other student left are no copy
    assert "<mark>    for valor in x:</mark>" in copied and "<mark>    for d in datos:</mark>" in copied


def test_a_missing_work_folder_says_what_to_do(tmp_path, capsys):
    assert cli.main(["report", LAB, "--workdir", str(tmp_path)]) == 1
    assert "No hay calificaciones de lab1_convolutions" in capsys.readouterr().err


@needs_chromium
def test_the_page_renders_with_its_figures_and_runs_nothing(graded):
    page = report.write_report(LAB, graded)
    final = graded / "exportar" / f"notas_finales_{LAB}.csv"
    final.parent.mkdir()
    final.write_text("estudiante,nota_final\nana,18\nbeto,0\n")
    page = report.write_report(LAB, graded)
    page.write_text(page.read_text().replace("</body>", IMAGE_PROBE))
    assert fired(page) == {"figura0x480", "figura1x480"}  # both 6-inch figures at 80 dpi decode; no payload ran

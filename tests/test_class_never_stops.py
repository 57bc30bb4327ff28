"""One notebook never stops the class: a name too long for the file system, a lone UTF-16 surrogate in a
cell, or any per-student step that raises, end with that student graded or «error al calificar», and the
CSV and the report are written for everyone."""
import csv
import io
import json
import zipfile
from pathlib import Path
from types import SimpleNamespace

import nbformat
import pytest

from helpers.course import lab_notebook
from helpers.instructor import build, collect, grading
from helpers.instructor.gradebook import read_grades
from helpers.instructor.vocabulary import Status

LAB = "lab1_convolutions"
pytestmark = pytest.mark.skipif(not lab_notebook("source", LAB).exists(), reason="Lab 1 no existe")

LONG_NAME = ("Ana María de los Ángeles " * 12)[:294] + ".ipynb"  # 300 characters: more than a file name may have
FEEDBACK_FAILS, INTAKE_FAILS = "luis", "maria"


def _with_lone_surrogates(nb) -> bytes:
    """``nb`` as JSON whose first solution cell has a lone surrogate in its metadata and in its source."""
    data = json.loads(nbformat.writes(nb))
    cell = next(c for c in data["cells"] if c["metadata"].get("nbgrader", {}).get("solution")
                and c["cell_type"] == "code")
    cell["metadata"]["colab"] = {"nota": "roto \ud800 aquí"}
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    cell["source"] = "# comentario con \udfff suelto\n" + source
    return json.dumps(data).encode("ascii")  # JSON escapes each surrogate as "\ud800": valid JSON, not UTF-8


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One small class from a zip, graded once: a perfect notebook, one with a 300-character name, one with
    lone surrogates, one whose feedback raises and one whose intake raises (both by monkeypatch)."""
    tmp = tmp_path_factory.mktemp("nunca_se_para")
    perfect = nbformat.writes(build.student_version(LAB, "all")).encode()
    members = {"perfecto.ipynb": perfect, LONG_NAME: perfect, "sustitutos.ipynb": _with_lone_surrogates(
        build.student_version(LAB, "all")), f"{FEEDBACK_FAILS}.ipynb": perfect, f"{INTAKE_FAILS}.ipynb": perfect}
    download = tmp / "descarga.zip"
    with zipfile.ZipFile(download, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    real_feedback, real_repair = grading.write_feedback, grading._repair_one

    def feedback(lab, student, *args, **kwargs):
        if student == FEEDBACK_FAILS:
            raise RuntimeError("retroalimentación rota a propósito")
        return real_feedback(lab, student, *args, **kwargs)

    def repair_one(lab, workdir, f, *args, **kwargs):
        if f.student == INTAKE_FAILS:
            raise KeyError("recepción rota a propósito")
        return real_repair(lab, workdir, f, *args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(grading, "write_feedback", feedback)
        mp.setattr(grading, "_repair_one", repair_one)
        run = grading.grade_class(LAB, download, tmp / "curso", jobs=2, cell_timeout=45, log=lambda *_: None)
    print(f"\n{run.summary()}\n{run.problems()}")
    rows = {r["estudiante"]: r for r in csv.DictReader(io.StringIO(run.csv.read_text()))}
    return SimpleNamespace(run=run, rows=rows, members=members, files={f.name: f for f in run.files},
                           report=run.report.read_text())


@pytest.mark.slow
def test_every_student_is_in_the_csv_and_the_report(graded):
    long_id = collect.student_of(LONG_NAME, collect.compile_pattern("auto"))
    assert len(long_id) == collect.MAX_ID
    assert set(graded.rows) == {"perfecto", long_id, "sustitutos", FEEDBACK_FAILS, INTAKE_FAILS}
    for name in graded.members:
        assert f"- {name} → " in graded.report


@pytest.mark.slow
def test_a_300_character_name_and_lone_surrogates_are_graded_like_the_perfect_notebook(graded):
    top = graded.rows["perfecto"]["maximo_automatico"]
    assert graded.rows["perfecto"]["puntos_automaticos"] == top and graded.rows["perfecto"]["estado"] == Status.GRADED
    long = graded.files[LONG_NAME]
    for sid in (long.student, "sustitutos"):
        assert (graded.rows[sid]["estado"], graded.rows[sid]["puntos_automaticos"]) == (Status.GRADED, top), sid
        assert (graded.run.workdir / "feedback" / sid / LAB / f"{LAB}.html").exists()
    assert any("sustitutos UTF-16 sueltos" in n and n.endswith(": 2") for n in map(str, graded.files["sustitutos.ipynb"].notes))
    for name, f in ((LONG_NAME, long), ("sustitutos.ipynb", graded.files["sustitutos.ipynb"])):
        kept = graded.run.workdir / "entregas" / f.student / f"{LAB}.ipynb"
        assert kept.read_bytes() == graded.members[name]  # the original as received, byte for byte


@pytest.mark.slow
def test_a_step_that_raises_fails_its_student_alone_with_the_reason(graded):
    for sid, words in ((FEEDBACK_FAILS, "retroalimentación rota a propósito"),
                       (INTAKE_FAILS, "recepción rota a propósito")):
        row, f = graded.rows[sid], graded.files[f"{sid}.ipynb"]
        assert (row["estado"], row["puntos_automaticos"]) == (Status.FAILED, ""), row
        assert f.status == Status.FAILED and any("fallo inesperado" in n and words in n for n in map(str, f.notes))
        assert words in graded.report
    assert FEEDBACK_FAILS not in {g.student for g in read_grades(LAB, graded.run.workdir)}
    assert not (graded.run.workdir / "_trabajo" / FEEDBACK_FAILS).exists()  # its scratch folder is gone too

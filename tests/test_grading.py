"""Class grading: file names to students, repairs against the release, and the damaged-submission corpus."""
import copy
import csv
import io
import shutil
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from helpers.instructor import build, collect, grading
from helpers.course import lab_notebook
from helpers.instructor.repair import NotThisLab, repair

sys.path.insert(0, str(Path(__file__).parent))
import grading_corpus  # noqa: E402

LAB = "lab1_convolutions"
pytestmark = pytest.mark.skipif(not lab_notebook("source", LAB).exists(), reason="Lab 1 no existe")


def _graded(nb):
    return [(c.cell_type, c.metadata.get("nbgrader", {}).get("grade_id"), c.source) for c in nb.cells
            if c.metadata.get("nbgrader")]


@pytest.fixture(scope="module")
def release():
    return build.read_notebook(lab_notebook("release", LAB))


@pytest.fixture(scope="module")
def corpus():
    return grading_corpus.damaged(LAB)


# ---------------------------------------------------------------- file names -> students

@pytest.mark.parametrize("name, student", [
    ("Ana García_123456_assignsubmission_file_lab1_convolutions.ipynb", "ana_garcia"),  # Moodle
    ("José Pérez_98765_assignsubmission_file_/lab1_convolutions.ipynb", "jose_perez"),  # Moodle, a folder each
    ("garciaana_12345_67890_lab1_convolutions.ipynb", "garciaana"),  # Canvas
    ("garciaana_LATE_12345_67890_lab1_convolutions-1.ipynb", "garciaana"),  # Canvas, late resubmission
    ("Ana García - lab1_convolutions.ipynb", "ana_garcia"),  # Google Classroom
    ("ana_garcia.ipynb", "ana_garcia"),  # plain folder
])
def test_platform_file_names_give_student_ids(name, student):
    assert collect.student_of(name, collect.compile_pattern("auto")) == student


def test_custom_pattern_and_spanish_errors():
    pattern = collect.compile_pattern(r"entrega-(?P<estudiante>\d+)\.ipynb")
    assert collect.student_of("entrega-0042.ipynb", pattern) == "0042"
    assert collect.student_of("otro.ipynb", pattern) is None
    with pytest.raises(ValueError, match="grupo con nombre"):
        collect.compile_pattern(r"(\d+)\.ipynb")
    with pytest.raises(ValueError, match="expresión regular"):
        collect.compile_pattern(r"(?P<estudiante>")


def test_zip_from_moodle_is_unpacked_and_every_file_named(tmp_path):
    buf = tmp_path / "moodle.zip"
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("Ana García_1_assignsubmission_file_/lab1_convolutions.ipynb", "{}")
        zf.writestr("Ana García_1_assignsubmission_file_/lab1_convolutions-2.ipynb", "{}")
        zf.writestr("Luis Ruiz_2_assignsubmission_file_/informe.pdf", "%PDF")
        zf.writestr("__MACOSX/._x.ipynb", "")
    subs = collect.collect(collect.unpack(buf, tmp_path / "x"), "moodle")
    fate = {s.name: (s.student, s.status) for s in subs}
    assert fate["Ana García_1_assignsubmission_file_/lab1_convolutions-2.ipynb"] == ("ana_garcia", "pendiente")
    assert fate["Ana García_1_assignsubmission_file_/lab1_convolutions.ipynb"] == ("ana_garcia", "ignorado")
    assert fate["Luis Ruiz_2_assignsubmission_file_/informe.pdf"][1] == "ignorado"
    assert fate["__MACOSX/._x.ipynb"][1] == "ignorado"
    assert all(s.notes for s in subs if s.status == "ignorado")


# ---------------------------------------------------------------- repairs (no execution)

REPAIRS = {
    "perfecto.ipynb": [],
    "sin_prueba.ipynb": ["«test_maxpool_manual» borrada: restaurada desde el enunciado"],
    "prueba_markdown.ipynb": ["«test_conv_manual» convertida en markdown: restaurada desde el enunciado"],
    "duplicadas.ipynb": ["«conv_layer» duplicada: se califica la primera",
                         "«test_output_size» duplicada: se quita la copia"],
    "sin_metadatos.ipynb": ["celdas sin metadatos de nbgrader", "«test_maxpool_manual»", "«alexnet»"],
    "desordenado.ipynb": ["fuera del orden del enunciado"],
    "colab.ipynb": [],
}


@pytest.mark.parametrize("name", sorted(REPAIRS))
def test_repair_restores_the_perfect_notebook(name, corpus, release):
    content = corpus[name][0]
    nb = nbformat.reads(content.decode(), as_version=4) if isinstance(content, bytes) else copy.deepcopy(content)
    fixed = repair(nb, release, LAB)
    perfect = repair(copy.deepcopy(corpus["perfecto.ipynb"][0]), release, LAB).nb
    if name == "duplicadas.ipynb":  # the student's extra copy of their solution stays, as a plain cell
        assert sum(1 for c in fixed.nb.cells if c.source == next(
            c.source for c in perfect.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "conv_layer")) == 2
    assert _graded(fixed.nb) == _graded(perfect)
    text = "\n".join(fixed.notes)
    for expected in REPAIRS[name]:
        assert expected in text
    assert bool(fixed.notes) == bool(REPAIRS[name])
    nbformat.validate(fixed.nb)


def test_repair_keeps_student_lines_and_never_trusts_locked_cells(corpus, release):
    nb = copy.deepcopy(corpus["perfecto.ipynb"][0])
    test = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_conv_layer")
    test.source = "pass  # me pongo los puntos"
    nb.cells.append(nbformat.v4.new_code_cell("mi_prueba = 1"))
    fixed = repair(nb, release, LAB)
    sources = [c.source for c in fixed.nb.cells]
    original = next(c.source for c in release.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_conv_layer")
    assert original in sources and "mi_prueba = 1" in sources
    assert any(c.cell_type == "raw" and "me pongo los puntos" in c.source for c in fixed.nb.cells)
    assert any("«test_conv_layer» modificada" in n for n in fixed.notes)


def test_wrong_lab_is_refused(corpus, release):
    with pytest.raises(NotThisLab, match="no es una entrega de lab1_convolutions"):
        repair(copy.deepcopy(corpus["otro_lab.ipynb"][0]), release, LAB)
    with pytest.raises(NotThisLab, match="parece un cuaderno de lab9"):
        repair(copy.deepcopy(corpus["otro_lab.ipynb"][0]), release, LAB, {"lab9": {"otro_modelo"}})


# ---------------------------------------------------------------- the corpus, graded for real

#: file -> (status, autograded points or None, words expected in the report). Lab 1 has 17 points.
EXPECTED = {
    "perfecto.ipynb": ("calificado", 17, []),
    "sin_prueba.ipynb": ("calificado", 17, ["«test_maxpool_manual» borrada: restaurada"]),
    "prueba_markdown.ipynb": ("calificado", 17, ["«test_conv_manual» convertida en markdown: restaurada"]),
    "duplicadas.ipynb": ("calificado", 17, ["«conv_layer» duplicada", "«test_output_size» duplicada"]),
    "sin_metadatos.ipynb": ("calificado", 17, ["celdas sin metadatos de nbgrader"]),
    "desordenado.ipynb": ("calificado", 17, ["fuera del orden del enunciado"]),
    "colab.ipynb": ("calificado", 17, []),
    # conv_layer loops forever: interrupted after the per-cell timeout; test_conv_layer (1 point) fails
    "bucle_infinito.ipynb": ("calificado", 16, ["celda «conv_layer»: superó el tiempo máximo por celda"]),
    # output_size kills the kernel: the cell is disabled and the notebook re-run; its tests fail
    "nucleo_caido.ipynb": ("calificado", None, ["celda «output_size» desactivada: el núcleo de Python se cayó"]),
    # conv_chain eats memory until the per-student limit: the cell is disabled and the notebook re-run
    "memoria.ipynb": ("calificado", None, ["celda «conv_chain» desactivada: superó el límite de memoria"]),
    "corrupto.ipynb": ("ilegible", None, ["no es un cuaderno de Jupyter válido"]),
    "vacio.ipynb": ("ilegible", None, ["archivo vacío"]),
    "otro_lab.ipynb": ("otro laboratorio", None, ["no es una entrega de lab1_convolutions"]),
    "notas.txt": ("ignorado", None, ["no es un cuaderno (.ipynb)"]),
}
CRASH_SCORE = 15  # 17 minus test_output_size (2); measured, see the corpus test
MEMORY_SCORE = 16  # 17 minus test_conv_chain (1)


def _csv(path):
    return list(csv.DictReader(io.StringIO(Path(path).read_text())))


@pytest.mark.slow
def test_damaged_corpus_parallel_serial_and_resubmission(tmp_path, corpus):
    submissions = tmp_path / "entregas"
    grading_corpus.write(corpus, submissions)
    options = dict(cell_timeout=45, log=lambda *_: None)
    run = grading.grade_class(LAB, submissions, tmp_path / "curso", jobs=2, **options)
    print(f"\n{run.summary()}\n{run.problems()}")
    fate = {f.name: f for f in run.files}
    assert set(fate) == set(EXPECTED)  # every file is named in the report
    report = run.report.read_text()
    rows = {r["estudiante"]: r for r in _csv(run.csv)}
    for name, (status, score, words) in EXPECTED.items():
        f = fate[name]
        assert f.status == status, (name, f.status, f.notes)
        assert f"- {name}" in report
        for w in words:
            assert w in report and any(w in n for n in f.notes), (name, w, f.notes)
        if name.endswith(".ipynb"):
            row = rows[Path(name).stem]
            expected = {"nucleo_caido.ipynb": CRASH_SCORE, "memoria.ipynb": MEMORY_SCORE}.get(name, score)
            assert row["puntos_automaticos"] == ("" if expected is None else f"{expected:g}"), (name, row)
            assert row["estado"] == status
            assert row["maximo_automatico"] == "17"
    # never a silent 0: unreadable files are in the CSV without points, and not in the gradebook
    book = {g.student for g in grading.read_grades(LAB, run.workdir)}
    assert {"corrupto", "vacio", "otro_lab"}.isdisjoint(book)
    feedback = (run.workdir / "feedback" / "sin_prueba" / LAB / f"{LAB}.html").read_text()
    assert "Retroalimentación" in feedback and "restaurada desde el enunciado" in feedback

    # parallel equals serial: a few of the same students graded one at a time
    few = tmp_path / "pocas"
    few.mkdir()
    for name in ("perfecto.ipynb", "nucleo_caido.ipynb", "sin_prueba.ipynb"):
        shutil.copy2(submissions / name, few / name)
    serial = grading.grade_class(LAB, few, tmp_path / "serie", jobs=1, **options)
    students = {"perfecto", "nucleo_caido", "sin_prueba"}
    assert grading.gradebook_dump(LAB, serial.workdir) == [
        row for row in grading.gradebook_dump(LAB, run.workdir) if row[0] in students]
    assert _csv(serial.csv) == [r for r in _csv(run.csv) if r["estudiante"] in students]

    # idempotent: the same folder again changes nothing and executes nothing
    before = grading.gradebook_dump(LAB, run.workdir)
    again = grading.grade_class(LAB, submissions, tmp_path / "curso", jobs=2, **options)
    assert again.graded_now == 0
    assert grading.gradebook_dump(LAB, run.workdir) == before
    assert again.csv.read_text() == run.csv.read_text()

    # a resubmission: only that student changes; a student missing from the new folder keeps the grade
    build.write_notebook(build.student_version(LAB, set()), submissions / "perfecto.ipynb")  # now blank
    (submissions / "duplicadas.ipynb").unlink()
    resub = grading.grade_class(LAB, submissions, tmp_path / "curso", jobs=2, **options)
    assert resub.graded_now == 1
    after = grading.gradebook_dump(LAB, run.workdir)
    assert [r for r in after if r[0] != "perfecto"] == [r for r in before if r[0] != "perfecto"]
    rows = {r["estudiante"]: r for r in _csv(resub.csv)}
    assert rows["perfecto"]["puntos_automaticos"] == "0"
    assert rows["duplicadas"]["puntos_automaticos"] == "17"
    assert {f.name: f.status for f in resub.files}["sin_prueba.ipynb"] == "sin cambios"

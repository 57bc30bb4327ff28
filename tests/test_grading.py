"""Class grading: file names to students, repairs against the release, and the damaged-submission corpus."""
import base64
import copy
import csv
import io
import shutil
import zipfile
from pathlib import Path

import nbformat
import pytest

from helpers.instructor import build, collect, exercises, grading, nbgrader_io
from helpers.instructor.feedback import feedback_notebook, hidden_lines, write_feedback
from helpers.instructor.gradebook import gradebook_dump, read_grades
from helpers.course import lab_notebook
from helpers.instructor.repair import NotThisLab, repair
from helpers.instructor.vocabulary import Status

import grading_corpus

LAB = "lab1_convolutions"
pytestmark = pytest.mark.skipif(not lab_notebook("source", LAB).exists(), reason="Lab 1 no existe")


def _graded(nb):
    return [(c.cell_type, c.metadata.get("nbgrader", {}).get("grade_id"), c.source) for c in nb.cells
            if c.metadata.get("nbgrader")]


@pytest.fixture(scope="module")
def release():
    return nbgrader_io.read_notebook(lab_notebook("release", LAB))


@pytest.fixture(scope="module")
def corpus():
    return grading_corpus.damaged(LAB)


# ---------------------------------------------------------------- file names -> students

@pytest.mark.parametrize("name, student", [
    ("Ana García_123456_assignsubmission_file_lab1_convolutions.ipynb", "ana_garcia_123456"),  # Moodle 3
    ("José Pérez_98765_assignsubmission_file_/lab1_convolutions.ipynb", "jose_perez_98765"),  # Moodle 3, folders
    ("Ana García_1234567_assignsubmission_file/lab1.ipynb", "ana_garcia_1234567"),  # Moodle 4, folders
    ("Ana García_7654321_assignsubmission_file/lab1.ipynb", "ana_garcia_7654321"),  # her namesake
    ("Íñigo Muñoz_55_assignsubmission_onlinetext/onlinetext.html", "inigo_munoz_55"),  # Moodle online text
    ("garciaana_12345_67890_lab1_convolutions.ipynb", "garciaana_12345"),  # Canvas
    ("garcíaana_12345_67890_lab1.ipynb", "garciaana_12345"),  # Canvas keeps accented letters
    ("pérezjosé_late_222_333_lab1-1.ipynb", "perezjose_222"),  # Canvas, late resubmission
    ("garciaana_LATE_12345_67890_lab1_convolutions-1.ipynb", "garciaana_12345"),  # older Canvas
    ("anon_4242_9999_lab1.ipynb", "anon_4242"),  # Canvas anonymous grading
    ("Ana García - lab1_convolutions.ipynb", "ana_garcia"),  # Google Classroom
    ("ana_garcia.ipynb", "ana_garcia"),  # plain folder
    ("maria_lopez-1.ipynb", "maria_lopez"),  # plain folder, resubmission
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
    subs = collect.collect(collect.unpack(buf, tmp_path / "x")[0], "moodle")
    fate = {s.name: (s.student, s.status) for s in subs}
    assert fate["Ana García_1_assignsubmission_file_/lab1_convolutions-2.ipynb"] == ("ana_garcia_1", Status.PENDING)
    assert fate["Ana García_1_assignsubmission_file_/lab1_convolutions.ipynb"] == ("ana_garcia_1", Status.IGNORED)
    assert fate["Luis Ruiz_2_assignsubmission_file_/informe.pdf"][1] == Status.IGNORED
    assert fate["__MACOSX/._x.ipynb"][1] == Status.IGNORED
    assert all(s.notes for s in subs if s.status == Status.IGNORED)


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

#: Lab 1's automatic points, and those of the tests the damaged cases break.
_POINTS = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
           for c in nbgrader_io.read_notebook(lab_notebook("release", LAB)).cells
           if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}
TOP = sum(_POINTS.values())

#: file -> (status, autograded points or None, words expected in the report).
EXPECTED = {
    "perfecto.ipynb": (Status.GRADED, TOP, []),
    "sin_prueba.ipynb": (Status.GRADED, TOP, ["«test_maxpool_manual» borrada: restaurada"]),
    "prueba_markdown.ipynb": (Status.GRADED, TOP, ["«test_conv_manual» convertida en markdown: restaurada"]),
    "duplicadas.ipynb": (Status.GRADED, TOP, ["«conv_layer» duplicada", "«test_output_size» duplicada"]),
    "sin_metadatos.ipynb": (Status.GRADED, TOP, ["celdas sin metadatos de nbgrader"]),
    "desordenado.ipynb": (Status.GRADED, TOP, ["fuera del orden del enunciado"]),
    "colab.ipynb": (Status.GRADED, TOP, []),
    # conv_layer loops forever: interrupted after the per-cell timeout; test_conv_layer (1 point) fails
    "bucle_infinito.ipynb": (Status.GRADED, TOP - _POINTS["test_conv_layer"], ["celda «conv_layer»: superó el tiempo máximo por celda"]),
    # output_size kills the kernel: the cell is disabled and the notebook re-run; test_output_size (2) fails
    "nucleo_caido.ipynb": (Status.GRADED, TOP - _POINTS["test_output_size"], ["celda «output_size» desactivada: el núcleo de Python se cayó"]),
    # conv_chain eats memory until the per-student limit: disabled, re-run; test_conv_chain (1) fails
    "memoria.ipynb": (Status.GRADED, TOP - _POINTS["test_conv_chain"], ["celda «conv_chain» desactivada: superó el límite de memoria"]),
    "corrupto.ipynb": (Status.UNREADABLE, None, ["no es un cuaderno de Jupyter válido"]),
    "vacio.ipynb": (Status.UNREADABLE, None, ["archivo vacío"]),
    "otro_lab.ipynb": (Status.OTHER_LAB, None, ["no es una entrega de lab1_convolutions"]),
    "notas.txt": (Status.IGNORED, None, ["no es un cuaderno (.ipynb)"]),
}


def _csv(path):
    return list(csv.DictReader(io.StringIO(Path(path).read_text())))


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_damaged_file_ends_as_expected(graded_corpora, name):
    run = graded_corpora.run
    status, score, words = EXPECTED[name]
    f = {f.name: f for f in run.files}[name]
    assert f.status == status, (name, f.status, f.notes)
    report = run.report.read_text()
    assert f"- {name}" in report
    for w in words:
        assert w in report and any(w in n.text for n in f.notes), (name, w, f.notes)
    if name.endswith(".ipynb"):
        row = {r["estudiante"]: r for r in _csv(run.csv)}[Path(name).stem]
        assert row["puntos_automaticos"] == ("" if score is None else f"{score:g}"), (name, row)
        assert (row["estado"], row["maximo_automatico"], row["revisar"]) == (status, f"{TOP:g}", "")


@pytest.mark.slow
def test_unreadable_files_are_never_a_silent_zero(graded_corpora):
    run = graded_corpora.run
    book = {g.student for g in read_grades(LAB, run.workdir)}
    assert {"corrupto", "vacio", "otro_lab"}.isdisjoint(book)
    assert {r["estudiante"] for r in _csv(run.csv)} >= {"corrupto", "vacio", "otro_lab"}
    feedback = (run.workdir / "feedback" / "sin_prueba" / LAB / f"{LAB}.html").read_text()
    assert "Retroalimentación" in feedback and "restaurada desde el enunciado" in feedback


@pytest.mark.slow
@pytest.mark.changes_environment  # nbgrader leaves NBGRADER_EXECUTION set when a step raises
def test_formgraders_autograde_button_refuses_in_a_grading_folder(graded_corpora, tmp_path):
    """Only `course grade` autogrades (sealed, judged outside the kernel): run with the folder's own
    configuration, as formgrader's «Autograde» button does, nbgrader stops before any cell runs."""
    from nbgrader.converters import Autograde

    from helpers.instructor.execute import AUTOGRADE_REFUSED

    folder = tmp_path / LAB
    shutil.copytree(graded_corpora.run.workdir, folder, ignore=shutil.ignore_patterns("_trabajo", "_plantilla"))
    before = lab_notebook("autograded/perfecto", LAB, folder).read_bytes()
    result = nbgrader_io.run_nbgrader(Autograde, folder, LAB, student="perfecto")
    assert not result["success"] and AUTOGRADE_REFUSED in result["log"] + result.get("error", "")
    graded = lab_notebook("autograded/perfecto", LAB, folder)
    assert not graded.exists() or graded.read_bytes() == before  # nothing executed


@pytest.mark.slow
def test_parallel_equals_serial(graded_corpora, tmp_path):
    few = tmp_path / "pocas"
    few.mkdir()
    students = {"perfecto", "nucleo_caido", "sin_prueba"}
    for name in students:
        shutil.copy2(graded_corpora.submissions / f"{name}.ipynb", few / f"{name}.ipynb")
    serial = grading.grade_class(LAB, few, tmp_path / "serie", jobs=1, cell_timeout=45, log=lambda *_: None)
    run = graded_corpora.run
    assert gradebook_dump(LAB, serial.workdir) == [
        row for row in gradebook_dump(LAB, run.workdir) if row[0] in students]
    assert _csv(serial.csv) == [r for r in _csv(run.csv) if r["estudiante"] in students]


@pytest.mark.slow
def test_same_folder_again_changes_nothing_and_a_resubmission_only_its_student(graded_corpora, tmp_path):
    workdir, submissions = tmp_path / "curso", tmp_path / "entregas"
    shutil.copytree(graded_corpora.run.workdir, workdir)
    shutil.copytree(graded_corpora.submissions, submissions)
    options = dict(jobs=2, cell_timeout=45, log=lambda *_: None)
    before = gradebook_dump(LAB, workdir)
    again = grading.grade_class(LAB, submissions, workdir, **options)
    assert again.graded_now == 0
    assert gradebook_dump(LAB, workdir) == before
    unchanged = lambda rows: [{k: v for k, v in r.items() if k != "estado"} for r in rows]  # noqa: E731
    assert unchanged(_csv(again.csv)) == unchanged(_csv(graded_corpora.run.csv))
    assert {r["estado"] for r in _csv(again.csv) if r["puntos_automaticos"]} == {Status.UNCHANGED}

    # the instructor grades desordenado's two written answers in formgrader...
    from nbgrader.api import Gradebook

    written = [c.metadata["nbgrader"]["grade_id"] for c in nbgrader_io.read_notebook(lab_notebook("release", LAB)).cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    assert len(written) == 2
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", "dl-curso") as gb:
        for gid, points in zip(written, (2, 3)):
            grade = gb.find_grade(gid, LAB, LAB, "desordenado")
            grade.manual_score, grade.needs_manual_grade = points, False  # as formgrader saves a score
            gb.find_comment(gid, LAB, LAB, "desordenado").manual_comment = f"comentario de {gid}"
        gb.db.commit()
    assert {r["estudiante"]: r for r in _csv(grading.grade_class(LAB, submissions, workdir, **options).csv)}[
        "desordenado"]["puntos_respuestas_escritas"] == "5"
    before = gradebook_dump(LAB, workdir)
    # ...then desordenado resubmits with the second answer changed, and perfecto resubmits blank
    nb = nbgrader_io.read_notebook(submissions / "desordenado.ipynb")
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == written[1]).source += " Y algo más."
    nbgrader_io.write_notebook(nb, submissions / "desordenado.ipynb")
    nbgrader_io.write_notebook(build.student_version(LAB, set()), submissions / "perfecto.ipynb")  # now blank
    (submissions / "duplicadas.ipynb").unlink()
    resub = grading.grade_class(LAB, submissions, workdir, **options)
    assert resub.graded_now == 2
    after = gradebook_dump(LAB, workdir)
    changed = {"perfecto", "desordenado"}
    assert [r for r in after if r[0] not in changed] == [r for r in before if r[0] not in changed]
    rows = {r["estudiante"]: r for r in _csv(resub.csv)}
    assert rows["perfecto"]["puntos_automaticos"] == "0"
    assert rows["duplicadas"]["puntos_automaticos"] == f"{TOP:g}"
    assert rows["desordenado"]["puntos_respuestas_escritas"] == "2"  # the unchanged answer keeps its score
    assert rows["desordenado"]["respuestas_escritas_pendientes"] == "1"  # the changed one waits again
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", "dl-curso") as gb:
        assert gb.find_comment(written[0], LAB, LAB, "desordenado").manual_comment == f"comentario de {written[0]}"
        assert gb.find_grade(written[1], LAB, LAB, "desordenado").manual_score is None
        assert not gb.find_comment(written[1], LAB, LAB, "desordenado").manual_comment
    notes = " ".join(map(str, {f.name: f for f in resub.files}["desordenado.ipynb"].notes))
    assert f"«{written[1]}» cambió" in notes and f"«{written[0]}»" in notes.split("se conservan tus notas")[1]
    assert {f.name: f.status for f in resub.files}["sin_prueba.ipynb"] == Status.UNCHANGED


@pytest.mark.slow
def test_an_interrupted_run_keeps_what_it_graded(tmp_path, monkeypatch):
    """Students are merged as they finish: a run stopped half-way resumes with only the rest."""
    submissions = tmp_path / "entregas"
    for name in ("ana", "luis"):
        nbgrader_io.write_notebook(build.student_version(LAB, set()), submissions / f"{name}.ipynb")
    real = grading.autograde_isolated

    def stop_at_luis(lab, student, *args):
        if student == "luis":
            raise KeyboardInterrupt  # the instructor's Ctrl-C, or a killed process, while luis is graded
        return real(lab, student, *args)

    monkeypatch.setattr(grading, "autograde_isolated", stop_at_luis)
    with pytest.raises(KeyboardInterrupt):
        grading.grade_class(LAB, submissions, tmp_path / "curso", jobs=1, log=lambda *_: None)
    monkeypatch.setattr(grading, "autograde_isolated", real)
    assert {g.student for g in read_grades(LAB, tmp_path / "curso")} == {"ana"}
    resumed = grading.grade_class(LAB, submissions, tmp_path / "curso", jobs=1, log=lambda *_: None)
    assert resumed.graded_now == 1
    assert {f.name: f.status for f in resumed.files} == {"ana.ipynb": Status.UNCHANGED, "luis.ipynb": Status.GRADED}


def test_feedback_shows_test_messages_never_hidden_source():
    release = nbgrader_io.read_notebook(lab_notebook("release", LAB))
    executed = copy.deepcopy(nbgrader_io.read_notebook(lab_notebook("source", LAB)))  # hidden tests in place
    secret = hidden_lines(LAB)
    assert secret
    leaked = sorted(secret)[0]
    test = next(c for c in executed.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_conv_layer")
    test.outputs = [nbformat.v4.new_output("error", ename="AssertionError", evalue="conv sobre otra entrada: no",
                                           traceback=[f"----> 5 {leaked}", "AssertionError: conv sobre otra entrada"])]
    student = next(c for c in executed.cells if c.cell_type == "code" and not c.metadata.get("nbgrader"))
    student.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"robado:\n{leaked}\nfin\n")]
    shown = feedback_notebook(executed, release, secret)
    text = nbformat.writes(shown)
    assert leaked not in text and "### BEGIN HIDDEN TESTS" not in text
    shown_test = next(c for c in shown.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_conv_layer")
    assert shown_test.outputs[0].traceback == ["AssertionError: conv sobre otra entrada: no"]
    assert "robado:" in text and "fin" in text  # the student's own output stays, the stolen line goes


def _hidden_text_in(text: str, secret: set[str]) -> list[str]:
    """Hidden lines found in ``text``: as they are, HTML-escaped, reversed, or in base64 or hex (each run
    decoded, lines joined), independent of ``feedback.reveals``."""
    import base64
    import binascii
    import html
    import re

    readings = [text, html.unescape(text)]
    for source in list(readings):
        compact = re.sub(r"\s+|\\n|&#10;", "", source)
        for run in re.findall(r"[A-Za-z0-9+/=_-]{16,}", compact):
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                try:
                    readings.append(decode(run + "=" * (-len(run) % 4)).decode("utf-8", "replace"))
                except (ValueError, binascii.Error):
                    pass
        readings += [bytes.fromhex(run).decode("utf-8", "replace") for run in re.findall(r"(?:[0-9a-f]{2}){8,}", compact)]
    readings += [r[::-1] for r in readings]
    return sorted({line for line in secret for r in readings if line in r or html.escape(line) in r})


def _history_thief(release, secret):
    """The lab as executed for a student whose cell after the tests printed the kernel's history (here:
    the hidden tests, as a kernel without store_history=False would have held them) base64-encoded, as
    HTML, reversed, as an image; one test's message carries them too. Before the first test, a cell of
    theirs printed something of its own."""
    source = nbgrader_io.read_notebook(lab_notebook("source", LAB))
    history = "\n".join(c.source for c in source.cells if c.cell_type == "code")
    encoded = base64.b64encode(history.encode()).decode()
    executed = copy.deepcopy(source)
    tests = [i for i, c in enumerate(executed.cells) if c.metadata.get("nbgrader", {}).get("grade")
             and c.cell_type == "code"]
    before = next(c for c in executed.cells[:tests[0]] if c.cell_type == "code" and not c.metadata.get("nbgrader"))
    before.outputs = [nbformat.v4.new_output("stream", name="stdout", text="mi salida antes de las pruebas\n")]
    thief = nbformat.v4.new_code_cell("print(base64.b64encode('\\n'.join(In).encode()))")
    thief.outputs = [
        nbformat.v4.new_output("stream", name="stdout", text=encoded + "\n" + history[::-1]),
        nbformat.v4.new_output("display_data", data={"text/html": f"<pre>{history}</pre>", "text/plain": history}),
        nbformat.v4.new_output("display_data", data={"image/png": encoded, "text/plain": "<Figure>"}),
        nbformat.v4.new_output("execute_result", data={"text/plain": repr(history.encode().hex())}, execution_count=9)]
    executed.cells.insert(tests[-1] + 1, thief)
    executed.cells[tests[1]].outputs = [nbformat.v4.new_output(
        "error", ename="ValueError", evalue=f"no cabe: {encoded}", traceback=[f"ValueError: no cabe: {encoded}"])]
    executed.cells[tests[2]].outputs = [nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="conv sobre otra entrada: se esperaba 3", traceback=[])]
    return executed


def test_feedback_shows_no_output_after_the_first_test_and_no_hidden_test_in_any_encoding(release, tmp_path):
    secret = hidden_lines(LAB)
    executed = _history_thief(release, secret)
    assert _hidden_text_in(nbformat.writes(executed), secret)  # the checker does find them when they are there
    path = tmp_path / f"{LAB}.ipynb"
    nbformat.write(executed, path)
    page = write_feedback(LAB, "ana", path, {}, [], tmp_path / "feedback.html", secret)
    html = page.read_text()
    assert _hidden_text_in(html, secret) == []
    assert "mi salida antes de las pruebas" in html  # outputs from before the first test are shown
    assert "después de la primera prueba no se muestran" in html and html.count("no se muestran (solo su") == 1
    assert "b64encode" in html  # the thief's code stays, its outputs do not
    assert "conv sobre otra entrada: se esperaba 3" in html  # an honest verdict is shown
    assert "ValueError: [mensaje no mostrado" in html


def test_feedback_test_cells_show_released_source_and_verdict_only(release):
    executed = _history_thief(release, hidden_lines(LAB))
    shown = feedback_notebook(executed, release, hidden_lines(LAB))
    released = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells if c.metadata.get("nbgrader")}
    first = next(i for i, c in enumerate(shown.cells) if c.metadata.get("nbgrader", {}).get("grade")
                 and c.cell_type == "code")
    for cell in shown.cells[first:]:
        meta = cell.metadata.get("nbgrader", {})
        if cell.cell_type != "code":
            continue
        if meta.get("grade") and not meta.get("solution"):
            assert cell.source == released[meta["grade_id"]]
            assert all(o.output_type == "error" and o.traceback == [f"{o.ename}: {o.evalue}"] for o in cell.outputs)
        else:
            assert cell.outputs == [], cell.source


def test_feedback_names_tests_as_the_notebook_titles_them(release):
    titles = exercises.titles(release)
    assert titles["test_maxpool_layer"] == "Ejercicio 1.1" and titles["test_count_params"] == "Ejercicio 4.1"
    assert (titles["test_alexnet_shape"], titles["test_alexnet_same_logits"]) == (
        "Ejercicio 5.1 (prueba 1)", "Ejercicio 5.1 (prueba 2)")


@pytest.mark.slow
def test_a_history_thief_graded_for_real_leaves_no_hidden_test_and_no_script(tmp_path):
    """End to end, sealed: a cell after the last test prints In, _ih and the history manager
    base64-encoded, reversed and as HTML with a script; neither the feedback nor formgrader's autograded
    notebook holds a hidden line or the script."""
    nb = build.student_version(LAB, set())
    tests = [i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type == "code"]
    nb.cells.insert(tests[-1] + 1, nbformat.v4.new_code_cell(
        "import base64\nfrom IPython.display import HTML, display\nip = get_ipython()\n"
        "stolen = '\\n'.join(ip.user_ns['In'] + ip.user_ns['_ih'] + "
        "[s for _, _, s in ip.history_manager.get_range(output=False)])\n"
        "print(base64.b64encode(stolen.encode()).decode())\nprint(stolen[::-1])\n"
        "display(HTML('<pre>' + stolen + '</pre><script>document.title = \"robado\"</script>'))"))
    nbgrader_io.write_notebook(nb, tmp_path / "entregas" / "ladron.ipynb")
    run = grading.grade_class(LAB, tmp_path / "entregas", tmp_path / "curso", jobs=1, log=lambda *_: None)
    assert run.graded_now == 1
    secret = hidden_lines(LAB)
    feedback = (run.workdir / "feedback" / "ladron" / LAB / f"{LAB}.html").read_text()
    autograded = (run.workdir / "autograded" / "ladron" / LAB / f"{LAB}.ipynb").read_text()
    assert _hidden_text_in(feedback, secret) == []
    assert "b64encode" in feedback and "<script>document.title" not in feedback
    thief = next(c for c in nbformat.reads(autograded, as_version=4).cells if "history_manager" in c.source)
    assert [o.output_type for o in thief.outputs] == ["stream", "display_data"]  # it ran and printed
    assert _hidden_text_in(thief.outputs[0].text, secret) == []  # the kernel's history never held the tests
    assert "text/html" not in autograded  # formgrader sees it inert
    assert "<script>document.title" in (run.workdir / "submitted" / "ladron" / LAB / f"{LAB}.ipynb").read_text()


def test_feedback_shows_an_unfinished_answers_error_without_its_traceback(release, tmp_path):
    executed = copy.deepcopy(release)
    answer = next(c for c in executed.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution"))
    answer.outputs = [nbformat.v4.new_output(
        "error", ename="NotImplementedError", evalue="Ejercicio 1.1 sin completar",
        traceback=["\x1b[31mTraceback (most recent call last)\x1b[0m", "Cell In[5], line 2", "----> 2 raise ...",
                   "NotImplementedError: Ejercicio 1.1 sin completar"])]
    path = tmp_path / f"{LAB}.ipynb"
    nbformat.write(executed, path)
    html = write_feedback(LAB, "ana", path, {}, [], tmp_path / "feedback.html", set()).read_text()
    assert "NotImplementedError: Ejercicio 1.1 sin completar" in html
    assert "most recent call last" not in html and "Cell In[5]" not in html

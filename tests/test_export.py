"""course export: final grades in the columns Moodle's and Canvas's importers read, feedback zipped as
Moodle's feedback-files import expects, feedback pages with the instructor's scores (synthetic gradebook)."""
import csv
import dataclasses
import json
import math
import shutil
import zipfile
from pathlib import Path
from datetime import datetime, timedelta, timezone

import pytest
from nbgrader.plugins import LateSubmissionPlugin

from helpers.course import COURSE_ID, lab_notebook
from helpers.instructor import cli, export, nbgrader_io
from helpers.instructor.gradebook import empty_gradebook
from helpers.instructor.collect import Identity
from helpers.instructor.vocabulary import Audience, Note
from fixture_scope import shared
from synthetic_gradebook import add_graded, register_lab

LAB = "lab1_convolutions"
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")
DUE = datetime(2026, 11, 20, 23, 59)
#: student id -> (identity, hours after the due date, manual scores of the written answers or None if pending)
CLASS = {
    "ana_garcia_1234567": (Identity("ana_garcia_1234567", "moodle", "Ana García", "1234567"), -2, (2, 3)),
    "ana_garcia_7654321": (Identity("ana_garcia_7654321", "moodle", "Ana García", "7654321"), -1, None),
    "garciaana_12345": (Identity("garciaana_12345", "canvas", "garcíaana", "12345"), 30, (1, 1)),
    "anon_4242": (Identity("anon_4242", "canvas", "anon", "4242"), -1, (0, 0)),
    "luis": (Identity("luis", "nombre", "luis"), -1, (1, 0)),
}


def _cells(nb):
    return [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")
            or c.metadata.get("nbgrader", {}).get("solution")]


@pytest.fixture(scope=shared)
def graded(tmp_path_factory):
    """A work folder as course grade and formgrader leave it: every code test passed, written answers as in CLASS."""
    from nbgrader.api import Gradebook

    workdir = tmp_path_factory.mktemp("export") / LAB
    workdir.mkdir()
    (workdir / "nbgrader_config.py").write_text('c = get_config()\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    state = {}
    shutil.copy2(empty_gradebook(), workdir / "gradebook.db")
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        register_lab(gb, LAB, DUE)
        for sid, (who, hours, written) in CLASS.items():
            add_graded(gb, LAB, sid, DUE + timedelta(hours=hours), written, lambda gid: f"Bien argumentado ({gid})")
            notes = [Note("se conservan tus notas y comentarios a mano de «x»", Audience.INSTRUCTOR),
                     Note(f"celda de {sid}: superó el tiempo máximo")]
            state[sid] = {"identidad": who.record(), "notas": [n.record() for n in notes]}
            if who.platform == "moodle" or hours > 0:  # the pages the tests read (each takes seconds to write)
                executed = lab_notebook(f"autograded/{sid}", LAB, workdir)
                executed.parent.mkdir(parents=True)
                shutil.copy(lab_notebook("release", LAB), executed)
        gb.db.commit()
    (workdir / "estado.json").write_text(json.dumps(state, ensure_ascii=False))
    return workdir


@pytest.fixture(scope=shared)
def exported(graded):
    """One export of the class (the feedback pages take a while to write)."""
    return export.export(LAB, graded, export.ExportOptions(out_of=_points("code") + _points("written"),
                                                           canvas_assignment="Laboratorio 1 (98765)",
                                                           penalty=export.Penalty.COURSE))


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def _points(kind):
    nb = nbgrader_io.read_notebook(lab_notebook("release", LAB))
    return sum(c.metadata["nbgrader"]["points"] for c in _cells(nb)
               if c.metadata["nbgrader"].get("grade") and (c.cell_type == "code") == (kind == "code"))


def test_moodle_worksheet_has_the_columns_its_importer_requires(graded, exported):
    result = exported
    rows = _rows(result.folder / f"moodle_{LAB}.csv")
    # assignfeedback_offline_grade_importer::init() refuses a file without these three titles (Spanish pack)
    assert {"Identificador", "Calificación", "Última modificación (calificación)"} <= set(rows[0])
    by_id = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    # byte for byte as Moodle's Spanish pack writes it (get_string('hiddenuser', 'assign') = 'Participante')
    # and without the homonym whose written answers are pending: a blank grade or comment would erase Moodle's
    assert set(by_id) == {"Participante1234567"}
    assert by_id["Participante1234567"]["Calificación"] == f"{_points('code') + 5:g}"
    code, top = _points("code"), _points("code") + _points("written")
    assert by_id["Participante1234567"]["Calificación máxima"] == f"{top:g}"
    assert by_id["Participante1234567"]["Comentarios de retroalimentación"] == (
        f"Automática: {code:g}; respuestas escritas: 5. Total: {code + 5:g} de {top:g} puntos. Detalle en el "
        "archivo de retroalimentación.")
    modified = datetime.fromisoformat(by_id["Participante1234567"]["Última modificación (calificación)"])
    assert modified.utcoffset() is not None and abs(datetime.now(modified.tzinfo) - modified) < timedelta(hours=1)
    assert "ana_garcia_7654321" in result.summary() and "sin nota" in result.summary()
    with zipfile.ZipFile(result.folder / f"retroalimentacion_moodle_{LAB}.zip") as zf:
        assert not [n for n in zf.namelist() if "7654321" in n]  # nor a feedback page

    moodle = [g for g in export.final_grades(LAB, graded) if g.identity.platform == "moodle"]
    rows = _rows(export.write_moodle_csv(moodle, graded / "en.csv", 10, export.MoodleLanguage.EN))
    assert rows[0][:6] == ["Identifier", "Full name", "Grade", "Maximum Grade", "Last modified (grade)",
                           "Feedback comments"]
    first = dict(zip(rows[0], rows[1]))
    assert first["Identifier"] == "Participant 1234567" and first["Maximum Grade"] == "10"
    total = _points("code") + _points("written")
    assert first["Grade"] == f"{round((_points('code') + 5) * 10 / total, 2):g}"


def test_canvas_file_is_keyed_by_user_id_with_the_late_penalty(exported):
    result = exported
    rows = _rows(result.folder / f"canvas_{LAB}.csv")
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Laboratorio 1 (98765)"]
    assert rows[1:] == [["garcíaana", "12345", "", "", "", "0"]]  # 30 h late with penalty_method "zero"; the
    # anonymous one has no user id
    assert "anon_4242" in result.summary() and "anónima" in result.summary()
    assert "garciaana_12345, 30.0 h" in result.summary()
    rows = _rows(result.folder / f"notas_finales_{LAB}.csv")
    final = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    assert final["garciaana_12345"]["penalizacion_retraso"] == f"{_points('code') + 2:g}"
    assert final["garciaana_12345"]["nota_final"] == "0" and final["garciaana_12345"]["penaliza"] == "curso"
    assert final["luis"]["nota_final"] == f"{_points('code') + 1:g}"


def test_final_grades_file_has_every_student_and_each_part_of_the_grade(graded, exported):
    code, top = _points("code"), _points("code") + _points("written")
    expected = []
    for sid, (who, hours, written) in sorted(CLASS.items()):
        points = sum(written or ())
        late = max(hours, 0)
        penalty = code + points if late else 0  # penalty_method "zero": a late grade is 0
        final = "" if written is None else f"{code + points - penalty:g}"
        expected.append([sid, who.name, who.platform, who.participant, f"{code:g}", f"{points:g}",
                         "0" if written is not None else "2", f"{top:g}",
                         (DUE + timedelta(hours=hours)).replace(tzinfo=timezone.utc).isoformat(),
                         "fecha de la entrega en nbgrader", DUE.replace(tzinfo=timezone.utc).isoformat(),
                         f"{late:.2f}", "", "curso", f"{penalty:g}", final, final])
    rows = _rows(exported.folder / f"notas_finales_{LAB}.csv")
    assert rows[0] == export.FINAL_COLUMNS and rows[1:] == expected
    on_ten = _rows(export.write_final_csv(exported.grades, graded / "sobre_diez.csv", 10))
    assert [r[-1] for r in on_ten[1:]] == [r[-1] and f"{round(float(r[-1]) * 10 / top, 2):g}" for r in expected]
    assert [r[:-1] for r in on_ten[1:]] == [r[:-1] for r in expected]


def test_the_comment_beside_a_grade_adds_up_its_parts():
    late = export.FinalGrade("x", None, auto=20, written=3, pending=0, max_score=27, late_penalty=5,
                             seconds_late=7200, submitted=None)
    assert export._comment(late) == ("Automática: 20; respuestas escritas: 3; penalización por retraso: −5. "
                                     "Total: 18 de 27 puntos. Detalle en el archivo de retroalimentación.")
    assert export._comment(dataclasses.replace(late, pending=1)) == ""


class LateByTheHour(LateSubmissionPlugin):
    """An instructor's own policy: one point off per hour late, or part of one."""

    def late_submission_penalty(self, student_id, score, total_seconds_late):
        return math.ceil(total_seconds_late / 3600)


def test_a_late_penalty_plugin_named_in_the_course_config_is_used(graded, tmp_path):
    from nbgrader.api import Gradebook

    workdir = tmp_path / LAB
    shutil.copytree(graded, workdir, ignore=shutil.ignore_patterns("autograded", "feedback", "exportar"))
    (workdir / "nbgrader_config.py").write_text(
        f'c = get_config()\nc.AssignLatePenalties.plugin_class = "{__name__}.LateByTheHour"\n')
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        gb.find_submission(LAB, "luis").timestamp = DUE + timedelta(seconds=1)
        gb.db.commit()
    course = export.ExportOptions(penalty=export.Penalty.COURSE)
    penalties = {g.student: g.late_penalty for g in export.final_grades(LAB, workdir, course)}
    assert penalties == {"ana_garcia_1234567": 0, "ana_garcia_7654321": 0, "anon_4242": 0,
                         "luis": 1,  # one second late
                         "garciaana_12345": _points("code") + 2}  # 30 h late: 30 points, but never below 0


def test_export_again_on_a_scale_of_one_and_without_platform_identities(graded, tmp_path):
    from nbgrader.api import Gradebook

    workdir = tmp_path / LAB
    shutil.copytree(graded, workdir, ignore=shutil.ignore_patterns("autograded", "feedback"))
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        gb.find_submission(LAB, "garciaana_12345").timestamp = DUE  # on time after all: a grade above 0
        gb.db.commit()
    (workdir / "exportar").mkdir(exist_ok=True)  # an earlier export
    code, top = _points("code"), _points("code") + _points("written")
    on_one = lambda points: f"{round(points / top, 2):g}"  # noqa: E731
    result = export.export(LAB, workdir, export.ExportOptions(out_of=1, canvas_assignment="Lab 1 (4)"))
    assert result.folder == workdir / "exportar"
    moodle = {r[0]: r for r in _rows(result.folder / f"moodle_{LAB}.csv")}
    assert moodle["Participante1234567"][2:4] == [on_one(code + 5), "1"]
    assert _rows(result.folder / f"canvas_{LAB}.csv")[1][5] == on_one(code + 2)
    assert f"ponle la nota a mano ({on_one(code)})" in result.summary()
    final = {r[0]: r[-1] for r in _rows(result.folder / f"notas_finales_{LAB}.csv")}
    assert final == {"estudiante": "nota_exportada", "ana_garcia_1234567": on_one(code + 5), "ana_garcia_7654321": "",
                     "anon_4242": on_one(code), "garciaana_12345": on_one(code + 2), "luis": on_one(code + 1)}

    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        for g in gb.find_submission(LAB, "anon_4242").notebooks[0].grades:
            if g.cell.cell_type == "markdown":
                g.manual_score, g.needs_manual_grade = None, True  # the anonymous answers not graded yet
        gb.db.commit()
    summary = export.export(LAB, workdir, export.ExportOptions(out_of=10, canvas_assignment="Lab 1 (4)")).summary()
    assert "anon_4242" in summary.split("sin nota")[1].splitlines()[0]  # pending: named, never sent blank
    assert "ponle la nota a mano" not in summary

    with pytest.raises(ValueError, match="hace falta --out-of"):  # a platform file needs the platform's maximum
        export.export(LAB, workdir)
    no_id = export.export(LAB, workdir, export.ExportOptions(out_of=10, canvas_assignment="Lab 1"))  # Canvas would make a new column
    assert not (no_id.folder / f"canvas_{LAB}.csv").exists()  # not even the previous export's
    assert any("no da el id de la tarea" in line for line in no_id.left_out)

    (workdir / "estado.json").unlink()  # a folder graded with plain nbgrader: nobody's platform is known
    again = export.export(LAB, workdir)
    assert again.files == [workdir / "exportar" / f"notas_finales_{LAB}.csv"]
    rows = _rows(again.files[0])
    assert [r[:4] for r in rows[1:]] == [[sid, "", "", ""] for sid in sorted(CLASS)]
    assert again.left_out == [
        f"sin plataforma con importación de notas (carpeta propia, Classroom, patrón propio): {', '.join(sorted(CLASS))}; "
        f"sus notas están en notas_finales_{LAB}.csv"]


def test_export_summary_names_every_file_and_everyone_left_out(exported):
    code = _points("code")
    folder = exported.folder
    assert exported.summary().splitlines() == [
        f"{LAB}: 5 estudiantes en el libro de notas.",
        *(f"  escrito: {folder / name}" for name in (f"notas_finales_{LAB}.csv", f"moodle_{LAB}.csv",
                                                     f"retroalimentacion_moodle_{LAB}.zip", f"canvas_{LAB}.csv")),
        "  sin nota (respuestas escritas sin calificar en formgrader), fuera de los archivos de la plataforma para "
        "no borrar lo que haya allí: ana_garcia_7654321",
        f"  entrega tardía: garciaana_12345, 30.0 h después de la fecha límite (penalización {code + 2:g})",
        "  ! Moodle: sin --moodle-worksheet no se distingue una entrega en grupo (su carpeta lleva el id del grupo, "
        "que puede coincidir con el de otro participante); si la tarea es en grupo, exporta con la hoja de "
        "calificaciones de Moodle.",
        f"  ! anon_4242: entrega anónima de Canvas, sin id de usuario; ponle la nota a mano ({code:g})",
        "  ! sin plataforma con importación de notas (carpeta propia, Classroom, patrón propio): luis; sus notas "
        f"están en notas_finales_{LAB}.csv"]


def _grade(student, **changes):
    return dataclasses.replace(export.FinalGrade(student, None, 6, 2, 0, 10, 0, 0, None), **changes)


def test_the_summary_names_every_pending_and_late_student_with_hours_rounded():
    result = export.ExportResult(LAB, Path("exportar"), [
        _grade("ana", pending=1), _grade("bea", pending=2), _grade("carla", seconds_late=1),
        _grade("dani", seconds_late=180, late_penalty=8), _grade("eva")])
    assert result.summary().splitlines()[1:] == [
        "  sin nota (respuestas escritas sin calificar en formgrader), fuera de los archivos de la plataforma para "
        "no borrar lo que haya allí: ana, bea",
        "  entrega tardía: carla, 0.0 h después de la fecha límite (penalización 0)",  # a second late is late
        "  entrega tardía: dani, 0.1 h después de la fecha límite (penalización 8)"]  # 3 minutes


def test_a_class_of_one_exports_on_its_own_maximum(tmp_path):
    one = _grade("ana", identity=Identity("ana_1", "moodle", "Ana", "1"))
    rows = _rows(export.write_moodle_csv([one], tmp_path / "m.csv", None, export.MoodleLanguage.ES))
    assert rows[1][:4] == ["Participante1", "Ana", "8", "10"]


def _moodle_import_target(path: str):
    """(participant id, plugin, file name) as Moodle's importziplib is_valid_filename_for_import reads a path
    (Moodle's file path starts with "/")."""
    parts = ("/" + path).split("/")
    while parts:
        info = parts.pop(0).split("_", 4)
        if len(info) < 4 or not info[1].isdigit():
            continue
        parts.insert(0, info[4] if len(info) == 5 else "")
        return int(info[1]), f"{info[2]}_{info[3]}", "/".join(parts)
    return None


def test_feedback_zip_follows_moodles_import_and_pages_show_manual_grades(graded, exported):
    result = exported
    with zipfile.ZipFile(result.folder / f"retroalimentacion_moodle_{LAB}.zip") as zf:
        names = zf.namelist()
        page = zf.read(next(n for n in names if "1234567" in n)).decode()
    assert sorted(_moodle_import_target(n) for n in names) == [  # 7654321 is pending: no page yet
        (1234567, "assignsubmission_file", f"/retroalimentacion_{LAB}.html")]
    assert names[0].startswith("Ana García_1234567_assignsubmission_file/")
    assert 'lang="es"' in page and "Bien argumentado" in page and "Nota final" in page
    assert "ana_garcia_1234567" in page and "celda de ana_garcia_1234567: superó el tiempo máximo" in page
    assert "pendientes de calificación" not in page and "se conservan tus notas" not in page
    late = (graded / "feedback" / "garciaana_12345" / LAB / f"{LAB}.html").read_text()
    assert "Penalización por entrega tardía" in late


def test_export_without_grading_or_with_a_bad_scale_says_what_to_do(tmp_path, capsys):
    assert cli.main(["export", LAB, "--workdir", str(tmp_path)]) == 1
    assert "califica antes" in capsys.readouterr().err
    (tmp_path / LAB).mkdir()
    (tmp_path / LAB / "gradebook.db").touch()
    assert cli.main(["export", LAB, "--workdir", str(tmp_path), "--out-of", "0"]) == 1
    assert "--out-of debe ser" in capsys.readouterr().err
    from nbgrader.api import Gradebook

    shutil.copy2(empty_gradebook(), tmp_path / LAB / "gradebook.db")
    with Gradebook(f"sqlite:///{tmp_path / LAB / 'gradebook.db'}", COURSE_ID) as gb:
        gb.add_assignment(LAB)  # generated, nobody graded yet
    assert cli.main(["export", LAB, "--workdir", str(tmp_path)]) == 1
    assert f"no tiene ninguna entrega de {LAB}" in capsys.readouterr().err  # no nbgrader_config.py: its defaults
    (tmp_path / LAB / "nbgrader_config.py").write_text("c = get_config(\n")
    assert cli.main(["export", LAB, "--workdir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "No se pudo leer la configuración de nbgrader" in err and "SyntaxError" in err and "Traceback" not in err


def test_feedback_is_rewritten_for_a_student_the_state_file_does_not_know(graded, tmp_path):
    workdir = tmp_path / LAB
    shutil.copytree(graded, workdir, ignore=shutil.ignore_patterns("feedback", "exportar"))
    state = json.loads((workdir / "estado.json").read_text())
    del state["ana_garcia_1234567"]  # graded by plain nbgrader, or before course grade kept a state file
    (workdir / "estado.json").write_text(json.dumps(state))
    ana = [g for g in export.final_grades(LAB, workdir) if g.student == "ana_garcia_1234567"]
    page = export.regenerate_feedback(LAB, workdir, ana)["ana_garcia_1234567"]
    assert "ana_garcia_1234567" in page.read_text() and "superó el tiempo máximo" not in page.read_text()


def test_a_grade_without_a_submission_date_leaves_its_date_empty(tmp_path):
    rows = _rows(export.write_final_csv([_grade("ana")], tmp_path / "f.csv", None))
    assert dict(zip(rows[0], rows[1]))["entregado"] == ""


def test_the_worksheet_date_is_the_same_instant_in_any_time_zone(tmp_path, monkeypatch):
    import time

    one = _grade("ana", identity=Identity("ana_1", "moodle", "Ana", "1"))
    seen = []
    for zone in ("America/Mexico_City", "Europe/Madrid"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()
        rows = _rows(export.write_moodle_csv([one], tmp_path / f"{zone[:6]}.csv", 10, export.MoodleLanguage.ES))
        seen.append(datetime.fromisoformat(rows[1][4]))
    monkeypatch.delenv("TZ")
    time.tzset()
    assert all(d.utcoffset() is not None for d in seen) and abs(seen[1] - seen[0]) < timedelta(minutes=1)

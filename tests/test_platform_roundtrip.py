"""course export --moodle-worksheet / --canvas-gradebook: the platform's own file written back, checked by an
oracle per platform that applies the file as the platform's importer does, to a platform that already holds
grades and comments. A class with a group submission, an anonymous Canvas student, a pending student, a late
student, an extension, and a grade above the maximum (synthetic gradebook: no notebook runs)."""
import csv
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from helpers.course import COURSE_ID, ROOT, lab_notebook
from helpers.instructor import build, cli, export, grading, nbgrader_io
from helpers.instructor.gradebook import empty_gradebook
from helpers.instructor.collect import Identity
from helpers.instructor.platform_files import moodle_date, read_canvas_gradebook, read_moodle_worksheet
from fixture_scope import shared
from synthetic_gradebook import add_graded, register_lab

LAB = "lab1_convolutions"
pytestmark = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")
MADRID = ZoneInfo("Europe/Madrid")
DUE = datetime(2026, 11, 20, 23, 59, tzinfo=MADRID)
NOW = datetime(2026, 12, 6, 10, 0, tzinfo=timezone.utc)
#: student id -> (identity, written answers' scores or None while pending, Canvas's LATE mark)
CLASS = {
    "grupo_a_42": (Identity("grupo_a_42", "moodle", "Grupo A", "42"), (2, 3), False),
    "carla_lopez_1234567": (Identity("carla_lopez_1234567", "moodle", "Carla López", "1234567"), (1, 1), False),
    "dani_perez_7654321": (Identity("dani_perez_7654321", "moodle", "Dani Pérez", "7654321"), None, False),
    "eva_gomez_2222": (Identity("eva_gomez_2222", "moodle", "Eva Gómez", "2222"), (0, 1), False),
    "garciaana_12345": (Identity("garciaana_12345", "canvas", "garcíaana", "12345"), (1, 0), True),
    "anon_x4Rt9": (Identity("anon_x4Rt9", "canvas", "anon", "x4Rt9"), (0, 0), False),
    "ruizluis_555": (Identity("ruizluis_555", "canvas", "ruizluis", "555"), None, False),
}

# Moodle's Spanish worksheet as mod/assign/gradingtable.php downloads it for a group assignment: dates by
# userdate() in the instructor's profile zone (Europe/Madrid), the extension inside the status cell.
WORKSHEET = [
    ["Identificador", "Nombre completo", "Dirección de correo", "Estado", "Grupo", "Calificación",
     "Calificación máxima", "La calificación puede ser cambiada", "Última modificación (entrega)",
     "Última modificación (calificación)", "Comentarios de retroalimentación"],
    ["Participante101", "Ana Ruiz", "ana@uni.es", "Enviado para calificar", "Grupo A", "", "10,00", "Sí",
     "viernes, 20 de noviembre de 2026, 18:05", "-", ""],
    ["Participante102", "Beto Díaz", "beto@uni.es", "Enviado para calificar", "Grupo A", "", "10,00", "Sí",
     "viernes, 20 de noviembre de 2026, 18:05", "-", ""],
    ["Participante1234567", "Carla López", "carla@uni.es", "Enviado para calificar", "", "", "10,00", "Sí",
     "sábado, 21 de noviembre de 2026, 01:59", "-", ""],
    ["Participante7654321", "Dani Pérez", "dani@uni.es", "Enviado para calificar Calificado", "", "7,00", "10,00",
     "Sí", "viernes, 20 de noviembre de 2026, 10:00", "lunes, 23 de noviembre de 2026, 09:30", "Revisado en clase"],
    ["Participante2222", "Eva Gómez", "eva@uni.es",
     "Enviado para calificar Plazo ampliado hasta: domingo, 22 de noviembre de 2026, 23:59", "", "", "10,00", "Sí",
     "domingo, 22 de noviembre de 2026, 20:00", "-", ""],
    ["Participante3333", "Fran Gil", "fran@uni.es", "Sin entrega", "", "", "10,00", "Sí", "-", "-", ""],
]
# Canvas's gradebook export (Grades → Export): student columns, then each assignment "Title (id)", then totals.
GRADEBOOK = [
    ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Laboratorio 1 (98765)", "Tarea 2 (98766)",
     "Current Score", "Final Score"],
    ["    Points Possible", "", "", "", "", "10.00", "5.00", "(read only)", "(read only)"],
    ["García, Ana", "12345", "", "ana@uni.edu", "Sección 1", "", "4.00", "80", "80"],
    ["Ruiz, Luis", "555", "", "luis@uni.edu", "Sección 1", "8.00", "5.00", "90", "90"],
    ["Otro, Juan", "777", "", "juan@uni.edu", "Sección 1", "6.00", "", "60", "60"],
]


def _write(path: Path, rows, bom=False) -> Path:
    with open(path, "w", newline="", encoding="utf-8-sig" if bom else "utf-8") as f:
        csv.writer(f).writerows(rows)
    return path


def _rows(path):
    with open(path, newline="", encoding="utf-8-sig") as f:
        return list(csv.reader(f))


def _points(kind):
    nb = nbgrader_io.read_notebook(lab_notebook("release", LAB))
    return sum(c.metadata["nbgrader"]["points"] for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("grade") and (c.cell_type == "code") == (kind == "code"))


def _expected(sid, penalty=0.0, out_of=10):
    code, top = _points("code"), _points("code") + _points("written")
    return round(max(code + sum(CLASS[sid][1]) - penalty, 0) * out_of / top, 2)


@pytest.fixture(scope=shared)
def graded(tmp_path_factory):
    """A work folder as course grade and formgrader leave it, from a Moodle zip and a Canvas zip: no
    submission times (the zips' dates are the download's), Canvas's LATE mark kept."""
    from nbgrader.api import Gradebook

    workdir = tmp_path_factory.mktemp("roundtrip") / LAB
    workdir.mkdir()
    (workdir / "nbgrader_config.py").write_text('c = get_config()\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    shutil.copy2(empty_gradebook(), workdir / "gradebook.db")
    state = {}
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        register_lab(gb, LAB, DUE.astimezone(timezone.utc).replace(tzinfo=None))
        for sid, (who, written, late) in CLASS.items():
            add_graded(gb, LAB, sid, None, written)
            state[sid] = {"identidad": who.record(), "notas": [], "recibido": None, "fecha_de": None,
                          "tarde_en_plataforma": late}
        gb.db.commit()
    for sid in ("grupo_a_42", "dani_perez_7654321"):  # the feedback pages the tests read
        executed = lab_notebook(f"autograded/{sid}", LAB, workdir)
        executed.parent.mkdir(parents=True)
        shutil.copy(lab_notebook("release", LAB), executed)
    (workdir / "estado.json").write_text(json.dumps(state, ensure_ascii=False))
    _write(workdir.parent / "hoja_moodle.csv", WORKSHEET, bom=True)
    _write(workdir.parent / "libro_canvas.csv", GRADEBOOK)
    return workdir


def _options(workdir, **changes):
    return dataclasses.replace(export.ExportOptions(
        moodle_worksheet=workdir.parent / "hoja_moodle.csv", canvas_gradebook=workdir.parent / "libro_canvas.csv",
        canvas_assignment="Laboratorio 1 (98765)", time_zone="Europe/Madrid", now=NOW), **changes)


@pytest.fixture(scope=shared)
def exported(graded):
    return export.export(LAB, graded, _options(graded))


# --------------------------------------------------------------------------- the oracles

@dataclass
class MoodleGrade:
    grade: float | None
    modified: datetime | None  # when the grade was last changed in Moodle
    comment: str


def _strtotime(text: str) -> datetime | None:
    """PHP's strtotime for what it reads here: ISO 8601 with an offset; a Spanish userdate() is false."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def moodle_import(held: dict[str, MoodleGrade], path: Path, maximum: float, now: datetime) -> dict:
    """Apply an uploaded worksheet as Moodle does, returning what it did to each participant.

    Moodle ``mod/assign/feedback/offline/importgradeslib.php`` @452e36fc: columns found by their title in the
    worksheet's language; the participant id is what follows ``get_string('hiddenuser', 'assign')``; an id that is
    not a participant of the assignment is skipped. ``mod/assign/feedback/offline/locallib.php`` @04975560,
    ``process_import_grades``: a row whose "Last modified (grade)" (read by ``strtotime``, false → 0) is more than
    60 s older than the grade Moodle holds is skipped, grade and comment; a blank or negative grade, a grade above
    the maximum or the same grade is not imported; the comment is imported when it differs from Moodle's (a blank
    one erases it)."""
    rows = _rows(path)
    head = rows[0]
    col = {title: head.index(title) for title in head}
    done = {}
    for row in rows[1:]:
        ident = row[col["Identificador"]]
        assert ident.startswith("Participante"), ident
        pid = ident[len("Participante"):]
        if pid not in held:
            done[pid] = "desconocido"
            continue
        have = held[pid]
        stamp = _strtotime(row[col["Última modificación (calificación)"]])
        if have.modified and have.modified > (stamp or datetime.fromtimestamp(0, timezone.utc)) + timedelta(seconds=60):
            done[pid] = "omitida por fecha"
            continue
        text = row[col["Calificación"]].strip().replace(",", ".")
        grade = float(text) if text else None
        if grade is None or grade < 0 or grade > maximum:
            done[pid] = "nota omitida"
        elif grade != have.grade:
            have.grade, have.modified = grade, now
            done[pid] = "importada"
        comment = row[col["Comentarios de retroalimentación"]]
        if comment != have.comment:
            have.comment = comment
    return done


def canvas_import(held: dict[str, dict[str, float | None]], points: dict[str, float], path: Path) -> dict:
    """Apply an uploaded gradebook CSV as Canvas does, returning what it did.

    Canvas ``lib/gradebook_importer.rb`` @00b222d7: the first row's first cell includes "Student" and its second
    "ID"; the student columns come first; an assignment column is matched by the id in its title, ``(98765)``,
    and one without a known id creates a new assignment; the "Points Possible" row is not a student; students are
    matched by ``ID``; a blank cell clears the score Canvas holds; a score above points possible is taken as is
    (extra credit)."""
    rows = _rows(path)
    head = rows[0]
    assert "Student" in head[0] and "ID" in head[1]
    done = {"nuevas tareas": [], "puntos extra": [], "borradas": [], "importadas": {}}
    columns = {}
    for i, title in enumerate(head[2:], start=2):
        if title in ("SIS User ID", "SIS Login ID", "Integration ID", "Section", "Root Account"):
            continue
        assignment = title.rsplit("(", 1)[-1].rstrip(") ") if title.rstrip().endswith(")") else None
        if assignment not in points:
            done["nuevas tareas"].append(title)
            continue
        columns[i] = assignment
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            continue
        for i, assignment in columns.items():
            text = row[i].strip()
            before = held[row[1]].get(assignment)
            if not text:
                if before is not None:
                    done["borradas"].append(row[1])
                held[row[1]][assignment] = None
                continue
            score = float(text)
            if score > points[assignment]:
                done["puntos extra"].append(row[1])
            held[row[1]][assignment] = score
            done["importadas"][row[1]] = score
    return done


def _moodle_now():
    return {pid: MoodleGrade(None, None, "") for pid in ("101", "102", "1234567", "2222", "3333")} | {
        "7654321": MoodleGrade(7.0, datetime(2026, 11, 23, 9, 30, 20, tzinfo=MADRID), "Revisado en clase")}


def _canvas_now():
    return {"12345": {"98765": None, "98766": 4.0}, "555": {"98765": 8.0, "98766": 5.0},
            "777": {"98765": 6.0, "98766": None}}


# --------------------------------------------------------------------------- the tests

def test_the_worksheet_round_trip_imports_every_grade_and_comment_and_erases_nothing(graded, exported):
    held = _moodle_now()
    done = moodle_import(held, exported.folder / f"moodle_{LAB}.csv", 10, NOW)
    assert done == {"101": "importada", "102": "importada", "1234567": "importada", "2222": "importada"}
    # the group's grade to each member of the group (the download's folder "Grupo A_42" is the group's)
    assert held["101"].grade == held["102"].grade == _expected("grupo_a_42")
    assert held["101"].comment.startswith("Automática:") and held["101"].comment == held["102"].comment
    assert held["1234567"].grade == _expected("carla_lopez_1234567") and held["2222"].grade == _expected("eva_gomez_2222")
    # the pending student keeps Moodle's grade and comment; who sent nothing is not in the file
    assert held["7654321"] == MoodleGrade(7.0, datetime(2026, 11, 23, 9, 30, 20, tzinfo=MADRID), "Revisado en clase")
    assert (held["3333"].grade, held["3333"].comment) == (None, "")
    rows = _rows(exported.folder / f"moodle_{LAB}.csv")
    assert rows[0] == WORKSHEET[0]  # same columns, same language
    assert {r[0] for r in rows[1:]} == {"Participante101", "Participante102", "Participante1234567",
                                       "Participante2222"}
    assert all("," in r[5] or r[5].isdigit() for r in rows[1:])  # the worksheet's decimal comma
    assert (exported.folder / f"moodle_{LAB}.csv").read_bytes().startswith(b"\xef\xbb\xbf")  # as downloaded
    with zipfile.ZipFile(exported.folder / f"retroalimentacion_moodle_{LAB}.zip") as zf:
        assert sorted(zf.namelist()) == [f"Ana Ruiz_101_assignsubmission_file/retroalimentacion_{LAB}.html",
                                         f"Beto Díaz_102_assignsubmission_file/retroalimentacion_{LAB}.html"]


def test_a_date_moodle_wrote_is_written_back_as_the_same_instant_so_a_later_change_in_moodle_wins(graded, tmp_path):
    """Moodle's own Spanish date copied back would read as 0 in strtotime and every graded row would be skipped;
    written back as the same instant with its offset, a row Moodle graded after the download is still protected."""
    sheet = [row[:] for row in WORKSHEET]
    sheet[3][9] = "domingo, 22 de noviembre de 2026, 10:00"  # Carla already graded in Moodle before the download
    _write(tmp_path / "hoja.csv", sheet)
    result = export.export(LAB, graded, _options(graded, moodle_worksheet=tmp_path / "hoja.csv"))
    row = next(r for r in _rows(result.folder / f"moodle_{LAB}.csv") if r[0] == "Participante1234567")
    assert datetime.fromisoformat(row[9]) == datetime(2026, 11, 22, 10, 0, tzinfo=MADRID)
    held = _moodle_now()
    held["1234567"] = MoodleGrade(5.0, datetime(2026, 11, 22, 10, 0, 40, tzinfo=MADRID), "")  # the same minute
    assert moodle_import(held, result.folder / f"moodle_{LAB}.csv", 10, NOW)["1234567"] == "importada"
    held["1234567"] = MoodleGrade(5.0, datetime(2026, 12, 1, 8, 0, tzinfo=MADRID), "")  # changed after the download
    assert moodle_import(held, result.folder / f"moodle_{LAB}.csv", 10, NOW)["1234567"] == "omitida por fecha"
    copied = tmp_path / "copiada.csv"  # what a plain copy of Moodle's cell would do: the oracle can fail
    _write(copied, [r[:9] + [sheet[3][9] if r[0] == "Participante1234567" else r[9]] + r[10:]
                    for r in _rows(result.folder / f"moodle_{LAB}.csv")])
    held["1234567"] = MoodleGrade(5.0, datetime(2026, 11, 22, 10, 0, 40, tzinfo=MADRID), "")
    assert moodle_import(held, copied, 10, NOW)["1234567"] == "omitida por fecha"


def test_the_gradebook_round_trip_imports_every_grade_and_clears_nothing(graded, exported):
    held = _canvas_now()
    done = canvas_import(held, {"98765": 10.0, "98766": 5.0}, exported.folder / f"canvas_{LAB}.csv")
    assert done == {"nuevas tareas": [], "puntos extra": [], "borradas": [],
                    "importadas": {"12345": _expected("garciaana_12345")}}
    assert held["555"] == {"98765": 8.0, "98766": 5.0}  # pending in formgrader: Canvas's score stays
    assert held["777"] == {"98765": 6.0, "98766": None}  # not in this class's download: untouched
    rows = _rows(exported.folder / f"canvas_{LAB}.csv")
    assert rows[0] == GRADEBOOK[0][:5] + ["Laboratorio 1 (98765)"] and rows[1] == GRADEBOOK[1][:6]
    summary = exported.summary()
    assert "anon_x4Rt9: entrega anónima de Canvas" in summary  # no user id: by hand, and said so
    assert "ruizluis_555" in summary.split("sin nota")[1].splitlines()[0]


def test_true_submission_times_extensions_and_one_penalty(graded, exported):
    rows = _rows(exported.folder / f"notas_finales_{LAB}.csv")
    final = {r[0]: dict(zip(rows[0], r)) for r in rows[1:]}
    carla = final["carla_lopez_1234567"]  # the worksheet's "Last modified (submission)", in the profile's zone
    assert carla["entregado"] == "2026-11-21T01:59:00+01:00" and carla["entregado_segun"] == "Moodle (hoja de calificaciones)"
    assert carla["retraso_horas"] == "2.00" and carla["penaliza"] == "plataforma" and carla["penalizacion_retraso"] == "0"
    eva = final["eva_gomez_2222"]  # after the due date, before her extension
    assert eva["fecha_limite"] == "2026-11-22T23:59:00+01:00" and eva["retraso_horas"] == "0.00"
    ana = final["garciaana_12345"]  # Canvas's LATE: late, without a time
    assert (ana["entregado"], ana["tarde_en_plataforma"], ana["penaliza"]) == ("", "sí", "plataforma")
    summary = exported.summary()
    assert "entrega tardía: carla_lopez_1234567, 2.0 h después de la fecha límite (sin penalización del curso" in summary
    assert "entrega tardía: garciaana_12345, marcada LATE por Canvas" in summary
    assert "eva_gomez_2222" not in summary

    course = export.export(LAB, graded, _options(graded, penalty=export.Penalty.COURSE))
    held = _moodle_now()
    moodle_import(held, course.folder / f"moodle_{LAB}.csv", 10, NOW)
    assert held["1234567"].grade == 0.0  # penalty_method "zero", applied once, by the course
    assert held["2222"].grade == _expected("eva_gomez_2222")
    assert "sin hora de entrega no se puede calcular" in course.summary()  # Canvas's LATE under --penalizacion curso

    none = export.final_grades(LAB, graded, _options(graded, penalty=export.Penalty.NONE))
    assert "carla_lopez_1234567, 2.0 h después de la fecha límite (sin penalización: --late-penalty ninguna)" in \
        export.ExportResult(LAB, graded, none).summary()


def test_an_extensions_file_moves_a_students_due_date(graded, tmp_path):
    (tmp_path / "prorrogas.csv").write_text("estudiante,fecha_limite\ncarla_lopez_1234567,2026-11-21 12:00\n")
    result = export.export(LAB, graded, _options(graded, extensions=tmp_path / "prorrogas.csv"))
    carla = next(g for g in result.grades if g.student == "carla_lopez_1234567")
    assert carla.due == datetime(2026, 11, 21, 12, 0, tzinfo=MADRID) and carla.seconds_late == 0
    (tmp_path / "mal.csv").write_text("alumno,fecha\nx,y\n")
    with pytest.raises(ValueError, match="estudiante,fecha_limite"):
        export.export(LAB, graded, _options(graded, extensions=tmp_path / "mal.csv"))


def test_a_grade_above_the_maximum_or_two_maxima_refuse_the_export(graded, tmp_path):
    from nbgrader.api import Gradebook

    workdir = tmp_path / LAB
    shutil.copytree(graded, workdir, ignore=shutil.ignore_patterns("autograded", "feedback", "exportar"))
    with pytest.raises(ValueError, match="La nota máxima no coincide: --out-of dice 20, la hoja de Moodle dice 10"):
        export.export(LAB, workdir, _options(graded, out_of=20))
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        for g in gb.find_submission(LAB, "carla_lopez_1234567").notebooks[0].grades:
            if g.cell.cell_type != "code":
                g.manual_score = g.max_score + 5  # typed 25 on a 20-point answer in formgrader
        gb.db.commit()
    with pytest.raises(ValueError, match="carla_lopez_1234567 .* superan el máximo|superan el máximo.*carla"):
        export.export(LAB, workdir, _options(graded))
    assert not (workdir / "exportar" / f"moodle_{LAB}.csv").exists()


def test_unreadable_platform_files_say_what_to_do(graded, tmp_path, capsys):
    args = ["export", LAB, "--workdir", str(graded.parent)]
    (tmp_path / "otra.csv").write_text("Nom,Note\nx,1\n")
    assert cli.main([*args, "--moodle-worksheet", str(tmp_path / "otra.csv")]) == 1
    assert "no es una hoja de calificaciones de Moodle en español ni en inglés" in capsys.readouterr().err
    assert cli.main([*args, "--moodle-worksheet", str(graded.parent / "hoja_moodle.csv")]) == 1
    assert "indícala con --time-zone" in capsys.readouterr().err  # Moodle's dates carry no zone
    assert cli.main([*args, "--canvas-gradebook", str(tmp_path / "otra.csv")]) == 1
    assert "no es un libro de calificaciones exportado de Canvas" in capsys.readouterr().err
    assert cli.main([*args, "--canvas-gradebook", str(graded.parent / "libro_canvas.csv")]) == 1
    err = capsys.readouterr().err  # two assignments in the gradebook: which one is said by its title
    assert "«Laboratorio 1 (98765)», «Tarea 2 (98766)»" in err and "Traceback" not in err


def test_moodle_dates_in_both_languages():
    assert moodle_date("sábado, 5 de diciembre de 2026, 07:44", MADRID) == datetime(2026, 12, 5, 7, 44, tzinfo=MADRID)
    assert moodle_date("Saturday, 5 December 2026, 7:44 PM", MADRID) == datetime(2026, 12, 5, 19, 44, tzinfo=MADRID)
    assert moodle_date("Saturday, 5 December 2026, 12:10 AM", MADRID) == datetime(2026, 12, 5, 0, 10, tzinfo=MADRID)
    assert moodle_date("-", MADRID) is None
    with pytest.raises(ValueError, match="otro idioma"):
        moodle_date("samedi, 5 décembre 2026, 07:44", MADRID)


def test_an_english_worksheet_is_written_back_in_english(graded, tmp_path):
    english = {"Identificador": "Identifier", "Nombre completo": "Full name", "Grupo": "Group",
               "Calificación": "Grade", "Calificación máxima": "Maximum Grade",
               "Última modificación (entrega)": "Last modified (submission)",
               "Última modificación (calificación)": "Last modified (grade)",
               "Comentarios de retroalimentación": "Feedback comments"}
    sheet = [[english.get(t, t) for t in WORKSHEET[0]]] + [
        [r[0].replace("Participante", "Participant "), *r[1:6], "10.00", *r[7:8],
         "Saturday, 21 November 2026, 1:59 AM" if r[0].endswith("1234567") else "-", "-", ""] for r in WORKSHEET[1:]]
    _write(tmp_path / "sheet.csv", sheet)
    result = export.export(LAB, graded, _options(graded, moodle_worksheet=tmp_path / "sheet.csv"))
    rows = _rows(result.folder / f"moodle_{LAB}.csv")
    assert rows[0] == sheet[0] and {r[0] for r in rows[1:]} >= {"Participant 1234567", "Participant 101"}
    carla = next(g for g in result.grades if g.student == "carla_lopez_1234567")
    assert carla.submitted == datetime(2026, 11, 21, 1, 59, tzinfo=MADRID)
    worksheet = read_moodle_worksheet(tmp_path / "sheet.csv")
    assert worksheet.maximum == 10 and not worksheet.decimal_comma


@pytest.mark.slow  # two fresh interpreters
def test_the_export_is_the_same_whatever_the_instructors_time_zone(graded, tmp_path):
    """The whole export, run by the command line under two TZ values: byte-identical platform files and lateness."""
    outputs = []
    for zone in ("America/Mexico_City", "Asia/Tokyo"):
        workdir = tmp_path / zone.replace("/", "_") / LAB
        shutil.copytree(graded, workdir, ignore=shutil.ignore_patterns("autograded", "feedback", "exportar"))
        code = (f"import sys; from datetime import datetime; from pathlib import Path; "
                f"from helpers.instructor import export; "
                f"o = export.ExportOptions(moodle_worksheet=Path({str(graded.parent / 'hoja_moodle.csv')!r}), "
                f"canvas_gradebook=Path({str(graded.parent / 'libro_canvas.csv')!r}), "
                f"canvas_assignment='Laboratorio 1 (98765)', time_zone='Europe/Madrid', "
                f"now=datetime.fromisoformat({NOW.isoformat()!r})); "
                f"print(export.export({LAB!r}, Path({str(workdir)!r}), o).summary())")
        env = {**os.environ, "TZ": zone, "PYTHONPATH": str(ROOT)}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr[-2000:]
        folder = workdir / "exportar"
        outputs.append({name: (folder / name).read_bytes()
                        for name in (f"moodle_{LAB}.csv", f"canvas_{LAB}.csv", f"notas_finales_{LAB}.csv")})
    assert outputs[0] == outputs[1]
    assert b"2026-11-21T01:59:00+01:00" in outputs[0][f"notas_finales_{LAB}.csv"]


def test_a_canvas_gradebook_is_read_as_canvas_reads_it(tmp_path):
    rows = [row[:] for row in GRADEBOOK]
    rows.insert(2, ["", "", "", "", "", "Manual Posting", "", "", ""])  # a row Canvas writes and skips
    _write(tmp_path / "g.csv", rows, bom=True)
    book = read_canvas_gradebook(tmp_path / "g.csv", "Laboratorio 1 (98765)")
    assert book.points_possible == 10 and [r[1] for r in book.students] == ["12345", "555", "777"]
    written = _rows(book.write(tmp_path / "out.csv", {"555": 7.5}))
    assert written == [GRADEBOOK[0][:6], GRADEBOOK[1][:6], ["Ruiz, Luis", "555", "", "luis@uni.edu", "Sección 1", "7.5"]]
    assert (tmp_path / "out.csv").read_bytes().startswith(b"\xef\xbb\xbf")


@pytest.mark.slow
def test_a_class_from_the_platforms_downloads_to_their_importers(tmp_path):
    """Moodle and Canvas downloads → course grade --due-date → written answers graded in formgrader → course
    export with the worksheet and the gradebook → each platform's oracle: a Moodle group submission, a late Moodle
    student (by the worksheet's clock), a Canvas student marked LATE, an anonymous one, and participants the
    download does not include, whose grades and comments stay."""
    import nbformat
    from nbgrader.api import Gradebook

    perfect, blank = nbformat.writes(build.student_version(LAB, "all")), nbformat.writes(build.student_version(LAB, set()))
    zip_path = tmp_path / "descargas.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("Grupo A_42_assignsubmission_file/lab1.ipynb", perfect)
        zf.writestr("Carla López_1234567_assignsubmission_file/Copia de lab1.ipynb", blank)
        zf.writestr("garcíaana_LATE_12345_67890_lab1.ipynb", perfect)
        zf.writestr("LATE_anon_x4Rt9_67891_lab1.ipynb", blank)
    workdir = tmp_path / LAB
    run = grading.grade_class(LAB, zip_path, workdir, jobs=2, due_date=DUE, log=lambda *_: None)
    assert {g.student for g in run.grades} == {"grupo_a_42", "carla_lopez_1234567", "garciaana_12345", "anon_x4Rt9"}
    assert "recibido el" not in run.report.read_text()  # the zip's dates are the download's: never read
    with Gradebook(f"sqlite:///{workdir / 'gradebook.db'}", COURSE_ID) as gb:
        carla = gb.find_student("carla_lopez_1234567")
        assert (carla.first_name, carla.last_name, carla.lms_user_id) == ("Carla", "López", "1234567")
        for sid in ("grupo_a_42", "carla_lopez_1234567", "garciaana_12345", "anon_x4Rt9"):  # as formgrader saves
            for g in gb.find_submission(LAB, sid).notebooks[0].grades:
                if g.cell.cell_type != "code":
                    g.manual_score, g.needs_manual_grade = 1, False
        gb.db.commit()
    sheet = _write(tmp_path / "hoja.csv", [r for r in WORKSHEET if not r[0].endswith(("2222", "3333"))], bom=True)
    book = _write(tmp_path / "libro.csv", GRADEBOOK)
    result = export.export(LAB, workdir, export.ExportOptions(
        moodle_worksheet=sheet, canvas_gradebook=book, canvas_assignment="Laboratorio 1 (98765)",
        time_zone="Europe/Madrid"))
    top, written = _points("code") + _points("written"), _points("written")
    written_cells = sum(1 for c in nbgrader_io.read_notebook(lab_notebook("release", LAB)).cells
                        if c.metadata.get("nbgrader", {}).get("grade") and c.cell_type != "code")
    scores = {g.student: g.final for g in result.grades}
    assert scores["grupo_a_42"] == _points("code") + written_cells and written >= written_cells

    held = _moodle_now()
    done = moodle_import(held, result.folder / f"moodle_{LAB}.csv", 10, NOW)
    assert done == {"101": "importada", "102": "importada", "1234567": "importada"}
    assert held["101"].grade == held["102"].grade == round(scores["grupo_a_42"] * 10 / top, 2)
    assert held["1234567"].grade == round(scores["carla_lopez_1234567"] * 10 / top, 2)
    assert held["7654321"].comment == "Revisado en clase" and held["7654321"].grade == 7.0
    canvas = _canvas_now()
    done = canvas_import(canvas, {"98765": 10.0, "98766": 5.0}, result.folder / f"canvas_{LAB}.csv")
    assert done["importadas"] == {"12345": round(scores["garciaana_12345"] * 10 / top, 2)}
    assert not (done["nuevas tareas"] or done["puntos extra"] or done["borradas"])
    assert canvas["555"] == {"98765": 8.0, "98766": 5.0} and canvas["777"]["98765"] == 6.0
    summary = result.summary()
    assert "entrega tardía: carla_lopez_1234567, 2.0 h" in summary  # the worksheet's clock, not the zip's
    assert "entrega tardía: garciaana_12345, marcada LATE por Canvas" in summary
    assert "anon_x4Rt9: entrega anónima de Canvas" in summary


def test_the_command_line_takes_the_platforms_files_and_the_penalty_rule(graded, tmp_path, capsys):
    workdir = tmp_path / LAB
    shutil.copytree(graded, workdir, ignore=shutil.ignore_patterns("autograded", "feedback", "exportar"))
    (tmp_path / "prorrogas.csv").write_text("estudiante,fecha_limite\n1234567,2026-11-21T02:00+01:00\n")
    assert cli.main(["export", LAB, "--workdir", str(tmp_path), "--moodle-worksheet", str(graded.parent / "hoja_moodle.csv"),
                     "--canvas-gradebook", str(graded.parent / "libro_canvas.csv"),
                     "--canvas-assignment", "Laboratorio 1 (98765)", "--time-zone", "Europe/Madrid",
                     "--extensions", str(tmp_path / "prorrogas.csv"), "--penalizacion", "curso"]) == 0
    out = capsys.readouterr().out
    assert "carla_lopez_1234567" not in out.split("escrito:")[-1]  # her extension (by Moodle id): not late
    assert "entrega tardía: garciaana_12345, marcada LATE por Canvas" in out and "no se puede calcular" in out
    rows = _rows(workdir / "exportar" / f"notas_finales_{LAB}.csv")
    assert {r[rows[0].index("penaliza")] for r in rows[1:]} == {"curso"}

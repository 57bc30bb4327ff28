"""Safe intake: hostile zips are refused member by member, and identities never merge two students."""
import os
import zipfile
from datetime import datetime, timezone

import pytest

from helpers.instructor import collect
from helpers.instructor.records import ClassResult
from helpers.instructor.vocabulary import Status


def _texts(notes):
    return [n.text for n in notes]


def _zip(path, members, links=()):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        for name, target in links:
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)  # a symbolic link
            zf.writestr(info, target)
    return path


def test_members_that_escape_are_skipped_and_named(tmp_path):
    outside = tmp_path / "fuera.ipynb"
    zip_path = _zip(tmp_path / "descarga.zip", {
        "Ana García_1_assignsubmission_file/lab1.ipynb": "{}",
        "../fuera.ipynb": "{}",
        "/etc/evil.ipynb": "{}",
        "carpeta/../../fuera.ipynb": "{}",
    }, links=[("Luis_2_assignsubmission_file/enlace.ipynb", "/work/main/source/lab1/lab1.ipynb")])
    folder, refused = collect.unpack(zip_path, tmp_path / "x")
    assert not outside.exists()
    assert [p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()] == [
        "Ana García_1_assignsubmission_file/lab1.ipynb"]
    why = {s.name: s.notes[0].text for s in refused}
    assert set(why) == {"../fuera.ipynb", "/etc/evil.ipynb", "carpeta/../../fuera.ipynb",
                        "Luis_2_assignsubmission_file/enlace.ipynb"}
    assert "sale de la carpeta" in why["../fuera.ipynb"] and "enlace simbólico" in why[
        "Luis_2_assignsubmission_file/enlace.ipynb"]
    assert all(s.status == Status.IGNORED for s in refused)


def test_zip_bomb_is_stopped_before_writing(tmp_path, monkeypatch):
    zip_path = _zip(tmp_path / "bomba.zip", {"a_1_assignsubmission_file/x.ipynb": b"\0" * (8 * 2**20),
                                             "b_2_assignsubmission_file/y.ipynb": "{}"})
    folder, refused = collect.unpack(zip_path, tmp_path / "x")  # 8 MiB of zeros: ratio far above the limit
    assert [s.name for s in refused] == ["a_1_assignsubmission_file/x.ipynb"]
    assert "bomba zip" in refused[0].notes[0].text
    assert not (folder / "a_1_assignsubmission_file/x.ipynb").exists()
    monkeypatch.setattr(collect, "ZIP_MAX_TOTAL", 2**20)
    with pytest.raises(ValueError, match="supera los límites"):
        collect.unpack(zip_path, tmp_path / "y")
    assert not (tmp_path / "y").exists() or not any((tmp_path / "y").iterdir())


def test_symlinks_in_a_folder_are_not_followed(tmp_path):
    (tmp_path / "entregas").mkdir()
    (tmp_path / "secreto.ipynb").write_text("{}")
    os.symlink(tmp_path / "secreto.ipynb", tmp_path / "entregas" / "ana.ipynb")
    (tmp_path / "entregas" / "luis.ipynb").write_text("{}")
    fate = {s.name: (s.student, s.status) for s in collect.collect(tmp_path / "entregas")}
    assert fate == {"ana.ipynb": (None, Status.IGNORED), "luis.ipynb": ("luis", Status.PENDING)}


def test_homonyms_and_names_without_ascii_stay_apart(tmp_path):
    files = ["Ana García_1001_assignsubmission_file/lab1.ipynb", "Ana García_1002_assignsubmission_file/lab1.ipynb",
             "😀_1003_assignsubmission_file/lab1.ipynb", "🚀_1004_assignsubmission_file/lab1.ipynb"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    subs = collect.collect(tmp_path, "moodle")
    assert len({s.student for s in subs}) == 4 and all(s.status == Status.PENDING for s in subs)
    assert collect.slug("😀") != collect.slug("🚀") and collect.slug("😀").startswith("sin_nombre_")


# ---------------------------------------------------------------- platform downloads, as the platforms zip them

def _dated_zip(path, members):
    """A zip whose members carry the dates the platform gave them: {name: (data, (y, m, d, h, min, s))}."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (data, when) in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=when), data)
    return path


def _intake(tmp_path, members, pattern="auto"):
    folder, refused = collect.unpack(_dated_zip(tmp_path / "descarga.zip", members), tmp_path / "x")
    return {s.name: s for s in collect.collect(folder, pattern, zipped=True) + refused}


NOV20 = (2026, 11, 20, 18, 30, 0)
NOV21 = (2026, 11, 21, 9, 15, 0)


def test_moodle_4_download_keeps_names_ids_dates_and_names_online_text(tmp_path):
    files = _intake(tmp_path, {
        "Íñigo Muñoz_55_assignsubmission_file/Copia de lab1_convolutions.ipynb": ("{}", NOV20),
        "Íñigo Muñoz_55_assignsubmission_onlinetext/onlinetext.html": ("<p>hola</p>", NOV20),
        "Ana García_1234567_assignsubmission_file/lab1.ipynb": ("{}", NOV20),
        "Ana García_7654321_assignsubmission_file/lab1.ipynb": ("{}", NOV21),
        "Begoña Peña_99_assignsubmission_onlinetext/onlinetext.html": ("<p>no me deja subirlo</p>", NOV21),
    })
    inigo = files["Íñigo Muñoz_55_assignsubmission_file/Copia de lab1_convolutions.ipynb"]
    assert (inigo.student, inigo.status) == ("inigo_munoz_55", Status.PENDING)  # the folder says whose it is
    assert inigo.identity == collect.Identity("inigo_munoz_55", "moodle", "Íñigo Muñoz", "55",
                                              "Copia de lab1_convolutions.ipynb")
    assert inigo.identity.first_last() == ("Íñigo", "Muñoz")
    # Moodle 4.1+ stamps every member with the download's time: a zip member's date is never a submission time
    assert inigo.received is None and inigo.received_from is None and not inigo.late_mark
    homonyms = [files[f"Ana García_{n}_assignsubmission_file/lab1.ipynb"] for n in (1234567, 7654321)]
    assert [s.student for s in homonyms] == ["ana_garcia_1234567", "ana_garcia_7654321"]
    assert all(s.status == Status.PENDING and not s.doubt for s in homonyms)
    text = files["Íñigo Muñoz_55_assignsubmission_onlinetext/onlinetext.html"]
    assert text.status == Status.IGNORED and "texto en línea de Moodle" in text.notes[0].text and not text.doubt
    alone = files["Begoña Peña_99_assignsubmission_onlinetext/onlinetext.html"]
    assert "sin ningún cuaderno" in alone.doubt  # she may have pasted her work there: the report says so


def test_several_notebooks_of_one_student_in_a_zip_are_a_doubt_resolved_by_name_not_by_the_zips_dates(tmp_path):
    files = _intake(tmp_path, {
        "Ana García_1_assignsubmission_file/lab1_convolutions.ipynb": ("{}", NOV20),
        "Ana García_1_assignsubmission_file/zz_borrador.ipynb": ("{}", NOV21),
        "Luis Ruiz_2_assignsubmission_file/lab1.ipynb": ("{}", NOV20),
        "Luis Ruiz_2_assignsubmission_file/lab1-1.ipynb": ("{}", NOV20),
    })
    first = files["Ana García_1_assignsubmission_file/lab1_convolutions.ipynb"]
    last = files["Ana García_1_assignsubmission_file/zz_borrador.ipynb"]
    assert (first.status, last.status) == (Status.IGNORED, Status.PENDING)  # the zip's newer date is not read
    assert first.doubt == last.doubt and "varios cuadernos distintos" in last.doubt
    assert "por orden de nombre" in last.doubt and "no dice cuándo" in last.doubt
    assert files["Luis Ruiz_2_assignsubmission_file/lab1-1.ipynb"].status == Status.PENDING
    assert not files["Luis Ruiz_2_assignsubmission_file/lab1.ipynb"].doubt  # numbered versions are not a doubt


def test_canvas_download_with_accents_late_and_anonymous(tmp_path):
    """Names as ``get_filename`` in instructure/canvas-lms lib/content_zipper.rb (05e9653c) writes them:
    ``[sortable name, "LATE" when late, user id or "anon_" + anonymous id].compact.join("_")``, then the
    file's id and name; the anonymous id is 5 base58 characters (lib/anonymity.rb)."""
    files = _intake(tmp_path, {
        "garcíaana_12345_67890_lab1.ipynb": ("{}", NOV20),
        "garcíaana_LATE_12345_67899_lab1-1.ipynb": ("{}", NOV21),
        "núñezíñigo_333_444_Copia de lab1_convolutions.ipynb": ("{}", NOV20),
        "anon_x4Rt9_9999_lab1.ipynb": ("{}", NOV20),
        "LATE_anon_Qm2Zk_9998_lab1.ipynb": ("{}", NOV20),
    })
    late = files["garcíaana_LATE_12345_67899_lab1-1.ipynb"]
    assert (late.student, late.status, late.doubt) == ("garciaana_12345", Status.PENDING, "")
    assert late.late_mark and late.received is None  # late, by how much the download does not say
    assert files["garcíaana_12345_67890_lab1.ipynb"].status == Status.IGNORED
    assert late.identity.name == "garcíaana" and late.identity.first_last() == (None, "garcíaana")
    on_time = files["núñezíñigo_333_444_Copia de lab1_convolutions.ipynb"]
    assert on_time.student == "nunezinigo_333" and not on_time.late_mark
    anonymous, late_anonymous = files["anon_x4Rt9_9999_lab1.ipynb"], files["LATE_anon_Qm2Zk_9998_lab1.ipynb"]
    assert (anonymous.student, anonymous.identity.name, anonymous.identity.participant) == ("anon_x4Rt9", "anon", "x4Rt9")
    assert not anonymous.late_mark and anonymous.status == Status.PENDING
    assert (late_anonymous.student, late_anonymous.late_mark) == ("anon_Qm2Zk", True)


def test_moodle_group_submissions_keep_the_group_and_the_default_group_is_reported(tmp_path):
    """Team submissions as ``get_student_prefix`` in moodle/moodle mod/assign/classes/downloader.php writes
    them: the group's name and id, or ``get_string('defaultteam')`` and no id for students in no group."""
    files = _intake(tmp_path, {
        "Grupo A_42_assignsubmission_file/lab1_convolutions.ipynb": ("{}", NOV20),
        "Default group_assignsubmission_file/lab1_convolutions.ipynb": ("{}", NOV20),
        "Grupo por defecto_assignsubmission_file/lab1_convolutions.ipynb": ("{}", NOV20),
    })
    group = files["Grupo A_42_assignsubmission_file/lab1_convolutions.ipynb"]
    assert (group.student, group.identity.name, group.identity.participant) == ("grupo_a_42", "Grupo A", "42")
    for name in ("Default group_assignsubmission_file/lab1_convolutions.ipynb",
                 "Grupo por defecto_assignsubmission_file/lab1_convolutions.ipynb"):
        assert (files[name].student, files[name].status) == (None, Status.IGNORED)
        assert _texts(files[name].notes) == [collect.Unidentified.MOODLE_DEFAULT_GROUP.value]


def _folder(tmp_path, names):
    (tmp_path / "entregas").mkdir()
    for n, name in enumerate(names):
        (tmp_path / "entregas" / name).write_text("{}")
        os.utime(tmp_path / "entregas" / name, (1_800_000_000 + n * 60,) * 2)  # listed order = sent order
    return {s.name: s for s in collect.collect(tmp_path / "entregas")}


def test_colab_copies_in_a_folder_or_classroom_never_become_students(tmp_path):
    files = _folder(tmp_path, ["Copia de lab1_convolutions.ipynb", "Copy of lab1_convolutions (1).ipynb",
                               "Ana García - Copia de lab1_convolutions.ipynb", "Copia de luis_ruiz.ipynb",
                               "lab1_convolutions.ipynb"])
    for name in ("Copia de lab1_convolutions.ipynb", "Copy of lab1_convolutions (1).ipynb", "lab1_convolutions.ipynb"):
        assert (files[name].student, files[name].status) == (None, Status.IGNORED)
        assert _texts(files[name].notes) == [collect.Unidentified.LAB_NAME.value] and files[name].doubt
    assert files["Ana García - Copia de lab1_convolutions.ipynb"].student == "ana_garcia"
    assert files["Ana García - Copia de lab1_convolutions.ipynb"].identity.platform == "classroom"
    assert files["Copia de luis_ruiz.ipynb"].student == "luis_ruiz"
    assert files["Copia de luis_ruiz.ipynb"].received_from is collect.TimeSource.FILE
    pattern = collect.compile_pattern("auto")
    assert collect.student_of("Begoña Ibáñez/Copia de lab1_convolutions.ipynb", pattern) == "begona_ibanez"
    assert collect.identify("lab1/Copy of lab1.ipynb", pattern) is collect.Unidentified.LAB_NAME


def test_two_spellings_of_one_student_in_a_folder_are_reported(tmp_path):
    files = _folder(tmp_path, ["ana_garcia.ipynb", "Ana García.ipynb", "maria_lopez.ipynb", "maria_lopez-1.ipynb"])
    later, earlier = files["Ana García.ipynb"], files["ana_garcia.ipynb"]
    assert later.student == earlier.student == "ana_garcia"
    assert (later.status, earlier.status) == (Status.PENDING, Status.IGNORED)  # the most recent file, by date
    assert "«Ana García», «ana_garcia»" in later.doubt and later.doubt == earlier.doubt
    assert files["maria_lopez-1.ipynb"].status == Status.PENDING and not files["maria_lopez-1.ipynb"].doubt
    report = ClassResult("lab1_convolutions", tmp_path, [], sorted(files.values(), key=lambda f: f.name),
                                 tmp_path / "n.csv", tmp_path / "i.txt").problems()
    doubts = report.split("Casos dudosos")[1].split("\n\n")[0]
    assert "«Ana García», «ana_garcia»" in doubts and "maria_lopez" not in doubts
    assert "recibido el" in report and collect.TimeSource.FILE.value in report


def _member(name, size=100, compressed=100, link=False):
    info = zipfile.ZipInfo(name)
    info.file_size, info.compress_size = size, compressed
    if link:
        info.external_attr = 0o120777 << 16
    return info


ESCAPES = "su ruta sale de la carpeta de entregas (ruta absoluta o con «..»)"
MiB = 2**20


@pytest.mark.parametrize("member, why", [
    (_member("ana/lab1.ipynb"), None),
    (_member("../lab1.ipynb"), ESCAPES),
    (_member("ana/../../lab1.ipynb"), ESCAPES),
    (_member("ana\\..\\..\\lab1.ipynb"), ESCAPES),  # Windows separators
    (_member("/etc/lab1.ipynb"), ESCAPES),
    (_member("\\lab1.ipynb"), ESCAPES),
    (_member("C:lab1.ipynb"), ESCAPES),  # a Windows drive
    (_member("c:\\lab1.ipynb"), ESCAPES),
    (_member("ana..bea/lab1.ipynb"), None),  # two dots inside a name are only a name
    (_member("ana/lab1.ipynb", link=True), "es un enlace simbólico"),
    (_member("ana/lab1.ipynb", size=collect.ZIP_MAX_FILE + 1, compressed=collect.ZIP_MAX_FILE),
     "ocupa 256 MiB sin comprimir (máximo 256 MiB)"),
    (_member("ana/lab1.ipynb", size=2 * MiB, compressed=2 * MiB // 201), "se comprime de forma anómala (posible bomba zip)"),
    (_member("ana/lab1.ipynb", size=2 * MiB, compressed=0), "se comprime de forma anómala (posible bomba zip)"),
    (_member("ana/lab1.ipynb", size=2 * MiB, compressed=2 * MiB // 199), None),  # well compressed, not a bomb
    (_member("ana/lab1.ipynb", size=MiB, compressed=1), None),  # small files may compress as they like
])
def test_each_zip_rule_on_its_own(tmp_path, member, why):
    assert collect._unsafe(member, tmp_path) == why


def test_a_member_that_escapes_through_a_link_already_in_the_folder_is_refused(tmp_path):
    into, outside = tmp_path / "recibido", tmp_path / "fuera"
    into.mkdir()
    outside.mkdir()
    (into / "ana").symlink_to(outside)
    assert collect._unsafe(_member("ana/lab1.ipynb"), into) == "su ruta sale de la carpeta de entregas"


def test_sizes_and_ratios_at_the_limit_are_still_accepted(tmp_path):
    assert collect._unsafe(_member("a.ipynb", size=collect.ZIP_MAX_FILE, compressed=collect.ZIP_MAX_FILE), tmp_path) is None
    at_ratio = _member("a.ipynb", size=collect.ZIP_MAX_RATIO * MiB, compressed=MiB)
    assert collect._unsafe(at_ratio, tmp_path) is None


def test_what_is_not_a_download_is_said_in_spanish_before_anything_is_written(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match=r"^No existe la carpeta o el zip de entregas .*nada\.zip\.$"):
        collect.unpack(tmp_path / "nada.zip", tmp_path / "dentro")
    (tmp_path / "notas.txt").write_text("no es un zip")
    with pytest.raises(ValueError, match=r"notas\.txt no es ni una carpeta ni un archivo zip de entregas\.$"):
        collect.unpack(tmp_path / "notas.txt", tmp_path / "dentro")
    three = _zip(tmp_path / "tres.zip", {"a.ipynb": "{}", "b.ipynb": "{}", "c.ipynb": "{}"})
    monkeypatch.setattr(collect, "ZIP_MAX_MEMBERS", 3)
    folder, refused = collect.unpack(three, tmp_path / "dentro")  # exactly at the limit: fine
    assert sorted(p.name for p in folder.iterdir()) == ["a.ipynb", "b.ipynb", "c.ipynb"] and not refused
    monkeypatch.setattr(collect, "ZIP_MAX_MEMBERS", 2)
    with pytest.raises(ValueError) as refused_zip:
        collect.unpack(three, tmp_path / "otra")
    assert str(refused_zip.value) == (f"{three} declara 3 archivos y 0.0 GiB sin comprimir: supera los límites "
                                      "(2 archivos, 4 GiB). No se ha descomprimido nada; ¿es la descarga correcta?")
    assert not (tmp_path / "otra").exists() or not any((tmp_path / "otra").iterdir())
    monkeypatch.setattr(collect, "ZIP_MAX_MEMBERS", 20_000)
    monkeypatch.setattr(collect, "ZIP_MAX_TOTAL", 6)  # the three members declare 2 bytes each: at the limit
    assert collect.unpack(three, tmp_path / "otra")[1] == []


def test_folder_entries_in_a_zip_are_skipped_and_what_follows_them_unpacked(tmp_path):
    path = tmp_path / "moodle.zip"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(zipfile.ZipInfo("Ana García_1234567_assignsubmission_file/"), "")
        zf.writestr("Ana García_1234567_assignsubmission_file/lab1.ipynb", "{}")
    folder, refused = collect.unpack(path, tmp_path / "dentro")
    assert refused == []
    assert (folder / "Ana García_1234567_assignsubmission_file" / "lab1.ipynb").read_text() == "{}"


# ---------------------------------------------------------------- every platform's names, one at a time

AUTO = collect.compile_pattern("auto")


@pytest.mark.parametrize("name, platform, student, written, participant, own_file", [
    ("Ana García_1234567_assignsubmission_file_lab1.ipynb", "moodle", "ana_garcia_1234567", "Ana García", "1234567",
     "lab1.ipynb"),
    ("Ana García_1234567_assignsubmission_file/entrega/lab1.ipynb", "moodle", "ana_garcia_1234567", "Ana García",
     "1234567", "entrega/lab1.ipynb"),
    ("garcíaana_LATE_12345_67890_lab1-1.ipynb", "canvas", "garciaana_12345", "garcíaana", "12345", "lab1-1.ipynb"),
    ("Ana García - lab1_convolutions.ipynb", "classroom", "ana_garcia", "Ana García", "", "lab1_convolutions.ipynb"),
    ("Copia de Ana García - lab1.ipynb", "classroom", "ana_garcia", "Ana García", "", "lab1.ipynb"),
    ("ana_garcia (2).ipynb", "nombre", "ana_garcia", "ana_garcia", "", "ana_garcia (2).ipynb"),
    ("grupo_b/luis_ruiz.ipynb", "nombre", "luis_ruiz", "luis_ruiz", "", "luis_ruiz.ipynb"),
    ("clase/Luis Ruiz/Copia de lab1_convolutions.ipynb", "nombre", "luis_ruiz", "Luis Ruiz", "",
     "Copia de lab1_convolutions.ipynb"),  # a folder per student, inside another folder
    ("2026/grupo_b/Copia de Luis Ruiz/lab1.ipynb", "nombre", "luis_ruiz", "Luis Ruiz", "", "lab1.ipynb"),
])
def test_each_platform_name_gives_the_whole_identity(name, platform, student, written, participant, own_file):
    assert collect.identify(name, AUTO) == collect.Identity(student, platform, written, participant, own_file)


def test_a_custom_pattern_names_students_by_either_group_and_keeps_the_file_name():
    english = collect.compile_pattern(r"(?P<student>\d+)-entrega\.ipynb$")
    assert [platform for platform, _ in english] == [collect.CUSTOM]
    assert collect.identify("2026/grupo_a/4242-entrega.ipynb", english) == collect.Identity(
        "4242", collect.CUSTOM, "4242", "", "4242-entrega.ipynb")  # no "file" group: the path's last part
    assert collect.identify("4242-borrador.ipynb", english) is collect.Unidentified.NO_MATCH
    for everything in (None, "", "auto"):
        assert [platform for platform, _ in collect.compile_pattern(everything)] == list(collect.PLATFORMS)
    with pytest.raises(ValueError) as no_group:
        collect.compile_pattern(r"(?P<nombre>\w+)\.ipynb")
    assert str(no_group.value) == (r"El patrón de nombres «(?P<nombre>\w+)\.ipynb» debe tener un grupo con nombre "
                                   "(?P<estudiante>...) que capture el identificador del estudiante.")


def test_collect_uses_only_the_platform_it_is_told(tmp_path):
    (tmp_path / "ana_garcia.ipynb").write_text("{}")
    assert collect.collect(tmp_path)[0].student == "ana_garcia"
    only_canvas = collect.collect(tmp_path, "canvas")[0]
    assert (only_canvas.student, _texts(only_canvas.notes)) == (None, [collect.Unidentified.NO_MATCH.value])


@pytest.mark.parametrize("platform, written, first_last", [
    ("moodle", "Ana María García", ("Ana", "María García")),  # "First Last": split at the first space
    ("classroom", "  Ana García ", ("Ana", "García")),
    ("moodle", "Madonna", (None, "Madonna")),
    ("classroom", "Madonna", (None, "Madonna")),
    ("canvas", "garcía ana", (None, "garcía ana")),  # a sortable name is kept whole
    ("nombre", "ana garcia", (None, None)),  # a file name says nothing of first and last names
    (collect.CUSTOM, "Ana García", (None, None)),
])
def test_first_and_last_names_for_nbgrader(platform, written, first_last):
    assert collect.Identity("x", platform, written).first_last() == first_last


def test_an_identity_survives_the_state_file():
    who = collect.Identity("ana_garcia_55", "moodle", "Ana García", "55", "lab1.ipynb")
    assert collect.Identity.from_record("ana_garcia_55", who.record()) == who


@pytest.mark.parametrize("text, student", [(" Ana García. ", "ana_garcia"), ("-José_Pérez-", "jose_perez"),
                                           ("ana.garcia", "ana.garcia")])
def test_slugs_have_no_separators_at_their_ends(text, student):
    assert collect.slug(text) == student


# ---------------------------------------------------------------- what the report says about each file

def test_every_file_that_is_not_graded_says_why_in_spanish(tmp_path):
    folder = tmp_path / "entregas"
    for name in ("ana.ipynb", ".DS_Store", "__MACOSX/luis.ipynb", "luis.ipynb", "lab1.pdf", "Ana García - notas.txt",
                 "Copia de lab1_convolutions.ipynb", "onlinetext.html"):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("{}")
    (folder / "enlace.ipynb").symlink_to(folder / "ana.ipynb")
    files = {s.name: s for s in collect.collect(folder)}
    said = {name: (s.status, _texts(s.notes), s.doubt) for name, s in files.items()}
    auxiliary = ["archivo auxiliar del sistema (no es una entrega)"]
    assert said == {
        "ana.ipynb": (Status.PENDING, [], ""),
        "luis.ipynb": (Status.PENDING, [], ""),
        ".DS_Store": (Status.IGNORED, auxiliary, ""),
        "__MACOSX/luis.ipynb": (Status.IGNORED, auxiliary, ""),
        "lab1.pdf": (Status.IGNORED, ["no es un cuaderno (.ipynb)"], ""),
        "Ana García - notas.txt": (Status.IGNORED, ["no es un cuaderno (.ipynb)"], ""),
        "Copia de lab1_convolutions.ipynb": (Status.IGNORED, [collect.Unidentified.LAB_NAME.value],
                                             "cuaderno sin nombre de estudiante: no se califica"),
        "onlinetext.html": (Status.IGNORED, ["texto en línea de Moodle (onlinetext.html): no se califica; léelo en Moodle"],
                            "texto en línea de Moodle sin ningún cuaderno del mismo estudiante"),
        "enlace.ipynb": (Status.IGNORED, ["es un enlace simbólico: no se sigue"], ""),
    }
    assert files["lab1.pdf"].identity is None  # named like the lab: nobody's
    assert files["Ana García - notas.txt"].identity.student == "ana_garcia"  # not graded, but its owner is known


def test_moodle_3_online_text_is_named_by_its_folder_name_and_alone_it_is_a_doubt(tmp_path):
    files = _intake(tmp_path, {"Ana García_1_assignsubmission_onlinetext_texto.html": ("<p>hola</p>", NOV20)})
    text = files["Ana García_1_assignsubmission_onlinetext_texto.html"]
    assert _texts(text.notes) == ["texto en línea de Moodle (onlinetext.html): no se califica; léelo en Moodle"]
    assert text.doubt == "texto en línea de Moodle sin ningún cuaderno del mismo estudiante"


def test_the_doubts_and_notes_of_several_notebooks_name_every_file_and_the_one_graded(tmp_path):
    files = _intake(tmp_path, {
        "Ana García_1_assignsubmission_file/lab1.ipynb": ("{}", NOV20),
        "Ana Garcia_1_assignsubmission_file/lab1.ipynb": ("{}", NOV21),  # the same id written without the accent
        "Luis Ruiz_2_assignsubmission_file/b.ipynb": ("{}", (2026, 11, 21, 8, 0, 0)),
        "Luis Ruiz_2_assignsubmission_file/a.ipynb": ("{}", NOV21),
        "Luis Ruiz_2_assignsubmission_file/c.ipynb": ("{}", NOV20),
    })
    ana = "Ana García_1_assignsubmission_file/lab1.ipynb"  # last by name: "i" < "í"; the zip's dates are not read
    by_name = "el último por orden de nombre (la descarga de la plataforma no dice cuándo se envió cada uno)"
    assert files[ana].doubt == (
        "nombres escritos de forma distinta («Ana Garcia», «Ana García») que dan el mismo estudiante: "
        f"Ana Garcia_1_assignsubmission_file/lab1.ipynb, {ana}; se califica {by_name}, {ana}; "
        "comprueba que es el que debe contar")
    assert _texts(files["Ana Garcia_1_assignsubmission_file/lab1.ipynb"].notes) == [
        f"ana_garcia_1 tiene otra entrega posterior ({ana}); se califica esa"]
    luis = [files[f"Luis Ruiz_2_assignsubmission_file/{f}.ipynb"] for f in "abc"]
    assert [s.status for s in luis] == [Status.IGNORED, Status.IGNORED, Status.PENDING]
    assert luis[0].doubt == (
        "varios cuadernos distintos del mismo estudiante: Luis Ruiz_2_assignsubmission_file/a.ipynb, "
        f"Luis Ruiz_2_assignsubmission_file/b.ipynb, Luis Ruiz_2_assignsubmission_file/c.ipynb; se califica {by_name}, "
        "Luis Ruiz_2_assignsubmission_file/c.ipynb; comprueba que es el que debe contar")
    assert _texts(luis[0].notes) == ["luis_ruiz_2 tiene otra entrega posterior (Luis Ruiz_2_assignsubmission_file/c.ipynb); "
                             "se califica esa"]


def test_a_notebook_without_a_date_counts_as_the_oldest(tmp_path):
    dated = collect.Submission("ana/b.ipynb", tmp_path / "b", "ana",
                               identity=collect.Identity("ana", "nombre", "ana", "", "b.ipynb"),
                               received=datetime(2026, 11, 20, tzinfo=timezone.utc))
    undated = collect.Submission("ana/a.ipynb", tmp_path / "a", "ana",
                                 identity=collect.Identity("ana", "nombre", "ana", "", "a.ipynb"))
    subs = [dated, undated]
    collect.choose_latest(subs)
    assert (dated.status, undated.status) == (Status.PENDING, Status.IGNORED)


# ---------------------------------------------------------------- unpacking, member by member

class _LyingZip:
    """A zip library that hands out more bytes than the member declares, or fails while reading it."""

    def __init__(self, data=b"", error=None):
        self.data, self.error = data, error

    def open(self, info):
        if self.error:
            raise self.error
        import io
        return io.BytesIO(self.data)


def test_a_member_larger_than_it_declares_is_removed_and_named(tmp_path):
    target = tmp_path / "x" / "ana" / "lab1.ipynb"
    liar = _LyingZip(b"{" * (3 * MiB))
    assert collect._extract_within_limits(liar, _member("ana/lab1.ipynb", size=MiB), target) == (
        "es más grande de lo que declara el zip")
    assert not target.exists()
    exact = _LyingZip(b"{" * (2 * MiB))
    assert collect._extract_within_limits(exact, _member("ana/lab1.ipynb", size=2 * MiB), target) is None
    assert target.stat().st_size == 2 * MiB


def test_a_member_that_cannot_be_read_is_named_with_the_error(tmp_path):
    target = tmp_path / "ana" / "lab1.ipynb"
    broken = _LyingZip(error=zipfile.BadZipFile("Bad magic number for file header"))
    assert collect._extract_within_limits(broken, _member("ana/lab1.ipynb"), target) == (
        "está dañado en el zip (BadZipFile)")
    assert not target.exists()


def test_members_deep_in_folders_unpack_into_a_folder_not_yet_made(tmp_path):
    zip_path = _zip(tmp_path / "d.zip", {"curso/grupo_a/Ana García - lab1.ipynb": "{}"})
    folder, refused = collect.unpack(zip_path, tmp_path / "nueva" / "carpeta")
    assert refused == [] and (folder / "curso/grupo_a/Ana García - lab1.ipynb").read_text() == "{}"


def test_a_download_too_large_says_its_size_in_gib(tmp_path, monkeypatch):
    zip_path = _zip(tmp_path / "d.zip", {"a.ipynb": "{}"})
    huge = _member("a.ipynb", size=5 * 2**30)
    monkeypatch.setattr(zipfile.ZipFile, "infolist", lambda self: [huge])
    with pytest.raises(ValueError, match=r"declara 1 archivos y 5\.0 GiB sin comprimir"):
        collect.unpack(zip_path, tmp_path / "x")


# ---------------------------------------------------------------- names longer than the file system allows

def test_a_long_id_is_cut_to_a_bounded_length_with_a_hash_that_keeps_two_long_names_apart():
    start = "Ana María de los Ángeles " * 12  # 300 characters
    one, other = (collect.student_of(f"{start}{end}.ipynb", collect.compile_pattern("nombre")) for end in ("uno", "dos"))
    assert one != other and len(one) == len(other) == collect.MAX_ID
    assert one.startswith("ana_maria_de_los_angeles_ana_maria") and "__" not in one
    assert one == collect.student_of(f"{start}uno.ipynb", collect.compile_pattern("nombre"))  # the same name, the same id
    assert collect.bounded_id("ana_garcia_1234567") == "ana_garcia_1234567"  # short ids are untouched
    assert collect.bounded_id("a" * collect.MAX_ID) == "a" * collect.MAX_ID
    assert len(collect.bounded_id("a" * (collect.MAX_ID + 1))) == collect.MAX_ID


def test_a_moodle_participant_id_past_the_cut_still_tells_homonyms_apart():
    name = "N" * 200
    ids = {collect.student_of(f"{name}_{n}_assignsubmission_file/lab1.ipynb", collect.compile_pattern("moodle"))
           for n in (1001, 1002)}
    assert len(ids) == 2 and all(len(i) <= collect.MAX_ID for i in ids)


def test_a_name_the_file_system_cannot_decode_still_gets_an_id(tmp_path):
    os.makedirs(os.fsencode(tmp_path / "entregas"))
    for raw in (b"\xff\xfe.ipynb", b"ana\xff.ipynb"):  # not UTF-8: Python reads them with lone surrogates
        with open(os.fsencode(tmp_path / "entregas") + b"/" + raw, "w") as f:
            f.write("{}")
    subs = collect.collect(tmp_path / "entregas")
    assert sorted(s.student for s in subs)[0] == "ana" and sorted(s.student for s in subs)[1].startswith("sin_nombre_")


def test_a_zip_member_whose_name_is_too_long_to_write_is_unpacked_under_a_short_name(tmp_path):
    long = "Ana García " + "x" * 280 + "_1234_assignsubmission_file_lab1.ipynb"
    assert len(long) > 300
    files = _intake(tmp_path, {long: ("{}", NOV20), "Luis Ruiz_55_assignsubmission_file_lab1.ipynb": ("{}", NOV21),
                               f"{collect.LONG_NAMES}/{collect.NAMES}": ('{"x": "y"}', NOV21)})
    ana = files[long]
    assert ana.status == Status.PENDING and ana.path.read_text() == "{}" and ana.received is None
    assert ana.student.startswith("ana_garcia_xxx") and len(ana.student) == collect.MAX_ID
    assert ana.identity.participant == "1234"
    assert files["Luis Ruiz_55_assignsubmission_file_lab1.ipynb"].student == "luis_ruiz_55"
    planted = files[f"{collect.LONG_NAMES}/{collect.NAMES}"]  # a member may not pose as the list of long names
    assert planted.status == Status.IGNORED and "reservada" in planted.notes[0].text
    assert len(files) == 3


def test_a_file_that_cannot_be_inspected_fails_alone(tmp_path, monkeypatch):
    for name in ("ana.ipynb", "luis.ipynb"):
        (tmp_path / name).write_text("{}")
    real = collect.identify
    monkeypatch.setattr(collect, "identify", lambda name, patterns: (
        (_ for _ in ()).throw(OSError("disco roto")) if name == "ana.ipynb" else real(name, patterns)))
    fate = {s.name: s for s in collect.collect(tmp_path)}
    assert fate["luis.ipynb"].student == "luis" and fate["luis.ipynb"].status == Status.PENDING
    assert fate["ana.ipynb"].status == Status.FAILED and "disco roto" in fate["ana.ipynb"].notes[0].text

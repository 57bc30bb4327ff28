"""Safe intake: hostile zips are refused member by member, and identities never merge two students."""
import os
import zipfile
from datetime import datetime, timezone

import pytest

from helpers.instructor import collect, grading


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
    why = {s.name: s.notes[0] for s in refused}
    assert set(why) == {"../fuera.ipynb", "/etc/evil.ipynb", "carpeta/../../fuera.ipynb",
                        "Luis_2_assignsubmission_file/enlace.ipynb"}
    assert "sale de la carpeta" in why["../fuera.ipynb"] and "enlace simbólico" in why[
        "Luis_2_assignsubmission_file/enlace.ipynb"]
    assert all(s.status == "ignorado" for s in refused)


def test_zip_bomb_is_stopped_before_writing(tmp_path, monkeypatch):
    zip_path = _zip(tmp_path / "bomba.zip", {"a_1_assignsubmission_file/x.ipynb": b"\0" * (8 * 2**20),
                                             "b_2_assignsubmission_file/y.ipynb": "{}"})
    folder, refused = collect.unpack(zip_path, tmp_path / "x")  # 8 MiB of zeros: ratio far above the limit
    assert [s.name for s in refused] == ["a_1_assignsubmission_file/x.ipynb"]
    assert "bomba zip" in refused[0].notes[0]
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
    assert fate == {"ana.ipynb": (None, "ignorado"), "luis.ipynb": ("luis", "pendiente")}


def test_homonyms_and_names_without_ascii_stay_apart(tmp_path):
    files = ["Ana García_1001_assignsubmission_file/lab1.ipynb", "Ana García_1002_assignsubmission_file/lab1.ipynb",
             "😀_1003_assignsubmission_file/lab1.ipynb", "🚀_1004_assignsubmission_file/lab1.ipynb"]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    subs = collect.collect(tmp_path, "moodle")
    assert len({s.student for s in subs}) == 4 and all(s.status == "pendiente" for s in subs)
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
    assert (inigo.student, inigo.status) == ("inigo_munoz_55", "pendiente")  # the folder says whose it is
    assert inigo.identity == collect.Identity("inigo_munoz_55", "moodle", "Íñigo Muñoz", "55",
                                              "Copia de lab1_convolutions.ipynb")
    assert inigo.identity.first_last() == ("Íñigo", "Muñoz")
    local = datetime(*NOV20).astimezone(timezone.utc)  # zip dates are the server's local time
    assert inigo.received == local and inigo.received_from is collect.TimeSource.ZIP
    homonyms = [files[f"Ana García_{n}_assignsubmission_file/lab1.ipynb"] for n in (1234567, 7654321)]
    assert [s.student for s in homonyms] == ["ana_garcia_1234567", "ana_garcia_7654321"]
    assert all(s.status == "pendiente" and not s.doubt for s in homonyms)
    text = files["Íñigo Muñoz_55_assignsubmission_onlinetext/onlinetext.html"]
    assert text.status == "ignorado" and "texto en línea de Moodle" in text.notes[0] and not text.doubt
    alone = files["Begoña Peña_99_assignsubmission_onlinetext/onlinetext.html"]
    assert "sin ningún cuaderno" in alone.doubt  # she may have pasted her work there: the report says so


def test_several_notebooks_of_one_student_are_a_doubt_resolved_by_date(tmp_path):
    files = _intake(tmp_path, {
        "Ana García_1_assignsubmission_file/lab1_convolutions.ipynb": ("{}", NOV21),
        "Ana García_1_assignsubmission_file/borrador.ipynb": ("{}", NOV20),
        "Luis Ruiz_2_assignsubmission_file/lab1.ipynb": ("{}", NOV20),
        "Luis Ruiz_2_assignsubmission_file/lab1-1.ipynb": ("{}", NOV20),
    })
    newest = files["Ana García_1_assignsubmission_file/lab1_convolutions.ipynb"]
    draft = files["Ana García_1_assignsubmission_file/borrador.ipynb"]
    assert (newest.status, draft.status) == ("pendiente", "ignorado")  # newest by date, although "b" < "l"
    assert newest.doubt == draft.doubt and "varios cuadernos distintos" in newest.doubt
    assert files["Luis Ruiz_2_assignsubmission_file/lab1-1.ipynb"].status == "pendiente"
    assert not files["Luis Ruiz_2_assignsubmission_file/lab1.ipynb"].doubt  # numbered versions are not a doubt


def test_canvas_download_with_accents_late_and_anonymous(tmp_path):
    files = _intake(tmp_path, {
        "garcíaana_12345_67890_lab1.ipynb": ("{}", NOV20),
        "garcíaana_late_12345_67899_lab1-1.ipynb": ("{}", NOV21),
        "núñezíñigo_333_444_Copia de lab1_convolutions.ipynb": ("{}", NOV20),
        "anon_4242_9999_lab1.ipynb": ("{}", NOV20),
    })
    late = files["garcíaana_late_12345_67899_lab1-1.ipynb"]
    assert (late.student, late.status, late.doubt) == ("garciaana_12345", "pendiente", "")
    assert files["garcíaana_12345_67890_lab1.ipynb"].status == "ignorado"
    assert late.identity.name == "garcíaana" and late.identity.first_last() == (None, "garcíaana")
    assert files["núñezíñigo_333_444_Copia de lab1_convolutions.ipynb"].student == "nunezinigo_333"
    assert files["anon_4242_9999_lab1.ipynb"].identity.participant == "4242"


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
        assert (files[name].student, files[name].status) == (None, "ignorado")
        assert files[name].notes == [collect.Unidentified.LAB_NAME.value] and files[name].doubt
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
    assert (later.status, earlier.status) == ("pendiente", "ignorado")  # the most recent file, by date
    assert "«Ana García», «ana_garcia»" in later.doubt and later.doubt == earlier.doubt
    assert files["maria_lopez-1.ipynb"].status == "pendiente" and not files["maria_lopez-1.ipynb"].doubt
    report = grading.ClassResult("lab1_convolutions", tmp_path, [], sorted(files.values(), key=lambda f: f.name),
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

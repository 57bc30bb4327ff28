"""Safe intake: hostile zips are refused member by member, and identities never merge two students."""
import os
import zipfile

import pytest

from helpers.instructor import collect


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

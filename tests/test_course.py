import pytest

from helpers import course


def test_check_lab_names_every_lab_when_it_refuses_one():
    assert course.check_lab(course.LABS[0]) == course.LABS[0]
    with pytest.raises(ValueError) as refused:
        course.check_lab("lab9_gans")
    message = str(refused.value)
    assert "'lab9_gans' no es un laboratorio del curso" in message
    assert all(lab in message for lab in course.LABS) and ", ".join(course.LABS) in message


def test_existing_labs_keeps_the_course_order(tmp_path):
    for lab in (course.LABS[2], course.LABS[0]):
        course.lab_notebook("source", lab, tmp_path).parent.mkdir(parents=True)
        course.lab_notebook("source", lab, tmp_path).write_text("{}")
    assert course.existing_labs(tmp_path) == [course.LABS[0], course.LABS[2]]


def test_the_cache_follows_xdg_and_defaults_to_the_home_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert course.cache_dir() == tmp_path / "xdg" / "dl-curso"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert course.cache_dir() == tmp_path / ".cache" / "dl-curso"

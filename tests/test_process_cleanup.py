"""The grader's per-kernel process group (a cgroup when run as root), on a stand-in folder."""
import pytest

from helpers.instructor import sandbox


@pytest.fixture
def fake_cgroups(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "CGROUP_PIDS", tmp_path)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    return tmp_path


def test_as_root_a_fresh_group_caps_the_processes(fake_cgroups):
    a, b = sandbox.process_group(17), sandbox.process_group(5)
    assert a != b and a.parent == b.parent == fake_cgroups
    assert (a / "pids.max").read_text() == "17" and (b / "pids.max").read_text() == "5"


def test_an_ordinary_user_gets_no_group(fake_cgroups, monkeypatch):
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    assert sandbox.process_group(17) is None and list(fake_cgroups.iterdir()) == []


def test_removing_a_group_waits_for_its_last_processes(fake_cgroups, monkeypatch):
    group = fake_cgroups / "dlc-x"
    (group / "proceso").mkdir(parents=True)  # stands for a process still inside: rmdir fails
    waits = []

    def sleep(seconds):  # the process leaves during the third wait
        waits.append(seconds)
        if len(waits) == 3:
            (group / "proceso").rmdir()

    monkeypatch.setattr(sandbox.time, "sleep", sleep)
    sandbox.remove_process_group(group)
    assert not group.exists() and len(waits) == 3


def test_a_group_that_never_empties_is_left_without_an_error(fake_cgroups, monkeypatch):
    group = fake_cgroups / "dlc-y"
    (group / "proceso").mkdir(parents=True)
    waits = []
    monkeypatch.setattr(sandbox.time, "sleep", waits.append)
    sandbox.remove_process_group(group)
    assert group.exists() and 1 < len(waits) < 1000
    sandbox.remove_process_group(None)
    sandbox.remove_process_group(fake_cgroups / "ya-no-existe")

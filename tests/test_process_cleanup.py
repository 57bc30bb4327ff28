"""Removing a kernel's cgroup folder waits for its last processes, on a stand-in folder (the groups
themselves: test_resource_groups.py)."""
import pytest

from helpers.instructor import sandbox


@pytest.fixture
def fake_cgroups(tmp_path):
    return tmp_path


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

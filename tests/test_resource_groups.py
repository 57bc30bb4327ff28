"""Per-student resource shares: each sealed kernel, and all it starts, in a cgroup of its own with a memory
cap of ``--memory``, one core of CPU and a process cap; the per-process limits alone where cgroups cannot
be used."""
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from helpers.instructor import sandbox
from helpers.instructor.execute import REASONS

GIB = 2**30


def _cgroups_here() -> bool:
    group = sandbox.resource_group(sandbox.Limits(memory_gb=1))
    if group is not None:
        group.remove()
    return group is not None


needs_cgroups = pytest.mark.skipif(not _cgroups_here(), reason="sin cgroups escribibles (no root o solo lectura)")


def _client(tmp_path, *sources, memory_gb=1.0):
    """A notebook client for ``sources`` on a sealed kernel capped at ``memory_gb``."""
    sandbox.require()
    km = sandbox.SandboxedKernelManager(kernel_name="python3", data_dir=str(tmp_path), memory_gb=memory_gb)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    return NotebookClient(nb, km=km, timeout=120, startup_timeout=120), km


def _v1_cgroup(pid: int, controller: str) -> str:
    """The v1 cgroup path of host process ``pid`` for ``controller``."""
    for line in Path(f"/proc/{pid}/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(","):
            return path
    raise AssertionError(f"{pid} no tiene grupo de {controller}")


def _group_path(folder: Path, controller: str) -> str:
    return "/" + str(folder.relative_to(sandbox.CGROUP_ROOT / controller))


def _sleepers(group: sandbox.ResourceGroup) -> list[int]:
    procs = (group.folders[0] / "cgroup.procs").read_text().split()
    return [int(p) for p in procs if Path(f"/proc/{p}/cmdline").read_bytes() == b"sleep\x00600\x00"]


@pytest.mark.slow  # a sealed kernel, end to end
@needs_cgroups
def test_a_kernel_and_its_child_share_one_group_with_the_memory_cap_and_one_core(tmp_path):
    client, km = _client(tmp_path, "import subprocess\nchild = subprocess.Popen(['sleep', '600'])")
    with client.setup_kernel(cleanup_kc=True):
        client.execute_cell(client.nb.cells[0], 0)
        group = km.group
        assert group is not None and group.version in (1, 2)
        kernel = km.provisioner.process.pid  # the launcher, now bubblewrap: the kernel runs under it
        children = _sleepers(group)
        assert len(children) == 1  # the child the cell started, seen from the host
        if group.version == 1:
            memory, cpu = group.folders[0], group.folders[1]
            for pid in (kernel, children[0]):
                assert _v1_cgroup(pid, "memory") == _group_path(memory, "memory")
                assert _v1_cgroup(pid, "cpu") == _group_path(cpu, "cpu")
            assert int((memory / "memory.limit_in_bytes").read_text()) == GIB
            quota, period = (int((cpu / f"cpu.cfs_{n}_us").read_text()) for n in ("quota", "period"))
            assert quota == period  # one core
        else:
            procs = (group.folders[0] / "cgroup.procs").read_text().split()
            assert str(kernel) in procs and str(children[0]) in procs
            assert int((group.folders[0] / "memory.max").read_text()) == GIB
            quota, period = (group.folders[0] / "cpu.max").read_text().split()
            assert quota == period
    assert not any(folder.exists() for folder in group.folders)  # removed at shutdown
    assert not Path(f"/proc/{children[0]}").exists() or b"sleep" not in Path(f"/proc/{children[0]}/cmdline").read_bytes()


FILL = """
import subprocess, sys, time
for name in ('a', 'b'):  # 600 MiB of /tmp (two files: one may hold 512 MiB): a memory file system's pages
    with open(f'/tmp/relleno_{name}', 'wb') as f:
        for _ in range(300):
            f.write(b'x' * 2**20)
child = subprocess.run([sys.executable, '-c', "import time; b = b'y' * (600 * 2**20); time.sleep(5)"])
print('el hijo acabó con', child.returncode)
time.sleep(30)
print('sigue vivo')
"""


@pytest.mark.slow  # a sealed kernel, end to end
@needs_cgroups
def test_tmp_plus_a_child_beyond_the_cap_kills_the_kernel_and_is_reported_as_memory(tmp_path):
    client, km = _client(tmp_path, FILL)
    with pytest.raises(DeadKernelError):
        client.execute(cleanup_kc=True)
    group = km.group
    assert km.over_memory  # the cgroup, not RLIMIT_AS, stopped it
    assert "límite de memoria" in REASONS["DeadKernelError"]  # what the grader then writes for the cell
    assert not any(folder.exists() for folder in group.folders)
    outputs = str(client.nb.cells[0].get("outputs"))
    assert "sigue vivo" not in outputs and "MemoryError" not in outputs  # each process was under its 1 GiB


@needs_cgroups
def test_groups_of_dead_graders_are_removed_at_the_next_start():
    made = sandbox.resource_group(sandbox.Limits(memory_gb=1))
    gone = subprocess.Popen(["true"])
    gone.wait()
    stale = [folder.parent / f"{gone.pid}-abandonado" for folder in made.folders]
    alive = [folder.parent / f"{os.getpid()}-en-uso" for folder in made.folders]
    for folder in stale + alive:
        folder.mkdir()
    try:
        fresh = sandbox.resource_group(sandbox.Limits(memory_gb=1))
        fresh.remove()
        assert not any(folder.exists() for folder in stale)
        assert all(folder.exists() for folder in alive)  # its grader still runs: not touched
    finally:
        for folder in stale + alive + list(made.folders):
            sandbox.remove_process_group(folder)


def test_without_writable_cgroups_the_kernel_is_still_sealed_and_limited_per_process(tmp_path, monkeypatch,
                                                                                     caplog):
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", tmp_path / "no-existe")
    monkeypatch.setattr(sandbox, "_told", False)
    assert sandbox.resource_group(sandbox.Limits()) is None
    client, km = _client(tmp_path, "import os\nprint(os.getuid(), sorted(os.listdir('/')))\n"
                                   "print([l for l in open('/proc/self/limits') if 'address space' in l][0])")
    assert km.group is None
    assert "sin cgroups" in caplog.text and "RLIMIT_AS" in caplog.text  # said once, in Spanish
    assert sandbox.shares_note() is None
    client.execute(cleanup_kc=True)
    text = client.nb.cells[0].outputs[0]["text"]
    assert text.startswith(f"{sandbox.UID} ") and "'datos'" in text and "'trabajo'" in text and "'home'" not in text
    assert f"{GIB}" in text.splitlines()[1]


def test_an_ordinary_user_gets_no_group(monkeypatch):
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 1000)
    assert sandbox.resource_group(sandbox.Limits()) is None


def test_cgroup_v2_gets_the_cap_one_core_no_swap_and_a_kill_of_the_whole_group(tmp_path, monkeypatch):
    """On a stand-in v2 tree (files written as the kernel's would be); the real one is used where present."""
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    (tmp_path / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    group = sandbox.resource_group(sandbox.Limits(memory_gb=1.5, processes=64))
    assert group.version == 2 and group.folders[0].parent == tmp_path / sandbox.GROUP_PARENT
    read = lambda name: (group.folders[0] / name).read_text()  # noqa: E731
    assert (read("memory.max"), read("memory.swap.max"), read("memory.oom.group")) == (str(int(1.5 * GIB)), "0", "1")
    assert (read("cpu.max"), read("pids.max")) == ("100000 100000", "64")
    assert (tmp_path / "cgroup.subtree_control").read_text() == "+memory +cpu +pids"
    assert group.procs_files() == [str(group.folders[0] / "cgroup.procs")]
    (group.folders[0] / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n")
    assert group.oom_kills() == 2


def test_cgroup_v2_without_the_memory_controller_falls_back_to_v1(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "CGROUP_ROOT", tmp_path)
    monkeypatch.setattr(sandbox.os, "geteuid", lambda: 0)
    (tmp_path / "unified").mkdir()
    (tmp_path / "unified" / "cgroup.controllers").write_text("")  # as on a v1 machine: cgroup2 with nothing
    for controller, files in {"memory": ["memory.limit_in_bytes"], "cpu": ["cpu.cfs_quota_us"]}.items():
        (tmp_path / controller).mkdir()
        for name in ["cgroup.procs", *files]:
            (tmp_path / controller / name).write_text("")
    group = sandbox.resource_group(sandbox.Limits(memory_gb=2))
    assert group.version == 1 and [f.parent.parent.name for f in group.folders] == ["memory", "cpu"]  # no pids: fine
    assert (group.folders[0] / "memory.limit_in_bytes").read_text() == str(2 * GIB)
    assert (group.folders[1] / "cpu.cfs_quota_us").read_text() == "100000"
    assert group.procs_files() == [str(f / "cgroup.procs") for f in group.folders]


@pytest.mark.parametrize("cgroups", [False, pytest.param(True, marks=needs_cgroups)])
def test_course_grade_says_once_when_kernels_have_only_per_process_limits(tmp_path, monkeypatch, cgroups):
    from helpers.instructor import grading

    if not cgroups:
        monkeypatch.setattr(sandbox, "CGROUP_ROOT", tmp_path / "no-existe")
    monkeypatch.setattr(sandbox, "_told", False)
    said = []
    for _ in range(2):  # an empty folder: it stops right after the checks, before grading anything
        with pytest.raises(FileNotFoundError, match="No hay cuadernos"):
            grading.grade_class("lab1_convolutions", tmp_path, tmp_path / "trabajo", log=said.append)
    assert said == ([sandbox.NO_SHARES] if not cgroups else [])


@pytest.mark.slow  # a sealed kernel, end to end
@needs_cgroups
def test_the_grader_disables_the_cell_over_the_students_memory_and_runs_the_rest(tmp_path):
    from traitlets.config import Config

    from helpers.instructor.execute import RobustExecute
    from helpers.instructor.tamper import FINDINGS, INCIDENTS

    sandbox.require()
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in ("a = 20", FILL, "print(a + 22)")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    for i, cell in enumerate(nb.cells):
        cell.id = f"celda{i}"
    config = Config({"SandboxedKernelManager": {"memory_gb": 1.0, "data_dir": str(tmp_path)}})
    pre = RobustExecute(config=config, kernel_manager_class=sandbox.SandboxedKernelManager, timeout=120)
    out, _ = pre.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    incidents = out.metadata[FINDINGS][INCIDENTS]
    assert incidents == [{"cell": "celda1", "index": 1, "reason": REASONS["DeadKernelError"]}]
    assert "".join(o.get("text", "") for o in out.cells[2].outputs) == "42\n"

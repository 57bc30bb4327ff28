"""The full profile's dry run: every answer key runs the Colab code path, offline, cut to a few steps.

Each lab's answer key (hidden tests removed) runs with ``COURSE_PROFILE=full`` and
``COURSE_MAX_STEPS`` (the one switch that cuts training, see ``helpers.runtime.dry_run_steps``):
the real models, input sizes and batch sizes (but lab 5's, see ``helpers.budgets.DRY_RUN_BATCH``),
the real loaders reading the stand-ins from where the real datasets live (``datos/`` beside the
notebook), and no network, so the ImageNet weights fall back with the Spanish warning.
``make test-full`` runs this file alone; ``make test`` includes it.
"""
import json
import os
from pathlib import Path

import nbformat
import pytest

from helpers import standins
from helpers.course import LABS, ROOT, lab_notebook

pytestmark = pytest.mark.slow

DRY_RUN_STEPS = 2

#: Imported by every Python process of the dry run (the kernel): no network, and the stand-in
#: CIFAR-10 registered with torchvision as if it were the real download.
SITECUSTOMIZE = '''\
import json
import os
import socket

def _offline(*args, **kwargs):
    raise OSError("sin red: ensayo del perfil full sin conexión")

_connect = socket.socket.connect

def _connect_locally(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _offline()
    return _connect(self, address)

socket.create_connection = _offline
socket.socket.connect = _connect_locally

_md5 = json.loads(os.environ.get("DRY_RUN_CIFAR10_MD5", "{}"))
if _md5:
    from torchvision import datasets

    datasets.CIFAR10.train_list = [[name, _md5[name]] for name, _ in datasets.CIFAR10.train_list]
    datasets.CIFAR10.test_list = [[name, _md5[name]] for name, _ in datasets.CIFAR10.test_list]
    datasets.CIFAR10.meta = {**datasets.CIFAR10.meta, "md5": _md5[datasets.CIFAR10.meta["filename"]]}
'''

#: Labs that load ImageNet weights, which must fall back (offline) with the Spanish warning.
PRETRAINED = {"lab1_convolutions", "lab3_vgg16", "lab4_cifar10_transfer"}


def outputs_text(nb) -> str:
    """Everything the executed notebook printed (streams and text results)."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", "") or out.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture
def full_dry_run(tmp_path, monkeypatch):
    """A folder laid out like a Colab session with the data downloaded, and the dry run's environment."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    md5 = standins.place_as_real(tmp_path / "datos")  # the full profile's data root: ./datos
    for name in ("NBGRADER_EXECUTION", "COURSE_DATA", "COURSE_WORK"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("COURSE_MAX_STEPS", str(DRY_RUN_STEPS))
    monkeypatch.setenv("DRY_RUN_CIFAR10_MD5", json.dumps(md5))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))  # no cached ImageNet weights
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(site), str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return tmp_path


@pytest.mark.parametrize("lab", LABS)
def test_answer_key_runs_in_the_full_profile(lab, full_dry_run):
    from nbclient import NotebookClient

    from helpers.instructor.build import answer_key, with_header
    from helpers.instructor.nbgrader_io import read_notebook

    nb = with_header(answer_key(read_notebook(lab_notebook("source", lab))), lab, "solutions")
    for extra in lab_notebook("source", lab).parent.iterdir():  # data files beside the notebook
        if extra.is_file() and extra.suffix != ".ipynb":
            (full_dry_run / extra.name).write_bytes(extra.read_bytes())
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(full_dry_run)}}).execute()
    finally:  # what ran, with each cell's outputs and timing, to read when it fails
        nbformat.write(nb, str(full_dry_run / f"{lab}.ipynb"))
    printed = outputs_text(nb)
    assert f"Perfil 'full' en ensayo (COURSE_MAX_STEPS={DRY_RUN_STEPS})" in printed
    if lab in PRETRAINED:
        assert "sin pesos de ImageNet porque no se pudieron descargar" in printed

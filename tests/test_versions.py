"""The torch and torchvision floors that pyproject.toml declares cover every newer API the course calls.

PyTorch's floor itself is not installed here (PyPI's torch 2.3 is a CUDA build of several GB): what is
checked is that each API below is still called where it says, that the floor is at least the release
that introduced it, and that the torch the tests run with meets the floor.
"""
import re
import tomllib

import torch
import torchvision

from helpers.course import ROOT

#: A newer API the course calls -> (where it is called, the first torch or torchvision release with it).
NEEDS = {
    'torch.amp.GradScaler("cuda"': ("helpers/training.py", "torch", (2, 3)),  # the device argument
    "from torch.overrides import TorchFunctionMode": ("helpers/checks.py", "torch", (2, 0)),
    "weights_only=": ("helpers/training.py", "torch", (1, 13)),
    "torchvision.models.get_model_weights": ("helpers/models.py", "torchvision", (0, 14)),
    "torchvision.models.get_model(": ("helpers/models.py", "torchvision", (0, 14)),
}
#: torchvision's release built for each torch release the floor may name.
TORCHVISION_FOR = {(2, 3): (0, 18)}


def _version(text: str) -> tuple[int, int]:
    major, minor = re.match(r"(\d+)\.(\d+)", text).groups()
    return int(major), int(minor)


def floors() -> dict[str, tuple[int, int]]:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {m.group(1): _version(m.group(2)) for d in deps if (m := re.fullmatch(r"(torch|torchvision)>=([\d.]+)", d))}


def test_the_floors_cover_every_api_the_course_calls():
    declared = floors()
    for api, (path, package, first) in NEEDS.items():
        assert api in (ROOT / path).read_text(), f"{api} ya no está en {path}: actualiza NEEDS"
        assert declared[package] >= first, f"{api} necesita {package} {first}; pyproject.toml pide {declared[package]}"
    assert declared["torchvision"] >= TORCHVISION_FOR[declared["torch"]]


def test_the_torch_the_tests_run_with_meets_the_floor():
    declared = floors()
    assert _version(torch.__version__) >= declared["torch"]
    assert _version(torchvision.__version__) >= declared["torchvision"]

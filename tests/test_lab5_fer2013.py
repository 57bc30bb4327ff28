"""Lab 5's answer key, checked against parameter counts derived by hand (so the numbers its tests
hard-code are right), plus the schedule and the profile's budget."""
import nbformat
import pytest
import torch

from helpers import budgets, models  # noqa: F401 (models sets TORCHINDUCTOR_CACHE_DIR on import: here, not in a test)
from helpers.course import lab_notebook
from fixture_scope import shared


@pytest.fixture(scope=shared)
def key():
    nb = nbformat.read(str(lab_notebook("source", "lab5_fer2013")), as_version=4)
    namespace = {}
    exec("import torch\nimport torch.nn as nn\nfrom helpers.data import random_crop_flip", namespace)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and cell.cell_type == "code":
            exec(cell.source, namespace)
    return namespace


def count(model):
    return sum(p.numel() for p in model.parameters())


def densenet_by_hand(depth, k, theta, classes=7):
    layers, channels = (depth - 4) // 8, 2 * k
    total = 9 * channels  # stem conv, one input channel
    for block in range(4):
        for _ in range(layers):
            total += 2 * channels + channels * 4 * k + 2 * 4 * k + 4 * k * k * 9
            channels += k
        if block < 3:
            out = (channels * int(theta * 10)) // 10
            total += 2 * channels + channels * out
            channels = out
    return total + 2 * channels + channels * classes + classes


def resnet_v1_by_hand(depth, classes=7):
    n, total, channels = (depth - 2) // 6, 9 * 16 + 32, 16
    for stage, width in enumerate((16, 32, 64)):
        for i in range(n):
            total += channels * width * 9 + width * width * 9 + 4 * width
            if channels != width:
                total += channels * width
            channels = width
    return total + 64 * classes + classes


def resnet_v2_by_hand(depth, classes=7):
    n, total, channels, mid = (depth - 2) // 9, 9 * 16 + 32, 16, 16
    for stage in range(3):
        out = 4 * mid if stage == 0 else 2 * mid
        for i in range(n):
            total += (0 if stage == 0 and i == 0 else 2 * channels)
            total += channels * mid + 2 * mid + mid * mid * 9 + 2 * mid + mid * out
            if channels != out or i == 0 and stage > 0:
                total += channels * out
            channels = out
        mid = out
    return total + 2 * channels + channels * classes + classes


@pytest.mark.parametrize("depth,k,theta", [(100, 12, 0.3), (100, 12, 0.5), (100, 12, 0.7), (28, 8, 0.5),
                                           (52, 16, 0.7), (20, 6, 1.0)])
def test_densenet_parameters_match_the_hand_count(key, depth, k, theta):
    assert count(key["DenseNetBC"](depth, k, theta)) == densenet_by_hand(depth, k, theta)


@pytest.mark.parametrize("depth", [8, 20, 32, 56, 104])
def test_resnet_v1_parameters_match_the_hand_count(key, depth):
    assert count(key["ResNetV1"](depth)) == resnet_v1_by_hand(depth)


@pytest.mark.parametrize("depth", [11, 20, 29, 47, 155])
def test_resnet_v2_parameters_match_the_hand_count(key, depth):
    assert count(key["ResNetV2"](depth)) == resnet_v2_by_hand(depth)


def test_invalid_depths_raise(key):
    for builder, bad in [("DenseNetBC", 40), ("ResNetV1", 100), ("ResNetV2", 150)]:
        with pytest.raises(ValueError):
            key[builder](bad)


def test_schedule_matches_the_original_and_scales(key):
    lr = key["lr_schedule"]
    assert [lr(e) for e in (0, 80, 81, 121, 161, 181)] == pytest.approx([1e-3, 1e-3, 1e-4, 1e-5, 1e-6, 5e-7])
    assert [lr(e, 40) for e in (16, 17, 25, 33, 37)] == pytest.approx([1e-3, 1e-4, 1e-5, 1e-6, 5e-7])


def test_the_smoke_budget_models_run_and_output_seven_classes(key):
    b = budgets.fer_budget()
    models = [key["DenseNetBC"](b.densenet_depth, 12, 0.5), key["ResNetV1"](b.resnet_v1_depth),
              key["ResNetV2"](b.resnet_v2_depth)]
    with torch.no_grad():
        for m in models:
            assert m.eval()(torch.rand(2, 1, 48, 48)).shape == (2, 7)


def _first_code_after_setup(nb):
    """Lab 5's imports cell: the first code cell after the setup cell, the one that checks the GPU."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return code[1].source


@pytest.mark.parametrize("folder", ["source", "release"])
def test_the_full_profile_without_a_gpu_stops_at_the_imports_cell_in_spanish(folder, monkeypatch):
    from helpers import checks

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("NBGRADER_EXECUTION", "COURSE_MAX_STEPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    nb = nbformat.read(str(lab_notebook(folder, "lab5_fer2013")), as_version=4)
    with pytest.raises(checks.SinGPU, match="GPU T4"):
        exec(_first_code_after_setup(nb), {})
    monkeypatch.setenv("COURSE_PROFILE", "smoke")  # grading runs the same cell on the CPU
    namespace = {}
    exec(_first_code_after_setup(nb), namespace)
    assert namespace["presupuesto"] == budgets.fer_budget()

import dataclasses

import pytest

from helpers import budgets
from helpers.runtime import profile


@pytest.fixture
def both(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    smoke = budgets.fer_budget()
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    return smoke, budgets.fer_budget(profile())


def test_full_trains_deeper_models_longer_on_everything(both):
    smoke, full = both
    assert full.epochs > smoke.epochs and full.batch_size > smoke.batch_size
    assert full.max_batches is None and full.eval_size is None
    assert smoke.max_batches and smoke.eval_size
    assert (full.densenet_depth > smoke.densenet_depth and full.resnet_v1_depth > smoke.resnet_v1_depth
            and full.resnet_v2_depth > smoke.resnet_v2_depth)
    assert full.seconds_per_epoch_estimate and smoke.seconds_per_epoch_estimate is None


def test_the_default_profile_is_the_active_one(both, monkeypatch):
    smoke, full = both
    assert budgets.fer_budget() == full
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    assert budgets.fer_budget() == smoke == budgets.fer_budget(profile())


def test_depths_are_valid_for_the_architectures(both):
    # DenseNet-BC with 4 blocks: 8n + 4; ResNet v1: 6n + 2; ResNet v2: 9n + 2 (n ≥ 1)
    for b in both:
        assert b.densenet_depth > 4 and (b.densenet_depth - 4) % 8 == 0
        assert b.resnet_v1_depth > 2 and (b.resnet_v1_depth - 2) % 6 == 0
        assert b.resnet_v2_depth > 2 and (b.resnet_v2_depth - 2) % 9 == 0


def test_describe_names_what_each_budget_trains(both):
    for b in both:
        line = b.describe()
        for depth in (b.densenet_depth, b.resnet_v1_depth, b.resnet_v2_depth, b.batch_size):
            assert str(depth) in line
    smoke, full = both
    assert "todos los lotes" in full.describe() and "todas las imágenes" in full.describe()
    assert f"{smoke.eval_size} imágenes" in smoke.describe()


def test_describe_wording_follows_the_numbers():
    base = budgets.FerBudget(epochs=1, batch_size=8, max_batches=1, densenet_depth=12, resnet_v1_depth=8,
                             resnet_v2_depth=11, eval_size=16, seconds_per_epoch_estimate=None)
    assert base.describe().startswith("1 época de un lote de 8 imágenes; DenseNet-BC-12, ResNet v1-8 y ResNet v2-11")
    assert "Estimación" not in base.describe()
    assert dataclasses.replace(base, max_batches=None).describe().startswith("1 época de todos los lotes de 8 imágenes")
    several = dataclasses.replace(base, epochs=4, max_batches=5, eval_size=None, seconds_per_epoch_estimate=90.0)
    line = several.describe()
    assert line.startswith("4 épocas de como máximo 5 lotes de 8 imágenes")
    assert "se evalúan todas las imágenes" in line
    assert "unos 6 min por modelo" in line  # 4 epochs × 90 s
    assert "unos 45 min" in dataclasses.replace(several, epochs=30).describe()

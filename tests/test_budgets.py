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
    assert full.t4_minutes_estimate and smoke.t4_minutes_estimate is None


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
                             resnet_v2_depth=11, eval_size=16, t4_minutes_estimate=None)
    assert base.describe().startswith("1 época de un lote de 8 imágenes; DenseNet-BC-12, ResNet v1-8 y ResNet v2-11")
    assert "Estimación" not in base.describe()
    assert dataclasses.replace(base, max_batches=None).describe().startswith("1 época de todos los lotes de 8 imágenes")
    several = dataclasses.replace(base, epochs=4, max_batches=5, eval_size=None, t4_minutes_estimate=61.4)
    line = several.describe()
    assert line.startswith("4 épocas de como máximo 5 lotes de 8 imágenes")
    assert "se evalúan todas las imágenes" in line
    assert "Estimación (no medida)" in line and "unos 61 min por modelo" in line


def test_full_fer_epochs_fit_a_free_colab_session_with_the_margin(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    epochs = budgets.fer_full_epochs()
    t4 = sum(epochs * budgets.fer_seconds_per_epoch(m.name) + budgets.fer_test_seconds(m.name)
             for m in budgets.FER_MODELS) / budgets.T4_ESTIMATE_FACTOR
    t4_one_more = t4 + sum(budgets.fer_seconds_per_epoch(m.name) for m in budgets.FER_MODELS) / budgets.T4_ESTIMATE_FACTOR
    session = budgets.COLAB_SESSION_HOURS * 3600 / budgets.SESSION_MARGIN
    assert 1 <= epochs <= budgets.ORIGINAL_EPOCHS and t4 <= session
    assert epochs == budgets.ORIGINAL_EPOCHS or t4_one_more > session  # the most that fit
    assert budgets.fer_budget().epochs == epochs
    table = budgets.fer_budget_table()
    assert all(m.name in table for m in budgets.FER_MODELS) and "estimación" in table and f"{epochs} épocas" in table


def test_a_dry_run_keeps_the_full_networks_and_cuts_epochs_and_batches(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    full = budgets.fer_budget()
    monkeypatch.setenv("COURSE_MAX_STEPS", "2")
    dry = budgets.fer_budget()
    assert (dry.epochs, dry.max_batches, dry.batch_size) == (1, 2, full.batch_size)
    assert (dry.densenet_depth, dry.resnet_v1_depth, dry.resnet_v2_depth, dry.eval_size) == (
        full.densenet_depth, full.resnet_v1_depth, full.resnet_v2_depth, None)

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


def test_a_dry_run_keeps_the_full_networks_and_cuts_epochs_batches_and_images(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    full = budgets.fer_budget()
    monkeypatch.setenv("COURSE_MAX_STEPS", "2")
    dry = budgets.fer_budget()
    assert (dry.epochs, dry.max_batches, dry.batch_size, dry.eval_size) == (1, 2, budgets.DRY_RUN_BATCH,
                                                                              budgets.DRY_RUN_EVAL)
    assert (full.batch_size, full.eval_size) == (64, None) and 64 > budgets.DRY_RUN_BATCH
    assert (dry.densenet_depth, dry.resnet_v1_depth, dry.resnet_v2_depth) == (
        full.densenet_depth, full.resnet_v1_depth, full.resnet_v2_depth)


@pytest.fixture
def round_numbers(monkeypatch):
    """Every model takes 1 s per training batch and 10 s per evaluation batch, and the T4 is as fast."""
    monkeypatch.setattr(budgets, "MEASURED", {m.name: (1.0, 10.0) for m in budgets.FER_MODELS})
    monkeypatch.setattr(budgets, "T4_ESTIMATE_FACTOR", 1.0)


def test_seconds_count_the_batches_of_the_real_fer_split(round_numbers):
    # FER-2013: 28 709 training faces, a tenth (2 870) kept for validation, 7 178 test faces;
    # training batches of 64 (404 of them), evaluation batches of 256 (12 validation, 29 test)
    name = budgets.FER_MODELS[0].name
    assert budgets.fer_seconds_per_epoch(name) == 404 * 1.0 + 12 * 10.0
    assert budgets.fer_test_seconds(name) == 29 * 10.0


def test_epochs_are_the_most_that_fit_after_the_final_tests(round_numbers):
    # five models: 2 620 s per epoch and 1 450 s of tests; a third of 12 h is 14 400 s, so 4 epochs
    # (4 · 2 620 + 1 450 = 11 930 s) fit and 5 (14 550 s) do not
    assert budgets.fer_full_epochs() == 4
    table = budgets.fer_budget_table()
    assert "| 4 épocas y la prueba en una T4 (estimación) |\n|---|---:|---:|---:|" in table
    row = f"| {budgets.FER_MODELS[0].name} | 524 | 524 | 40 min |"  # (4 · 524 + 290) s = 39,8 min
    assert row in table
    assert "**199 min** de los 720 de una sesión (margen ×3.6)" in table
    assert "las 4 épocas son las que caben para que" in table


def test_full_budget_trains_at_the_measured_batch_size_and_states_the_slowest_model(round_numbers, monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_MAX_STEPS", raising=False)
    full = budgets.fer_budget(profile())
    assert full.batch_size == budgets.fer_plan().batch_size == 64  # what bench_budgets timed
    assert full.t4_minutes_estimate == pytest.approx((4 * 524 + 290) / 60)  # every model alike here


def test_a_t4_ten_times_faster_divides_every_estimate_by_ten(round_numbers, monkeypatch):
    monkeypatch.setattr(budgets, "T4_ESTIMATE_FACTOR", 10.0)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_MAX_STEPS", raising=False)
    # two epochs of 524 s and 290 s of tests on the CPU: (2 · 524 + 290) / 10 = 133,8 s on the T4
    row = f"| {budgets.FER_MODELS[0].name} | 524 | 52 | 2 min |"
    table = budgets.fer_budget_table(epochs=2)
    assert row in table and "**11 min** de los 720 de una sesión (margen ×64.6)" in table  # 5 · 133,8 = 669 s
    # 54 epochs fit: 54 · 262 + 145 = 14 293 s of the 14 400 in a third of the session
    full = budgets.fer_budget(profile())
    assert full.epochs == 54 and full.t4_minutes_estimate == pytest.approx((54 * 524 + 290) / 10 / 60)
    assert "unos 48 min por modelo" in full.describe()


def test_on_a_machine_too_slow_for_one_epoch_the_budget_still_trains_one_and_says_it_does_not_fit(monkeypatch):
    monkeypatch.setattr(budgets, "MEASURED", {m.name: (20.0, 200.0) for m in budgets.FER_MODELS})
    monkeypatch.setattr(budgets, "T4_ESTIMATE_FACTOR", 1.0)
    # a model's epoch: 404 · 20 + 12 · 200 = 10 480 s, its tests 29 · 200 = 5 800 s: five of them overflow the session
    assert budgets.fer_full_epochs() == 1
    table = budgets.fer_budget_table()
    assert f"| {budgets.FER_MODELS[0].name} | 10 480 | 10 480 | 271 min |" in table  # thousands the Spanish way
    assert "**1 357 min** de los 720 de una sesión (margen ×0.5)" in table
    assert "| 1 época y la prueba en una T4 (estimación) |" in table and "1 época es lo que cabe para que" in table

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


def test_full_fer_epochs_fit_the_whole_lab_in_one_sitting_even_on_a_slower_t4(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    epochs = budgets.fer_full_epochs()
    t4 = sum(epochs * budgets.fer_seconds_per_epoch(m.name) + budgets.fer_test_seconds(m.name)
             for m in budgets.FER_MODELS) / budgets.T4_ESTIMATE_FACTOR / 60
    one_more = t4 + sum(budgets.fer_seconds_per_epoch(m.name) for m in budgets.FER_MODELS) / budgets.T4_ESTIMATE_FACTOR / 60
    worst = budgets.T4_UNCERTAINTY * t4 + budgets.REST_OF_LAB_MINUTES
    assert budgets.LAB_GPU_MINUTES <= 90 and budgets.T4_UNCERTAINTY >= 2  # issue 27: under 90 min, an estimate
    assert 1 <= epochs <= budgets.ORIGINAL_EPOCHS and worst <= budgets.LAB_GPU_MINUTES
    assert budgets.T4_UNCERTAINTY * one_more + budgets.REST_OF_LAB_MINUTES > budgets.LAB_GPU_MINUTES  # the most that fit
    assert budgets.fer_budget().epochs == epochs and budgets.fer_t4_minutes(epochs) == pytest.approx(t4)
    table = budgets.fer_budget_table()
    assert all(m.name in table for m in budgets.FER_MODELS) and "estimaciones, no medidas" in table
    assert f"Por eso se entrenan {epochs} épocas" in table


def test_the_students_table_shows_t4_minutes_and_nothing_about_the_instructors_machine():
    table = budgets.fer_budget_table()
    for internal in ("CPU", "EPYC", "bench", "núcleos", "no teníamos", budgets.MEASURED_ON):
        assert internal not in table


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


def test_epochs_are_the_most_that_fit_in_one_sitting_counting_the_tests_and_the_rest(round_numbers, monkeypatch):
    monkeypatch.setattr(budgets, "T4_ESTIMATE_FACTOR", 10.0)
    # each model: 524 s per epoch and 290 s of tests on the measured machine, a tenth of that on the T4;
    # 8 epochs: 5 · (8 · 524 + 290) / 10 = 2 241 s = 37,35 min, twice that plus 10 min = 84,7 ≤ 90;
    # 9 epochs: twice 41,7 min plus 10 = 93,4 > 90
    assert budgets.fer_full_epochs() == 8
    assert budgets.fer_worst_case_minutes(8) == pytest.approx(84.7)
    table = budgets.fer_budget_table()
    assert "| modelo | min por época en una T4 (estimación) | 8 épocas y la prueba en una T4 (estimación) |\n|---|---:|---:|" in table
    assert f"| {budgets.FER_MODELS[0].name} | 0,9 | 7,5 min |" in table  # 52,4 s per epoch; (8 · 524 + 290) / 10 s
    assert "| **los cinco** | | **37 min** |" in table
    assert "el entrenamiento (75 min) y unos 10 min para el resto del cuaderno suman 85 min, por debajo de los 90" in table
    assert "Por eso se entrenan 8 épocas." in table


def test_full_budget_trains_at_the_measured_batch_size_and_states_the_slowest_model(round_numbers, monkeypatch):
    monkeypatch.setattr(budgets, "T4_ESTIMATE_FACTOR", 10.0)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("COURSE_MAX_STEPS", raising=False)
    full = budgets.fer_budget(profile())
    assert full.batch_size == budgets.fer_plan().batch_size == 64  # what bench_budgets timed
    assert full.epochs == 8 and full.t4_minutes_estimate == pytest.approx((8 * 524 + 290) / 10 / 60)
    assert "unos 7 min por modelo" in full.describe()


def test_a_t4_twice_as_fast_trains_more_epochs_in_the_same_sitting(round_numbers, monkeypatch):
    monkeypatch.setattr(budgets, "T4_ESTIMATE_FACTOR", 20.0)
    # twice 5 · (n · 524 + 290) / 20 / 60 min plus 10 must stay ≤ 90: n · 524 + 290 ≤ 9 600, n = 17
    assert budgets.fer_full_epochs() == 17
    monkeypatch.setattr(budgets, "T4_UNCERTAINTY", 4.0)  # a less trusted estimate: half the epochs or so
    assert budgets.fer_full_epochs() == 8


def test_on_a_machine_too_slow_for_one_epoch_the_budget_still_trains_one_and_says_it_does_not_fit(monkeypatch):
    monkeypatch.setattr(budgets, "MEASURED", {m.name: (20.0, 200.0) for m in budgets.FER_MODELS})
    monkeypatch.setattr(budgets, "T4_ESTIMATE_FACTOR", 1.0)
    # a model's epoch: 404 · 20 + 12 · 200 = 10 480 s, its tests 29 · 200 = 5 800 s: far over 90 min
    assert budgets.fer_full_epochs() == 1
    table = budgets.fer_budget_table()
    assert f"| {budgets.FER_MODELS[0].name} | 175 | 271 min |" in table  # minutes the Spanish way
    assert "| **los cinco** | | **1 357 min** |" in table  # thousands separated by a space
    assert "por encima de los 90 min" in table and "Por eso se entrena 1 época." in table

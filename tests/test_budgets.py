from helpers import budgets
from helpers.runtime import profile


def test_fer_budget_follows_the_profile(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    smoke = budgets.fer_budget()
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    full = budgets.fer_budget(profile())
    assert (full.densenet_depth, full.resnet_v1_depth, full.resnet_v2_depth) == (100, 104, 155)
    assert full.max_batches is None and full.eval_size is None and full.epochs > smoke.epochs
    assert smoke.max_batches and smoke.eval_size and smoke.densenet_depth < 100
    # the depths are valid for DenseNet-BC with 4 blocks and ResNet v1 (6n+2) / v2 (9n+2)
    for b in (smoke, full):
        assert (b.densenet_depth - 4) % 8 == 0 and (b.resnet_v1_depth - 2) % 6 == 0 and (b.resnet_v2_depth - 2) % 9 == 0
    assert "épocas" in full.describe() and "155" in full.describe()


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
    monkeypatch.setenv("COURSE_MAX_STEPS", "2")
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    dry = budgets.fer_budget()
    assert (dry.epochs, dry.max_batches, dry.batch_size) == (1, 2, 64)
    assert (dry.densenet_depth, dry.resnet_v1_depth, dry.resnet_v2_depth, dry.eval_size) == (100, 104, 155, None)

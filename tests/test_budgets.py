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

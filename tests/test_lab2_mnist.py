"""Lab 2 (MNIST) helpers: the smoke-epoch option it relies on."""
from helpers import runtime


def test_epochs_can_ask_for_more_smoke_epochs(monkeypatch):
    smoke = runtime.profile()
    assert smoke.epochs(full=10) == 1 and smoke.epochs(full=10, smoke=6) == 6
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert runtime.profile().epochs(full=10, smoke=6) == 10

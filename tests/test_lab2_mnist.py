"""Helpers options Lab 2 (MNIST) relies on: more smoke epochs, one CPU thread in smoke."""
import torch

from helpers import runtime


def test_epochs_can_ask_for_more_smoke_epochs(monkeypatch):
    smoke = runtime.profile()
    assert smoke.epochs(full=10) == 1 and smoke.epochs(full=10, smoke=6) == 6
    monkeypatch.setenv("COURSE_PROFILE", "full")
    assert runtime.profile().epochs(full=10, smoke=6) == 10


def test_smoke_profile_uses_one_cpu_thread():
    runtime.profile()
    assert torch.get_num_threads() == runtime.SMOKE_THREADS

"""Lab 2's (MNIST) answer key, checked against what PyTorch and ``helpers`` compute on their own, so the
numbers its visible tests hard-code (669,706 and 61,706 parameters, 5×5 maps...) are right."""
import ast
import sys
import types

import nbformat
import pytest
import torch
from torch import nn

from helpers import evaluation, models
from helpers.course import lab_notebook
from helpers.data import TensorLoader
from helpers.instructor import exercises
from fixture_scope import shared

SETUP = """
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.optim as optim
from torch.utils.data import DataLoader
"""
#: the solution cells that define functions and classes (the others train on the whole dataset)
DEFINITIONS = ("mlp", "train_epoch", "save_load", "evaluate_accuracy", "cnn", "param_counts", "feature_sizes",
               "most_confused")


@pytest.fixture(scope=shared)
def key():
    nb = nbformat.read(str(lab_notebook("source", "lab2_mnist")), as_version=4)
    namespace = {}
    exec(SETUP, namespace)
    cells = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}
    for grade_id in DEFINITIONS:
        exec(cells[grade_id].source, namespace)
    return namespace


def test_parameter_formulas_match_pytorch(key):
    rng = torch.Generator().manual_seed(0)
    for _ in range(20):
        a, b, k = (int(v) for v in torch.randint(1, 40, (3,), generator=rng))
        assert key["linear_params"](a, b) == models.count_parameters(nn.Linear(a, b))
        assert key["conv_params"](a, b, k % 7 + 1) == models.count_parameters(nn.Conv2d(a, b, k % 7 + 1))
    assert key["params_mlp"] == models.count_parameters(key["MultiLayerNN"]())
    assert key["params_cnn"] == models.count_parameters(key["CNN"]())


def test_both_networks_map_a_batch_of_digits_to_ten_scores(key):
    x = torch.randn(3, 1, 28, 28)
    with torch.no_grad():
        for net in (key["MultiLayerNN"](), key["CNN"]()):
            out = net(x)
            assert out.shape == (3, 10)
            assert torch.allclose(net(x[1:2]), out[1:2], atol=1e-6)  # images in a batch do not mix


@pytest.mark.parametrize("side", [28, 32, 40])
def test_feature_sizes_match_the_cnn_layers(key, side):
    cnn = key["CNN"]()
    stages = [m for m in cnn.modules() if isinstance(m, (nn.Conv2d, nn.MaxPool2d))]
    x, measured = torch.zeros(1, 1, side, side), {}
    with torch.no_grad():
        for name, stage in zip(("conv1", "pool1", "conv2", "pool2"), stages):
            y = stage(torch.relu(x) if isinstance(stage, nn.MaxPool2d) else x)
            measured[name] = (x.shape[-1], y.shape[-1], y.shape[1])
            x = y
    assert key["cnn_feature_sizes"](side) == measured


def test_most_confused_pair_is_the_largest_off_diagonal_count(key):
    rng = torch.Generator().manual_seed(3)
    for k in (2, 5, 10):
        cm = torch.randperm(k * k, generator=rng).reshape(k, k) + torch.diag(torch.full((k,), 1000))
        off = [(int(cm[i, j]), (i, j)) for i in range(k) for j in range(k) if i != j]
        assert tuple(key["most_confused_pair"](cm)) == max(off)[1]


def test_evaluate_accuracy_agrees_with_the_helpers(key):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 10))
    x, y = torch.randn(2500, 1, 4, 4), torch.randint(0, 10, (2500,))
    overall, per_digit = key["evaluate_accuracy"](model, torch.utils.data.TensorDataset(x, y))
    pred, true = evaluation.predict(model, TensorLoader(x, y, batch_size=500, device="cpu"), "cpu")
    assert overall == pytest.approx(evaluation.accuracy(pred, true))
    assert per_digit == pytest.approx(evaluation.per_class_accuracy(pred, true, 10).tolist())


def test_train_epoch_returns_one_loss_per_batch_and_learns(key):
    torch.manual_seed(0)
    x = torch.randn(64, 1, 4, 4)
    y = (x.flatten(1)[:, 0] > 0).long()
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 2))
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    loader = TensorLoader(x, y, batch_size=16, device="cpu")
    losses = [key["train_epoch"](model, loader, nn.CrossEntropyLoss(), opt) for _ in range(5)]
    assert [len(epoch) for epoch in losses] == [4] * 5
    assert sum(losses[-1]) < 0.5 * sum(losses[0])


def test_saved_weights_load_into_a_new_model(key, tmp_path):
    model = key["CNN"]()
    key["save_weights"](model, tmp_path / "cnn.pth")
    copy = key["load_weights"](key["CNN"], tmp_path / "cnn.pth")
    assert copy is not model
    x = torch.randn(2, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(copy(x), model(x))


def _source_cells():
    nb = nbformat.read(str(lab_notebook("source", "lab2_mnist")), as_version=4)
    return nb, {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells}


def test_training_the_cnn_needs_no_answer_of_the_mlp_exercises():
    """The loss both networks share is given, so an unfinished MLP (exercise 3.2) cannot break the CNN's
    training or its test: they use answers of the CNN's own exercises and train_epoch, nothing else."""
    nb, cells = _source_cells()
    defined = exercises.defined_by(nb)
    training = [c for c in nb.cells if c.cell_type == "code" and "run_epochs(" in c.source and "model_cnn" in c.source]
    assert len(training) == 1
    used = {node.id for cell in (training[0], cells["test_train_cnn"]) for node in ast.walk(ast.parse(cell.source))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}
    titles = {defined[name] for name in ("train_epoch", "CNN", "model_cnn")}
    assert {name: defined[name] for name in used if name in defined} == {
        "train_epoch": defined["train_epoch"], "CNN": defined["CNN"], "model_cnn": defined["model_cnn"],
        "optimizer_cnn": defined["optimizer_cnn"]}
    assert len(titles) == 3 and "criterion" not in defined and "criterion" in used


WHOLE_MODEL = """
def save_weights(model, path):
    torch.save(model, path)


def load_weights(model_class, path, device="cpu"):
    return torch.load(path, map_location=device, weights_only=False).to(device)
"""


@pytest.fixture
def save_load_test(monkeypatch):
    """A runner for test_save_load's cell (visible and hidden parts) with the key, or with ``answer`` instead,
    in a module of its own as in a notebook's kernel (so that a whole model can be pickled by reference)."""
    _, cells = _source_cells()

    def run(answer=None):
        kernel = types.ModuleType("cuaderno_lab2")
        monkeypatch.setitem(sys.modules, kernel.__name__, kernel)
        namespace = kernel.__dict__
        exec(SETUP + cells["mlp"].source + "\n" + cells["save_load"].source, namespace)
        exec("from helpers import checks\nfrom helpers.models import saved_kind\nimport types\n"
             "perfil = types.SimpleNamespace(device=torch.device('cpu'))\nmodel_mlp = MultiLayerNN()", namespace)
        if answer is not None:
            exec(answer, namespace)
        exec(cells["test_save_load"].source, namespace)
    return run


def test_saving_the_whole_model_fails_with_its_own_spanish_message(save_load_test, monkeypatch):
    from helpers import checks

    monkeypatch.setattr(checks, "_recording", False)
    save_load_test()  # the key passes
    with pytest.raises(AssertionError) as failed:
        save_load_test(WHOLE_MODEL)  # torch.load's English UnpicklingError never comes first
    assert type(failed.value) is checks.CheckFailed  # a check's verdict, not torch's error
    assert "¿guardaste el modelo entero con torch.save(model)?" in str(failed.value)
    assert "torch.save(model.state_dict(), path)" in str(failed.value)
    nothing = "def save_weights(model, path):\n    pass\n"
    with pytest.raises(AssertionError, match="save_weights no escribió el archivo"):
        save_load_test(nothing)


def test_when_graded_saving_the_whole_model_is_recorded_as_a_failed_check_not_an_error(save_load_test, monkeypatch):
    """The grader shows a cell's error before any check: the cell must record the failure and raise nothing."""
    from helpers import checks

    records = []
    monkeypatch.setattr(checks, "_recording", True)
    monkeypatch.setattr(checks, "_record", lambda kind, value, expected, what, hint, **_: records.append((kind, value, what)))
    save_load_test(WHOLE_MODEL)
    assert records[0][:2] == ("true", False) and "modelo entero" in records[0][2]
    records.clear()
    save_load_test()
    assert records and all(value is not False for kind, value, _ in records if kind == "true")

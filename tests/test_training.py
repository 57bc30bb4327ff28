import dataclasses
import io
import time
import zipfile

import pytest
import torch
from torch import nn

from helpers import checks, evaluation, models, seed_everything, training
from helpers.data import TensorLoader, load_cifar10
from helpers.runtime import profile


def small_cnn():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(4),
                         nn.Flatten(), nn.Linear(8 * 8 * 8, 10))


def test_fit_lowers_the_loss_on_the_cifar_standin():
    seed_everything(0)
    full = TensorLoader.from_dataset(load_cifar10(train=True), device="cpu")
    loader = TensorLoader(full.images[:400], full.labels[:400], batch_size=50, shuffle=True, device="cpu")
    model = small_cnn()
    loss_fn = nn.CrossEntropyLoss()
    before, _ = evaluation.evaluate(model, loader, loss_fn)
    history = training.fit(model, loader, loss_fn, torch.optim.Adam(model.parameters(), 3e-3), epochs=3,
                           val_loader=loader, max_batches=None)
    after, acc = evaluation.evaluate(model, loader, loss_fn)
    assert after < before * 0.5 and acc > 0.6
    assert len(history.batch_loss) == 3 * len(loader) and len(history.val_acc) == 3
    assert history.train_loss[-1] < history.train_loss[0]


def test_fit_respects_max_batches_and_checkpoints(tmp_path):
    x, y = torch.randn(64, 3, 32, 32), torch.randint(0, 10, (64,))
    model = small_cnn()
    history = training.fit(model, TensorLoader(x, y, batch_size=8, device="cpu"), nn.CrossEntropyLoss(),
                           torch.optim.SGD(model.parameters(), 0.01), epochs=2, max_batches=3,
                           checkpoint=tmp_path / "mejor.pt")
    assert len(history.batch_loss) == 6 and (tmp_path / "mejor.pt").exists()


def test_fit_epoch_metrics_match_an_evaluation_of_the_same_weights():
    # with a zero learning rate the weights never move, so the epoch's loss and accuracy, accumulated
    # on the device, must equal an evaluation of the model (it has no dropout or batch norm)
    seed_everything(0)
    x, y = torch.randn(70, 3, 32, 32), torch.randint(0, 10, (70,))
    loader = TensorLoader(x, y, batch_size=16, device="cpu")
    model, loss_fn = small_cnn(), nn.CrossEntropyLoss()
    history = training.fit(model, loader, loss_fn, torch.optim.SGD(model.parameters(), lr=0.0), epochs=2,
                           max_batches=None)
    loss, acc = evaluation.evaluate(model, loader, loss_fn)
    assert history.train_loss == pytest.approx([loss, loss], rel=1e-5)
    assert history.train_acc == pytest.approx([acc, acc])
    assert len(history.batch_loss) == 2 * len(loader) and all(type(v) is float for v in history.batch_loss)
    per_batch = [loss_fn(model(xb), yb).item() for xb, yb in loader]
    assert history.batch_loss[:len(loader)] == pytest.approx(per_batch, rel=1e-5)


class ScriptedSteps(torch.optim.SGD):
    """An "optimizer" whose n-th step sets the model's parameters to the n-th state of ``states``."""

    def __init__(self, model, states):
        super().__init__(model.parameters(), lr=0.1)
        self.model, self.states = model, iter(states)

    def step(self, closure=None):
        self.model.load_state_dict(next(self.states))


def _sign_classifier(sign):
    """A 1 → 2 linear model that predicts class 1 for inputs of the given sign (class 0 otherwise)."""
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[-sign], [sign]], dtype=torch.float32))
        model.bias.zero_()
    return model.state_dict()


def test_fit_ends_with_the_best_validated_weights_not_the_last(tmp_path):
    x = torch.tensor([[-2.0], [-1.0], [1.0], [2.0]])
    y = (x[:, 0] > 0).long()
    loader = TensorLoader(x, y, batch_size=4, device="cpu")
    good, bad = _sign_classifier(1.0), _sign_classifier(-1.0)
    model = nn.Linear(1, 2)
    history = training.fit(model, loader, nn.CrossEntropyLoss(), ScriptedSteps(model, [bad, good, bad]),
                           epochs=3, device="cpu", val_loader=loader, max_batches=None,
                           checkpoint=tmp_path / "mejor.pt")
    assert history.val_acc == [0.0, 1.0, 0.0]
    assert torch.equal(model.weight, good["weight"]) and torch.equal(model.bias, good["bias"])
    assert evaluation.evaluate(model, loader, nn.CrossEntropyLoss(), "cpu")[1] == 1.0


def test_fit_without_checkpoint_keeps_the_last_weights():
    x, y = torch.tensor([[-1.0], [1.0]]), torch.tensor([0, 1])
    model = nn.Linear(1, 2)
    good, bad = _sign_classifier(1.0), _sign_classifier(-1.0)
    training.fit(model, TensorLoader(x, y, batch_size=2, device="cpu"), nn.CrossEntropyLoss(),
                 ScriptedSteps(model, [good, bad]), epochs=2, device="cpu", max_batches=None)
    assert torch.equal(model.weight, bad["weight"])


def test_snapshot_and_changed_parameters():
    model = nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    before = training.snapshot(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], 0.1)
    model(torch.randn(4, 2)).sum().backward()
    opt.step()
    assert training.changed_parameters(before, model) == {"1.weight", "1.bias"}


def test_metrics_on_known_predictions():
    pred, true = torch.tensor([0, 1, 1, 2, 2, 2]), torch.tensor([0, 1, 2, 2, 2, 0])
    assert evaluation.accuracy(pred, true) == pytest.approx(4 / 6)
    cm = evaluation.confusion_matrix(pred, true, 3)
    assert cm.tolist() == [[1, 0, 1], [0, 1, 0], [0, 1, 2]]
    assert evaluation.per_class_accuracy(pred, true, 3).tolist() == pytest.approx([0.5, 1.0, 2 / 3])
    with pytest.raises(ValueError, match="deben ser iguales"):
        evaluation.accuracy(pred, true[:3])


def test_predict_returns_every_label():
    model = nn.Linear(4, 3)
    x, y = torch.randn(10, 4), torch.randint(0, 3, (10,))
    pred, true = evaluation.predict(model, TensorLoader(x, y, batch_size=4, device="cpu"))
    assert torch.equal(pred, model(x).argmax(1)) and torch.equal(true, y)


def test_parameter_counting_and_weight_copy():
    a = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    assert models.count_parameters(a) == 26
    a[0].requires_grad_(False)
    assert models.count_parameters(a, trainable_only=True) == 10
    b = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2))
    models.copy_weights_in_order(a, b)
    assert torch.equal(a[2].weight, b[2].weight)
    with pytest.raises(ValueError, match="El parámetro n.º 0 tiene forma"):
        models.copy_weights_in_order(a, nn.Sequential(nn.Linear(2, 4), nn.Linear(4, 2)))


def test_pretrained_model_falls_back_offline_with_a_spanish_warning():
    with pytest.warns(models.CourseWarning, match="sin pesos de ImageNet"):
        model, weights = models.pretrained_model("alexnet")
    assert models.count_parameters(model) == 61_100_840
    assert len(weights.meta["categories"]) == 1000
    with pytest.raises(ValueError, match="no tiene un modelo llamado"):
        models.pretrained_model("alexnet9000")


def test_checks_explain_in_spanish():
    with pytest.raises(AssertionError, match=r"se esperaba la forma \(1, 10\), se obtuvo \(1, 9\)\. Pista: capa"):
        checks.check_shape(torch.zeros(1, 9), (1, 10), hint="capa")
    with pytest.raises(AssertionError, match="error relativo máximo"):
        checks.check_close(torch.ones(3), torch.ones(3) * 1.1)
    with pytest.raises(AssertionError, match="se esperaban 3 parámetros, tiene 6"):
        checks.check_parameter_count(nn.Linear(2, 2), 3)
    checks.check_close(torch.ones(2), [1.0, 1.0])
    checks.check_equal(3, 3)


def test_amp_and_channels_last_do_nothing_on_the_cpu():
    model = small_cnn()
    assert training.prepare_model(model, "cpu", channels_last=True)[0].weight.is_contiguous()
    with training.amp_context(torch.device("cpu")):
        assert model(torch.randn(1, 3, 32, 32)).dtype == torch.float32


def test_pretrained_model_loads_imagenet_weights_in_full_and_says_why_not_otherwise(monkeypatch):
    import dataclasses

    import torchvision
    calls = []

    def get_model(name, weights=None):
        calls.append((name, weights))
        if weights is not None and not online:
            raise OSError("sin red")
        return f"modelo {name}"

    monkeypatch.setattr(torchvision.models, "get_model", get_model)
    full = dataclasses.replace(models.profile(), pretrained=True)
    monkeypatch.setattr(models, "profile", lambda: full)
    online = True
    model, weights = models.pretrained_model("squeezenet1_0")
    assert model == "modelo squeezenet1_0" and calls == [("squeezenet1_0", weights)] and weights is not None
    online = False
    with pytest.warns(models.CourseWarning) as caught:
        assert models.pretrained_model("squeezenet1_0")[0] == "modelo squeezenet1_0"
    assert calls[-2:] == [("squeezenet1_0", weights), ("squeezenet1_0", None)]
    message = str(caught[0].message)
    assert "squeezenet1_0: sin pesos de ImageNet porque no se pudieron descargar (OSError: sin red)." in message
    assert "las predicciones no significan nada." in message
    monkeypatch.setattr(models, "profile", lambda: dataclasses.replace(full, pretrained=False))
    with pytest.warns(models.CourseWarning, match="porque el perfil 'smoke' no descarga nada"):
        models.pretrained_model("squeezenet1_0")


def test_copy_weights_refuses_models_with_other_parameter_counts():
    with pytest.raises(ValueError, match="Los modelos tienen 2 y 4 tensores de parámetros: no se pueden emparejar"):
        models.copy_weights_in_order(nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 2), nn.Linear(2, 2)))


def test_fit_records_the_mean_loss_and_accuracy_of_each_epoch():
    x, y = torch.tensor([[-2.0], [-1.0], [1.0], [2.0], [3.0]]), torch.tensor([0, 0, 1, 1, 0])
    model = nn.Linear(1, 2)
    good = _sign_classifier(1.0)
    model.load_state_dict(good)
    loader = TensorLoader(x, y, batch_size=2, device="cpu")
    loss_fn = nn.CrossEntropyLoss()
    expected_loss = loss_fn(model(x), y).item()
    history = training.fit(model, loader, loss_fn, ScriptedSteps(model, [good] * 3), epochs=1, device="cpu",
                           max_batches=None)
    assert history.train_loss == [pytest.approx(expected_loss)] and history.train_acc == [pytest.approx(4 / 5)]
    assert len(history.batch_loss) == 3 and history.lr == [0.1] and len(history.seconds) == 1


def _resumable_run(tmp_path, stop_after=None):
    """A small run of 4 epochs with shuffling, augmentation, a scheduler and validation, resumable in
    ``tmp_path``; with ``stop_after``, the session "dies" (an exception) during the epoch after that one."""
    tmp_path.mkdir(exist_ok=True)
    seed_everything(0)
    x, y = torch.randn(48, 1, 6, 6), torch.randint(0, 3, (48,))
    model = nn.Sequential(nn.Flatten(), nn.Linear(36, 16), nn.ReLU(), nn.Linear(16, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 0.5 ** epoch)  # as lab 5 schedules
    loader = TensorLoader(x, y, batch_size=8, shuffle=True, augment=lambda b: b + 0.1 * torch.randn_like(b), seed=0)
    calls = []

    def loss_fn(out, target):
        calls.append(1)
        if stop_after is not None and len(calls) > 8 * stop_after:  # 6 training and 2 validation batches an epoch
            raise KeyboardInterrupt("la sesión de Colab se cortó")
        return nn.functional.cross_entropy(out, target)

    history = training.fit(model, loader, loss_fn, optimizer, epochs=4, device="cpu", scheduler=scheduler,
                           val_loader=TensorLoader(x[:16], y[:16], batch_size=8), max_batches=None,
                           checkpoint=tmp_path / "mejor.pt", resume=tmp_path / "estado.pt")
    return model, history


def test_fit_resumes_an_interrupted_run_exactly_where_it_stopped(tmp_path, capsys):
    straight, straight_history = _resumable_run(tmp_path / "seguido")
    with pytest.raises(KeyboardInterrupt):
        _resumable_run(tmp_path / "cortado", stop_after=2)
    resumed, resumed_history = _resumable_run(tmp_path / "cortado")  # a new session: new objects, same files
    assert "2 de 4 épocas hechas, sigue en la época 3." in capsys.readouterr().out
    assert len(resumed_history.train_loss) == 4 and len(resumed_history.batch_loss) == 24
    assert resumed_history.lr == straight_history.lr  # the scheduler went on, not back to the start
    for field in ("batch_loss", "train_loss", "val_acc"):
        assert getattr(resumed_history, field) == pytest.approx(getattr(straight_history, field), rel=1e-5)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.allclose(a, b, atol=1e-6)
    # a finished run is not trained again
    again, _ = _resumable_run(tmp_path / "cortado")
    assert "4 de 4 épocas hechas, ya estaba terminado." in capsys.readouterr().out
    assert all(torch.equal(a, b) for a, b in zip(resumed.state_dict().values(), again.state_dict().values()))


def test_a_state_for_another_number_of_epochs_or_without_scheduler_starts_over_or_goes_on(tmp_path, capsys):
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    state = tmp_path / "drive" / "lab5" / "estado.pt"  # folders that do not exist yet

    def run(epochs):
        model = nn.Linear(4, 2)
        return training.fit(model, TensorLoader(x, y, batch_size=8, device="cpu"), nn.CrossEntropyLoss(),
                            torch.optim.SGD(model.parameters(), 0.1), epochs=epochs, device="cpu",
                            max_batches=None, resume=state)  # no scheduler

    assert len(run(3).train_loss) == 3 and state.exists()
    assert len(run(2).train_loss) == 2  # a budget of 2 epochs does not take the state of a 3-epoch run
    assert f"{state} es de un entrenamiento de 3 épocas, no de 2: se empieza de cero." in capsys.readouterr().out
    assert len(run(2).train_loss) == 2 and "ya estaba terminado" in capsys.readouterr().out


def test_count_parameters_counts_frozen_ones_unless_asked_not_to():
    model = nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1))
    model[0].requires_grad_(False)
    assert models.count_parameters(model) == 11
    assert models.count_parameters(model, trainable_only=True) == 3


def test_confusion_matrix_is_square_even_when_the_last_classes_never_appear():
    cm = evaluation.confusion_matrix(torch.tensor([0, 1, 0]), torch.tensor([0, 0, 1]), num_classes=4)
    assert cm.tolist() == [[1, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]


def _scripted_loss(values):
    """A loss whose value in the n-th call is ``values[n]`` (with a gradient, so ``backward`` works)."""
    calls = iter(values)
    return lambda out, target: (out * 0).sum() + next(calls)


@pytest.mark.parametrize("losses, kept", [([3.0, 1.0, 2.0], 1), ([1.0, 1.0, 2.0], 0)])
def test_without_validation_the_checkpoint_keeps_the_lowest_training_loss_and_the_first_of_a_tie(
        tmp_path, losses, kept):
    x, y = torch.tensor([[-1.0], [1.0]]), torch.tensor([0, 1])
    model = nn.Linear(1, 2)
    states = [_sign_classifier(s) for s in (1.0, -1.0, 2.0)]
    history = training.fit(model, TensorLoader(x, y, batch_size=2, device="cpu"), _scripted_loss(losses),
                           ScriptedSteps(model, states), epochs=3, device="cpu", max_batches=None,
                           checkpoint=tmp_path / "mejor.pt")
    assert history.train_loss == losses
    assert torch.equal(model.weight, states[kept]["weight"])


def test_fit_without_max_batches_takes_the_profiles_cap_and_times_every_epoch(monkeypatch):
    capped = dataclasses.replace(profile(), max_batches=2)
    monkeypatch.setattr(training, "profile", lambda: capped)
    x, y = torch.randn(40, 4), torch.randint(0, 2, (40,))
    model = nn.Linear(4, 2)
    started = time.perf_counter()
    history = training.fit(model, TensorLoader(x, y, batch_size=8, device="cpu"), nn.CrossEntropyLoss(),
                           torch.optim.SGD(model.parameters(), 0.1), epochs=2, device="cpu")
    whole_call = time.perf_counter() - started
    assert len(history.batch_loss) == 4  # 2 of the 5 batches in each epoch
    assert len(history.seconds) == 2 and all(0 < s <= whole_call for s in history.seconds)
    assert history.total_seconds == pytest.approx(sum(history.seconds))


def test_fit_on_a_single_example_reports_its_own_loss_and_hit():
    model = nn.Linear(1, 2)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.0], [1.0]]))
        model.bias.zero_()
    x, y = torch.tensor([[2.0]]), torch.tensor([1])
    expected = nn.functional.cross_entropy(model(x), y).item()
    history = training.fit(model, TensorLoader(x, y, batch_size=1, device="cpu"), nn.CrossEntropyLoss(),
                           torch.optim.SGD(model.parameters(), 0.0), device="cpu", max_batches=None)  # 1 epoch by default
    assert history.train_loss == [pytest.approx(expected)] and history.train_acc == [1.0]


def test_fit_prints_each_epochs_summary_in_full_and_stays_quiet_in_smoke(monkeypatch, capsys):
    x, y = torch.randn(16, 4), torch.randint(0, 2, (16,))
    loader = TensorLoader(x, y, batch_size=8, device="cpu")

    def run():
        model = nn.Linear(4, 2)
        return training.fit(model, loader, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), 0.1), epochs=2,
                            device="cpu", val_loader=loader, max_batches=None)

    run()
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("COURSE_PROFILE", "full")
    h = run()
    assert capsys.readouterr().out.splitlines() == [
        f"Época {e + 1}/2: pérdida {h.train_loss[e]:.4f}, exactitud {h.train_acc[e]:.2%}; validación: pérdida "
        f"{h.val_loss[e]:.4f}, exactitud {h.val_acc[e]:.2%}" for e in range(2)]


def test_fit_takes_any_list_of_batches_and_resumes_it(tmp_path):
    seed_everything(0)
    batches = [(torch.randn(4, 4), torch.randint(0, 2, (4,))) for _ in range(3)]
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), 0.1)
    first = training.fit(model, batches, nn.CrossEntropyLoss(), optimizer, epochs=2, device="cpu", max_batches=None,
                         resume=tmp_path / "estado.pt")
    assert len(first.batch_loss) == 6
    again = training.fit(model, batches, nn.CrossEntropyLoss(), optimizer, epochs=2, device="cpu", max_batches=None,
                         resume=tmp_path / "estado.pt")  # both epochs done: nothing to train
    assert again.batch_loss == first.batch_loss


def test_a_run_saved_with_a_scheduler_resumes_without_one(tmp_path):
    batches = [(torch.randn(4, 4), torch.randint(0, 2, (4,)))]
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), 0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1)
    training.fit(model, batches, nn.CrossEntropyLoss(), optimizer, epochs=2, device="cpu", max_batches=None,
                 scheduler=scheduler, resume=tmp_path / "estado.pt")
    history = training.fit(model, batches, nn.CrossEntropyLoss(), optimizer, epochs=2, device="cpu",
                           max_batches=None, resume=tmp_path / "estado.pt")  # the student dropped the scheduler
    assert len(history.train_loss) == 2


def test_fit_draws_one_progress_bar_per_epoch_in_full_and_none_in_smoke(monkeypatch):
    screens = []

    class DrawnBar(training.tqdm):
        """The same bar, drawn on a string instead of the notebook's output."""

        def __init__(self, *args, **kwargs):
            screens.append(io.StringIO())
            super().__init__(*args, file=screens[-1], **kwargs)

    monkeypatch.setattr(training, "tqdm", DrawnBar)
    x, y = torch.randn(40, 4), torch.randint(0, 2, (40,))

    def run():
        model = nn.Linear(4, 2)
        training.fit(model, TensorLoader(x, y, batch_size=8, device="cpu"), nn.CrossEntropyLoss(),
                     torch.optim.SGD(model.parameters(), 0.1), epochs=2, device="cpu", max_batches=2)

    run()
    assert len(screens) == 2 and all(s.getvalue() == "" for s in screens)  # smoke: logs without bars
    screens.clear()
    monkeypatch.setenv("COURSE_PROFILE", "full")
    run()
    assert len(screens) == 2
    for epoch, screen in enumerate(screens, 1):
        frames = screen.getvalue().split("\r")
        # it counts the 2 batches the epoch trains (of the loader's 5) ...
        assert frames[1].startswith(f"Época {epoch}/2:") and " 0/2 " in frames[1]
        assert frames[-1].strip() == ""  # ... and is erased when done: the epoch's summary line stays


def test_fit_without_amp_trains_on_the_cpu_exactly_as_with_it():
    # on a CPU mixed precision does not apply: both settings train in float32, to the same losses
    x, y = torch.randn(24, 4), torch.randint(0, 3, (24,))
    loss_fn, runs = nn.CrossEntropyLoss(), []
    for amp in (True, False):
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        first = loss_fn(model(x[:8]), y[:8]).item()  # in float32
        history = training.fit(model, TensorLoader(x, y, batch_size=8, device="cpu"), loss_fn,
                               torch.optim.SGD(model.parameters(), 0.5), epochs=2, device="cpu",
                               max_batches=None, amp=amp)
        assert history.batch_loss[0] == pytest.approx(first, rel=1e-6)
        runs.append((history.batch_loss, model[0].weight.detach().clone()))
    assert runs[0][0] == runs[1][0] and torch.equal(runs[0][1], runs[1][1])


def test_an_explicit_device_wins_over_the_profiles(monkeypatch):
    # a student in a GPU session who asks for the CPU trains there
    on_gpu = dataclasses.replace(profile(), device=torch.device("cuda"))
    monkeypatch.setattr(training, "profile", lambda: on_gpu)
    model = nn.Linear(4, 2)
    history = training.fit(model, [(torch.randn(4, 4), torch.tensor([0, 1, 0, 1]))], nn.CrossEntropyLoss(),
                           torch.optim.SGD(model.parameters(), 0.1), device="cpu", max_batches=None)
    assert model.weight.device.type == "cpu" and len(history.train_loss) == 1


def test_a_resumed_run_keeps_the_best_checkpoint_from_before_the_cut(tmp_path):
    x = torch.tensor([[-2.0], [-1.0], [1.0], [2.0]])
    y = (x[:, 0] > 0).long()
    loader = TensorLoader(x, y, batch_size=4, device="cpu")
    good, bad = _sign_classifier(1.0), _sign_classifier(-1.0)

    def good_then_cut():
        yield good
        raise KeyboardInterrupt("la sesión de Colab se cortó")

    def session(steps):
        model = nn.Linear(1, 2)
        history = training.fit(model, loader, nn.CrossEntropyLoss(), ScriptedSteps(model, steps), epochs=2,
                               device="cpu", val_loader=loader, max_batches=None, checkpoint=tmp_path / "mejor.pt",
                               resume=tmp_path / "estado.pt")
        return model, history

    with pytest.raises(KeyboardInterrupt):
        session(good_then_cut())  # epoch 1 validates at 100 %, the session dies in epoch 2
    model, history = session([bad])  # the new session's epoch 2 is worse: the checkpoint keeps epoch 1
    assert history.val_acc == [1.0, 0.0]
    assert torch.equal(model.weight, good["weight"]) and torch.equal(model.bias, good["bias"])


def test_a_run_saved_without_a_gpu_resumes_where_mixed_precision_is_on(tmp_path):
    batches = [(torch.randn(4, 4), torch.randint(0, 2, (4,)))]
    model = nn.Linear(4, 2)
    optimizer = torch.optim.SGD(model.parameters(), 0.1)
    training.fit(model, batches, nn.CrossEntropyLoss(), optimizer, epochs=2, device="cpu", max_batches=None,
                 resume=tmp_path / "estado.pt")  # no CUDA: the saved scaler is disabled, its state empty
    enabled = torch.amp.GradScaler("cpu")  # as a GPU session's scaler would be
    done, history, _ = training._resume(tmp_path / "estado.pt", 2, model, optimizer, None, enabled, batches, "cpu")
    assert done == 2 and len(history.train_loss) == 2 and enabled.is_enabled()


def test_run_epochs_trains_with_the_labs_own_epoch_and_measures_train_and_test_alike(capsys):
    """``run_epochs`` calls the student's ``train_epoch`` once per epoch, keeps its batch losses, and after
    each epoch measures the model in evaluation mode on both loaders, exactly as ``evaluate`` would."""
    torch.manual_seed(0)
    x, y = torch.randn(60, 1, 4, 4), torch.randint(0, 3, (60,))
    train = TensorLoader(x[:40], y[:40], batch_size=10, shuffle=True, device="cpu", seed=0)
    train_sample, test = TensorLoader(x[:20], y[:20], batch_size=7, device="cpu"), TensorLoader(x[40:], y[40:], 8, device="cpu")
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    calls, measured = [], []

    def train_epoch(model, loader, loss_fn, optimizer, device):
        calls.append((model.training, str(device)))
        losses = []
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            losses.append(loss.detach())  # tensors, as a student might return them
        measured.append((evaluation.evaluate(model, train_sample, nn.CrossEntropyLoss()),
                         evaluation.evaluate(model, test, nn.CrossEntropyLoss())))
        model.train()  # what the next epoch would find if run_epochs did not set it
        return losses

    history = training.run_epochs(train_epoch, model, train, nn.CrossEntropyLoss(),
                                  torch.optim.SGD(model.parameters(), lr=0.5), epochs=3, device="cpu",
                                  train_eval_loader=train_sample, val_loader=test, val_name="prueba")
    assert calls == [(True, "cpu")] * 3
    assert len(history.batch_loss) == 12 and all(type(v) is float for v in history.batch_loss)
    assert history.train_loss == pytest.approx([m[0][0] for m in measured])
    assert history.train_acc == pytest.approx([m[0][1] for m in measured])
    assert history.val_loss == pytest.approx([m[1][0] for m in measured])
    assert history.val_acc == pytest.approx([m[1][1] for m in measured])
    assert history.train_loss[-1] < history.train_loss[0] and len(history.seconds) == 3 and history.lr == [0.5] * 3
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3 and lines[0].startswith("Época 1/3: pérdida media de los lotes ")
    assert " · entrenamiento: pérdida " in lines[2] and " · prueba: pérdida " in lines[2]
    quiet = training.run_epochs(train_epoch, model, train, nn.CrossEntropyLoss(),
                                torch.optim.SGD(model.parameters(), lr=0.5), epochs=1, device="cpu")
    assert quiet.train_loss == quiet.val_acc == [] and len(quiet.batch_loss) == 4


def test_saved_kind_tells_a_state_dict_from_a_whole_model_without_unpickling_it(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    torch.save(model.state_dict(), tmp_path / "pesos.pth")
    torch.save(model, tmp_path / "modelo.pth")
    torch.save({"modelo": model.state_dict(), "época": 3}, tmp_path / "anidado.pth")
    torch.save([torch.zeros(2)], tmp_path / "lista.pth")
    (tmp_path / "texto.pth").write_text("no es de torch")
    with zipfile.ZipFile(tmp_path / "zip.pth", "w") as zf:  # a zip, but not one torch.save wrote
        zf.writestr("notas.txt", "no es de torch")
    kinds = {name: models.saved_kind(tmp_path / name)
             for name in ("pesos.pth", "modelo.pth", "anidado.pth", "lista.pth", "texto.pth", "zip.pth", "no_existe.pth")}
    assert kinds == {"pesos.pth": "state_dict", "modelo.pth": "objeto", "anidado.pth": "otro", "lista.pth": "otro",
                     "texto.pth": "ilegible", "zip.pth": "ilegible", "no_existe.pth": "ninguno"}

"""helpers.checks: each check passes quietly or fails with the exact Spanish message a student reads."""
import dataclasses
import re

import pytest
import torch
from torch import nn

from helpers import checks, models  # models sets TORCHINDUCTOR_CACHE_DIR on import: imported here, not in a test
from helpers.runtime import profile


def message(check, *args, **kwargs):
    with pytest.raises(AssertionError) as failed:
        check(*args, **kwargs)
    return str(failed.value)


def test_a_hint_is_added_only_when_given():
    assert message(checks.check_true, False, "Debe cumplirse.") == "Debe cumplirse."
    assert message(checks.check_true, False, "Debe cumplirse.", hint="mira esto") == "Debe cumplirse. Pista: mira esto"
    checks.check_true(True, "nunca se ve")


def test_check_shape_names_both_shapes():
    checks.check_shape(torch.zeros(2, 3), [2, 3])
    assert message(checks.check_shape, torch.zeros(2, 3), (3, 2), "La salida") == \
        "La salida: se esperaba la forma (3, 2), se obtuvo (2, 3)."
    assert message(checks.check_shape, [1, 2], (2,)) == "El resultado: se esperaba la forma (2,), se obtuvo ()."


def test_check_close_reports_shape_and_relative_error():
    assert message(checks.check_close, torch.ones(2, 3), torch.ones(3), "x", hint="h") == \
        "x: se esperaba la forma (3,), se obtuvo (2, 3). Pista: h"
    text = message(checks.check_close, [1.0, 2.0], [1.0, 4.0], "y", rtol=1e-3, hint="h")
    assert text == "y: los valores no coinciden (error relativo máximo 5.00e-01, tolerancia 1e-03). Pista: h"
    assert re.search(r"máximo 1\.00e\+12", message(checks.check_close, [1.0], [0.0], atol=0.1))


def test_check_close_tolerances_and_nan():
    checks.check_close([float("nan"), 1.0], [float("nan"), 1.0])
    checks.check_close([100.5], [100.0], rtol=0.01, atol=0.0)
    with pytest.raises(AssertionError):
        checks.check_close([100.5], [100.0], rtol=0.001, atol=0.0)
    checks.check_close([0.05], [0.0], rtol=0.0, atol=0.1)
    with pytest.raises(AssertionError):
        checks.check_close([0.05], [0.0], rtol=0.0, atol=0.01)


def test_check_equal_forgives_float_rounding_only():
    checks.check_equal(0.1 + 0.2, 0.3)
    checks.check_equal((1, "a"), (1, "a"))
    assert message(checks.check_equal, 0.3001, 0.3, "z", hint="h") == "z: se esperaba 0.3, se obtuvo 0.3001. Pista: h"
    assert message(checks.check_equal, 1, 2) == "El resultado: se esperaba 2, se obtuvo 1."
    with pytest.raises(AssertionError):
        checks.check_equal(1.0, 2)


def test_check_parameter_count_counts_trainable_ones_if_asked():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))  # 9 + 4 parameters
    model[0].requires_grad_(False)
    checks.check_parameter_count(model, 13)
    checks.check_parameter_count(model, 4, trainable_only=True)
    assert message(checks.check_parameter_count, model, 5, "Tu red", trainable_only=True, hint="h") == \
        "Tu red: se esperaban 5 parámetros entrenables, tiene 4 (diferencia -1). Pista: h"
    assert message(checks.check_parameter_count, model, 1_000, "Tu red") == \
        "Tu red: se esperaban 1,000 parámetros, tiene 13 (diferencia -987)."


def test_check_gpu_explains_in_spanish_only_in_full_without_cuda(capsys):
    smoke = profile()
    assert checks.check_gpu(smoke) and capsys.readouterr().out == ""
    full_on_cpu = dataclasses.replace(smoke, name="full", device=torch.device("cpu"))
    assert not checks.check_gpu(full_on_cpu)
    assert "Cambiar tipo de entorno de ejecución" in capsys.readouterr().out
    full_on_gpu = dataclasses.replace(smoke, name="full", device=torch.device("cuda"))
    assert checks.check_gpu(full_on_gpu) and capsys.readouterr().out == ""


def test_require_gpu_stops_the_full_profile_without_cuda_with_a_spanish_message_and_no_traceback(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("NBGRADER_EXECUTION", "COURSE_MAX_STEPS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COURSE_PROFILE", "full")
    with pytest.raises(checks.SinGPU) as stopped:
        checks.require_gpu()
    message = str(stopped.value)
    assert "Entorno de ejecución → Cambiar tipo de entorno de ejecución" in message and "«GPU T4»" in message
    assert stopped.value._render_traceback_() == [message]  # what Jupyter and Colab show: the message alone
    monkeypatch.setenv("COURSE_MAX_STEPS", "2")  # the full profile's dry run (CI) runs on the CPU on purpose
    checks.require_gpu()
    monkeypatch.setenv("COURSE_PROFILE", "smoke")  # and so does grading
    checks.require_gpu()
    full_on_gpu = dataclasses.replace(profile(), name="full", device=torch.device("cuda"), dry_run_steps=None)
    checks.require_gpu(full_on_gpu)


def test_messages_name_the_result_or_the_model_when_no_name_is_given():
    frozen = torch.nn.Linear(3, 2)
    frozen.weight.requires_grad_(False)
    with pytest.raises(AssertionError, match=r"^El modelo: se esperaban 9 parámetros, tiene 8 "):
        checks.check_parameter_count(frozen, 9)  # by default every parameter counts, frozen or not
    with pytest.raises(AssertionError, match=r"^El resultado: los valores no coinciden"):
        checks.check_close([1.0], [2.0])
    with pytest.raises(AssertionError, match=r"^El resultado: se esperaba la forma"):
        checks.check_shape(torch.zeros(2), (3,))


def test_check_close_takes_tensors_that_require_grad_and_lists_of_them():
    weight = torch.ones(2, 3, requires_grad=True)
    checks.check_close(weight * 2, torch.full((2, 3), 2.0))
    checks.check_close([weight.sum(), weight.mean()], [6.0, 1.0])
    assert "no coinciden" in message(checks.check_close, weight, torch.zeros(2, 3))


# --------------------------------------------------------------------------- what an exercise forbids

POOLING = (nn.MaxPool2d, torch.nn.functional.max_pool2d, torch.nn.functional.unfold)


def refusal(block, *things, instead="hazlo tú con bucles."):
    """The Spanish message of the ``ForbiddenCall`` that ``block()`` raises with ``things`` forbidden."""
    with pytest.raises(checks.ForbiddenCall) as refused:
        with checks.forbidding(*things, instead=instead):
            block()
    assert isinstance(refused.value, AssertionError)  # a test cell that uses the shortcut fails like any check
    return str(refused.value)


def test_a_forbidden_torch_function_is_refused_in_spanish_whatever_name_it_is_called_by():
    x = torch.randn(1, 2, 6, 6)
    saved_earlier = torch.nn.functional.max_pool2d  # a student's alias, taken before the ban
    text = refusal(lambda: saved_earlier(x, 2, 2), *POOLING)
    assert text == ("Este ejercicio no permite `nn.MaxPool2d`, `F.max_pool2d` ni `F.unfold` (tampoco con otro "
                    "nombre ni dentro de una capa), y tu código ha usado `F.max_pool2d`: hazlo tú con bucles.")
    assert "`torch.max_pool2d`" in refusal(lambda: torch.max_pool2d(x, 2, 2), *POOLING)
    assert "`torch.ops.aten.max_pool2d`" in refusal(lambda: torch.ops.aten.max_pool2d(x, [2, 2], [2, 2]), *POOLING)
    assert "`torch._C._nn.im2col`" in refusal(lambda: torch._C._nn.im2col(x, [2, 2], [1, 1], [0, 0], [1, 1]),
                                                *POOLING)


def test_a_forbidden_layer_is_refused_inside_any_module_forward():
    x = torch.randn(1, 3, 8, 8)

    class Mine(nn.Module):  # the layer hidden inside a student's own module
        def __init__(self):
            super().__init__()
            self.inside = nn.Sequential(nn.Conv2d(3, 4, 3))

        def forward(self, x):
            return self.inside(x)

    conv = (nn.Conv2d, torch.nn.functional.conv2d, torch.nn.functional.unfold)
    assert "tu código ha usado `F.conv2d`" in refusal(lambda: Mine()(x), *conv)
    assert "tu código ha usado `F.max_pool2d`" in refusal(lambda: nn.MaxPool2d(2)(x), *POOLING)
    assert "tu código ha usado `F.unfold`" in refusal(lambda: nn.Unfold(3)(x), *POOLING)


def test_what_is_not_forbidden_runs_as_usual_inside_the_ban():
    x = torch.randn(2, 3, 8, 8)
    weight = torch.randn(4, 3, 3, 3)
    with checks.forbidding(nn.Conv2d, torch.nn.functional.conv2d, torch.nn.functional.unfold, instead="-"):
        patches = torch.nn.functional.pad(x, (1, 1, 1, 1)).unfold(2, 3, 1).unfold(3, 3, 1)  # Tensor.unfold is allowed
        mine = torch.einsum("nchwij,ocij->nohw", patches, weight)
        pooled = x.unfold(2, 2, 2).unfold(3, 2, 2).amax(dim=(-2, -1))
        y = nn.Linear(8, 2)(x)  # other layers too
    checks.check_close(mine, torch.nn.functional.conv2d(x, weight, padding=1))
    checks.check_close(pooled, torch.nn.functional.max_pool2d(x, 2, 2))
    assert y.shape == (2, 3, 8, 2)


def test_a_forbidden_python_function_is_refused_through_any_reference():
    count, model = models.count_parameters, nn.Linear(3, 4)  # a reference saved before the ban
    things = (models.count_parameters, nn.Module.parameters, nn.Module.named_parameters)
    text = refusal(lambda: count(model), *things, instead="usa la fórmula.")
    assert text == ("Este ejercicio no permite `count_parameters`, `.parameters()` ni `.named_parameters()` "
                    "(tampoco con otro nombre), y tu código ha usado `count_parameters`: usa la fórmula.")
    assert "ha usado `.parameters()`" in refusal(lambda: sum(p.numel() for p in model.parameters()), *things)
    assert "ha usado `.named_parameters()`" in refusal(lambda: dict(model.named_parameters()), *things)
    assert "`modelo(x)` (ejecutar una red o una capa)" in refusal(lambda: model(torch.zeros(1, 3)),
                                                                  nn.Module.__call__)
    with checks.forbidding(*things, instead="-"):
        assert model.weight.numel() + model.bias.numel() == 16  # only those calls are forbidden


def test_a_refusal_the_code_catches_still_fails_the_block():
    def sly():
        try:
            torch.nn.functional.max_pool2d(torch.zeros(1, 1, 2, 2), 2)
        except Exception:
            pass
        return "sin pooling"

    assert "`F.max_pool2d`" in refusal(sly, *POOLING)

    def sly_then_broken():
        sly()
        raise ValueError("otra cosa")

    with pytest.raises(checks.ForbiddenCall, match="F.max_pool2d"):
        with checks.forbidding(*POOLING, instead="-"):
            sly_then_broken()


def test_the_ban_ends_with_the_block_also_when_the_block_raises():
    model, code = nn.Linear(2, 2), models.count_parameters.__code__

    def divide():
        return 1 / 0

    outcomes = {lambda: None: None, divide: ZeroDivisionError,
                lambda: models.count_parameters(model): checks.ForbiddenCall,
                lambda: torch.nn.functional.max_pool2d(torch.zeros(1, 1, 2, 2), 2): checks.ForbiddenCall}
    for block, raised in outcomes.items():
        try:
            with checks.forbidding(models.count_parameters, nn.Module.parameters, *POOLING, instead="-"):
                block()
        except Exception as error:
            assert type(error) is raised
        else:
            assert raised is None
        assert models.count_parameters.__code__ is code
        assert models.count_parameters(model) == 6 and len(list(model.parameters())) == 2
        assert torch.nn.functional.max_pool2d(torch.ones(1, 1, 2, 2), 2).item() == 1.0


def test_forbidding_says_what_it_cannot_forbid():
    with pytest.raises(TypeError, match="ReLU"):
        with checks.forbidding(nn.ReLU, instead="-"):
            pass
    with pytest.raises(TypeError, match="al menos"):
        with checks.forbidding(instead="-"):
            pass

    def with_closure():
        n = 1
        return lambda: n

    with pytest.raises(TypeError, match="clausura"):
        with checks.forbidding(with_closure(), instead="-"):
            pass
    with pytest.raises(TypeError, match="no sabe prohibir 42"):
        with checks.forbidding(42, instead="-"):
            pass
    # another PyTorch may lack some entry point to an operation: it is left out, not an error
    assert checks._torch_object("torch.ops.aten.no_such_operation") is None
    assert checks._torch_object("F.no_such_function") is None
    assert checks._torch_object("F.conv2d") is torch.conv2d


@pytest.mark.slow
def test_in_a_notebook_a_failed_check_shows_its_spanish_message_and_no_traceback(tmp_path):
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import torch\nfrom helpers import checks\n"
        "checks.check_shape(torch.zeros(2, 3), (3, 2), 'La salida', hint='¿transpusiste?')")])
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    (error,) = [o for o in nb.cells[0].outputs if o.output_type == "error"]
    shown = "\n".join(error.traceback)
    assert shown == ("Prueba no superada: La salida: se esperaba la forma (3, 2), se obtuvo (2, 3). "
                     "Pista: ¿transpusiste?")
    assert error.ename == "CheckFailed" and "checks.py" not in shown

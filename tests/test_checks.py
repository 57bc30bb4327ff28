"""helpers.checks: each check passes quietly or fails with the exact Spanish message a student reads."""
import dataclasses
import re

import pytest
import torch
from torch import nn

from helpers import checks
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

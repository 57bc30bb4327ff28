"""Checks for the notebooks' test cells: they pass quietly or explain, in Spanish, what went wrong."""
import math

import torch


def _fail(message: str, hint: str | None):
    raise AssertionError(message + (f" Pista: {hint}" if hint else ""))


def check_shape(value, expected, what: str = "El resultado", hint: str | None = None) -> None:
    """Assert that ``value`` (a tensor or anything with ``.shape``) has shape ``expected``."""
    shape = tuple(getattr(value, "shape", ()))
    if shape != tuple(expected):
        _fail(f"{what}: se esperaba la forma {tuple(expected)}, se obtuvo {shape}.", hint)


def check_close(value, expected, what: str = "El resultado", rtol: float = 1e-4, atol: float = 1e-5,
                hint: str | None = None) -> None:
    """Assert that ``value`` equals ``expected`` within tolerance, and report the relative error."""
    value = torch.as_tensor(value, dtype=torch.float64)
    expected = torch.as_tensor(expected, dtype=torch.float64)
    if value.shape != expected.shape:
        _fail(f"{what}: se esperaba la forma {tuple(expected.shape)}, se obtuvo {tuple(value.shape)}.", hint)
    if not torch.allclose(value, expected, rtol=rtol, atol=atol, equal_nan=True):
        err = ((value - expected).abs().max() / expected.abs().max().clamp(min=1e-12)).item()
        _fail(f"{what}: los valores no coinciden (error relativo máximo {err:.2e}, tolerancia {rtol:.0e}).", hint)


def check_equal(value, expected, what: str = "El resultado", hint: str | None = None) -> None:
    """Assert that ``value == expected`` (numbers, strings, tuples...)."""
    if isinstance(value, float) and isinstance(expected, float) and math.isclose(value, expected):
        return
    if value != expected:
        _fail(f"{what}: se esperaba {expected!r}, se obtuvo {value!r}.", hint)


def check_parameter_count(model: torch.nn.Module, expected: int, what: str = "El modelo",
                          trainable_only: bool = False, hint: str | None = None) -> None:
    """Assert that ``model`` has ``expected`` parameters (only trainable ones if asked)."""
    # Counted here rather than with helpers.models: a test must not trust a module a student can patch.
    got = sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
    kind = "parámetros entrenables" if trainable_only else "parámetros"
    if got != expected:
        _fail(f"{what}: se esperaban {expected:,} {kind}, tiene {got:,} (diferencia {got - expected:+,}).", hint)


def check_true(condition: bool, message: str, hint: str | None = None) -> None:
    """Assert ``condition``; ``message`` says in Spanish what should have held."""
    if not condition:
        _fail(message, hint)


GPU_HELP = ("No hay GPU: este cuaderno entrenará en la CPU y tardará muchísimo más. En Colab, abre el menú "
            "Entorno de ejecución → Cambiar tipo de entorno de ejecución, elige «T4 GPU», guarda y vuelve a "
            "ejecutar el cuaderno desde el principio. Si Colab dice que no quedan GPU libres, inténtalo más tarde.")


def check_gpu(p=None) -> bool:
    """With real data (profile ``full``) and no CUDA, print in Spanish how to turn on Colab's GPU.

    Returns whether a GPU is in use (always ``True`` in ``smoke``, where the CPU is intended).
    """
    from .runtime import profile

    p = p or profile()
    if p.name != "full" or p.device.type == "cuda":
        return True
    print("⚠️ " + GPU_HELP)
    return False

"""Checks for the notebooks' test cells: they pass quietly or explain, in Spanish, what went wrong.

In a student's notebook a check compares at once and raises ``AssertionError``. When the grader runs
the notebook, every test cell first calls :func:`start_recording`: from then on, a check compares
nothing in the student's kernel. It records the value it was given as plain data (exact types only:
a ``torch.Tensor``, a NumPy array, numbers, strings, tuples, lists, dicts of those; never an object
the student made) and shows it to the grader as a display output; the grader decides outside the
kernel, with the same rule (:func:`helpers.verdicts.judge`), against what the answer key recorded.
"""
import json
import random

import numpy as np
import torch

from . import verdicts

#: The MIME type of a recorded check: JSON text the grader reads from the test cell's outputs.
RECORD_MIME = "application/vnd.dl-curso.sonda"

#: What ``own_code=True`` means, for every check: the expected value comes, on purpose, from the student's
#: own code (another of their functions, a model they built), so that one mistake costs only its own
#: test; when graded, the value is compared with that expected value, not with the answer key's.
OWN_CODE = "own_code"
#: Set by :func:`start_recording` (only in the grader's kernels).
_recording = False
#: The number of the check call being recorded (the grader numbers them, see :func:`_site`).
_current_site = None
#: The exact types recorded as they are.
_SCALARS = (bool, int, float, str, type(None))
_NUMPY_SCALARS = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8, np.uint8, np.bool_)
_TENSORS = (torch.Tensor, torch.nn.Parameter)
#: Read from C, where a student's code cannot replace it (``torch.Tensor`` methods can be patched).
_TensorBase = torch.Tensor.__mro__[1]


def start_recording(seed: int) -> None:
    """Record instead of comparing, and seed every generator so that the test's own inputs are the
    same in every kernel that runs it (the student's and the answer key's)."""
    global _recording
    _recording = True
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _site(number: int, check):
    """``check``, after noting that the call about to be made is the test's check number ``number``
    (the grader rewrites ``checks.check_x(...)`` as ``checks._site(n, checks.check_x)(...)``)."""
    global _current_site
    _current_site = number
    return check


def _plain(value, depth: int = 0):
    """``value`` as JSON made of exact types only (see :mod:`helpers.verdicts`)."""
    kind = type(value)
    if depth > 20:
        return {"x": "anidado"}
    if kind in _SCALARS:
        return value
    if kind in _NUMPY_SCALARS:
        return np.ndarray.item(np.asarray(value))
    if kind is tuple or kind is torch.Size:
        return {"t": [_plain(v, depth + 1) for v in tuple.__iter__(value)]}
    if kind is list:
        return [_plain(v, depth + 1) for v in list.__iter__(value)]
    if kind is dict:
        return {"d": [[_plain(k, depth + 1), _plain(v, depth + 1)] for k, v in dict.items(value)]}
    if kind is set or kind is frozenset:
        return {"s": sorted((_plain(v, depth + 1) for v in frozenset.__iter__(frozenset(value))), key=json.dumps)}
    if kind in _TENSORS:
        if _TensorBase.is_meta.__get__(value) or _TensorBase.is_complex(value):
            return {"x": "tensor sin datos"}
        return verdicts.encode_array(_TensorBase.numpy(_TensorBase.cpu(_TensorBase.detach(value))))
    if kind is np.ndarray:
        return verdicts.encode_array(value) if value.dtype.kind in "biuf" else {"x": f"ndarray {value.dtype}"}
    return {"x": kind.__name__}


def _shape(value):
    kind = type(value)
    if kind in _TENSORS:
        return {"t": list(tuple.__iter__(_TensorBase.size(value)))}
    if kind is np.ndarray:
        return {"t": list(value.shape)}
    return {"x": kind.__name__}


def _record(kind: str, value, expected, what: str, hint, own_code: bool = False, **options) -> None:
    record = {"site": _current_site, "kind": kind, "value": value, "what": str(what),
              "hint": None if hint is None else str(hint), OWN_CODE: own_code is True, **options}
    if expected is not None:
        record["expected"] = expected
    from IPython.display import publish_display_data

    publish_display_data({RECORD_MIME: json.dumps(record)})


def _decide(kind: str, value, expected, what, hint, **options) -> None:
    message = verdicts.judge(kind, value, expected, what, hint, **options)
    if message is not None:
        raise AssertionError(message)


def check_shape(value, expected=None, what: str = "El resultado", hint: str | None = None,
                own_code: bool = False) -> None:
    """Assert that ``value`` (a tensor or anything with ``.shape``) has shape ``expected``."""
    if _recording:
        return _record("shape", _shape(value), _plain(tuple(expected)) if expected is not None else None,
                       what, hint, own_code=own_code)
    _decide("shape", tuple(getattr(value, "shape", ())), expected, what, hint)


def check_close(value, expected=None, what: str = "El resultado", rtol: float = 1e-4, atol: float = 1e-5,
                hint: str | None = None, own_code: bool = False) -> None:
    """Assert that ``value`` equals ``expected`` within tolerance, and report the relative error."""
    if _recording:
        return _record("close", _plain(value), _plain(expected) if expected is not None else None, what, hint,
                       rtol=float(rtol), atol=float(atol), own_code=own_code)

    def array(v):
        detached = lambda x: x.detach() if isinstance(x, torch.Tensor) else x  # noqa: E731
        v = [detached(x) for x in v] if isinstance(v, (list, tuple)) else detached(v)
        return torch.as_tensor(v, dtype=torch.float64).cpu().numpy()

    _decide("close", array(value), array(expected), what, hint, rtol=rtol, atol=atol)


def check_equal(value, expected=None, what: str = "El resultado", hint: str | None = None,
                own_code: bool = False) -> None:
    """Assert that ``value == expected`` (numbers, strings, tuples...)."""
    if _recording:
        return _record("equal", _plain(value), _plain(expected) if expected is not None else None, what, hint,
                       own_code=own_code)
    _decide("equal", value, expected, what, hint)


def _count(model, trainable_only: bool):
    """Parameters of ``model`` counted from its own dictionaries, without calling any of its methods
    (a student's module could override ``parameters()``); None if it is not a ``torch.nn.Module``."""
    if not isinstance(model, torch.nn.Module) or not issubclass(type(model), torch.nn.Module):
        return None
    total, seen, stack = 0, set(), [model]
    while stack:
        module = stack.pop()
        if id(module) in seen or not issubclass(type(module), torch.nn.Module):
            continue
        seen.add(id(module))
        fields = object.__getattribute__(module, "__dict__")
        for p in dict.values(fields.get("_parameters", {})):
            if type(p) in _TENSORS and id(p) not in seen and (_TensorBase.requires_grad.__get__(p) or not trainable_only):
                seen.add(id(p))
                total += _TensorBase.numel(p)
        stack += [m for m in dict.values(fields.get("_modules", {})) if m is not None]
    return total


def check_parameter_count(model: torch.nn.Module, expected: int = None, what: str = "El modelo",
                          trainable_only: bool = False, hint: str | None = None, own_code: bool = False) -> None:
    """Assert that ``model`` has ``expected`` parameters (only trainable ones if asked)."""
    # Counted here rather than with helpers.models: a test must not trust a module a student can patch.
    got = _count(model, trainable_only)
    value = {"x": type(model).__name__} if got is None else got
    if _recording:
        return _record("count", value, _plain(expected) if expected is not None else None, what, hint,
                       trainable_only=bool(trainable_only), own_code=own_code)
    _decide("count", verdicts.decode(value), expected, what, hint, trainable_only=trainable_only)


def _truth(condition):
    """``condition`` as a recorded bool: only a real bool (Python's or NumPy's) or a one-element tensor."""
    kind = type(condition)
    if kind is bool or kind is np.bool_:
        return bool(condition)
    if kind in _TENSORS and _TensorBase.numel(condition) == 1 and not _TensorBase.is_meta.__get__(condition):
        return bool(_TensorBase.item(condition))
    return {"x": kind.__name__}


def check_true(condition: bool, message: str, hint: str | None = None) -> None:
    """Assert ``condition``; ``message`` says in Spanish what should have held."""
    if _recording:
        return _record("true", _truth(condition), None, message, hint)
    _decide("true", bool(condition), None, message, hint)


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

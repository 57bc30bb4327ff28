"""Checks for the notebooks' test cells: they pass quietly or explain, in Spanish, what went wrong.

In a student's notebook a check compares at once and raises ``AssertionError``. When the grader runs
the notebook, every test cell first calls :func:`start_recording`: from then on, a check compares
nothing in the student's kernel. It records the value it was given as plain data (exact types only:
a ``torch.Tensor``, a NumPy array, numbers, strings, tuples, lists, dicts of those; never an object
the student made) and shows it to the grader as a display output; the grader decides outside the
kernel, with the same rule (:func:`helpers.verdicts.judge`), against what the answer key recorded.

What an exercise forbids (``F.conv2d`` in a hand-written convolution, say) a test enforces with
:func:`forbidding`: the student's code runs inside it, and a forbidden call raises :class:`ForbiddenCall`,
so the test cell fails, in Colab and when graded alike.
"""
import contextlib
import json
import random
import types

import numpy as np
import torch
from torch.overrides import TorchFunctionMode

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
        raise CheckFailed(message)


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


class CheckFailed(AssertionError):
    """A test's verdict, in Spanish. Jupyter and Colab show its message alone: a traceback would run
    through this module, which the student never wrote and which would hide the message."""

    def _render_traceback_(self):
        return [f"Prueba no superada: {self}"]


class ForbiddenCall(CheckFailed):
    """Code run inside :func:`forbidding` called one of the things it forbids."""


#: What the forward of a layer calls: forbidding the layer forbids these.
_LAYER_CALLS = {torch.nn.MaxPool2d: "F.max_pool2d", torch.nn.Conv2d: "F.conv2d", torch.nn.Unfold: "F.unfold"}
#: Other entry points to the same operation as a forbidden torch function (looked up by name: not every
#: version of PyTorch has all of them).
_SAME_OPERATION = {
    "F.max_pool2d": ["torch.max_pool2d", "F.max_pool2d_with_indices", "torch._C._nn.max_pool2d_with_indices",
                     "torch.ops.aten.max_pool2d", "torch.ops.aten.max_pool2d_with_indices"],
    "F.conv2d": ["torch.convolution", "torch._convolution", "torch.ops.aten.conv2d", "torch.ops.aten.convolution",
                 "torch.ops.aten._convolution"],
    "F.unfold": ["torch._C._nn.im2col", "torch.ops.aten.im2col"],
}
#: How a message names a forbidden thing whose own name says little.
_NAMES = {torch.nn.Module.__call__: "`modelo(x)` (ejecutar una red o una capa)"}


def _torch_object(name: str):
    """The object ``name`` (``F.x``, ``torch.x``, ``torch.ops.aten.x``...) names, or None if this PyTorch lacks it."""
    head, *rest = name.split(".")
    obj = torch.nn.functional if head == "F" else torch
    try:
        for part in rest:
            obj = getattr(obj, part)
    except (AttributeError, RuntimeError):
        return None
    return obj


def _name(thing) -> str:
    """How a message names ``thing``: ``nn.Conv2d``, ``F.conv2d``, ``torch.max_pool2d``, ``.parameters()``..."""
    if thing in _NAMES:
        return _NAMES[thing]
    name = getattr(thing, "__name__", None) or str(thing)
    qualname = getattr(thing, "__qualname__", None) or name
    module = getattr(thing, "__module__", None) or ""
    if isinstance(thing, type) and getattr(torch.nn, name, None) is thing:
        return f"`nn.{name}`"
    if getattr(torch.nn.functional, name, None) is thing:
        return f"`F.{name}`"
    if getattr(torch, name, None) is thing:
        return f"`torch.{name}`"
    if type(thing).__module__ == "torch._ops":
        return f"`torch.ops.{getattr(thing, 'overloadpacket', thing)}`"
    if isinstance(thing, types.FunctionType) and "." in qualname and "<" not in qualname:
        return f"`.{name}()`"  # a method, as a student writes it: model.parameters()
    if module.startswith("torch"):
        return f"`{module}.{qualname}`"
    return f"`{name}`"


def _in_torch_mode(thing) -> bool:
    """Whether calls to ``thing`` reach a :class:`TorchFunctionMode` (a torch function, not Python code of ours)."""
    if type(thing).__module__ == "torch._ops" or isinstance(thing, types.BuiltinFunctionType):
        return True
    overridable = torch.overrides.get_overridable_functions()  # cached by PyTorch
    return any(thing in functions for functions in overridable.values())


def _same_operation(func) -> list:
    """``func`` and the other entry points to its operation that this PyTorch has (:data:`_SAME_OPERATION`)."""
    for name, others in _SAME_OPERATION.items():
        if _torch_object(name) is func:
            return [func, *(f for f in map(_torch_object, others) if f is not None)]
    return [func]


def _refused(*args, _dlc_refuse=None, **kwargs):
    """The code a forbidden Python function runs while it is forbidden (see :func:`forbidding`)."""
    _dlc_refuse()


class _RefuseTorchCalls(TorchFunctionMode):
    """Refuse the torch functions in ``refuse`` (object id -> callable that raises); let the rest through."""

    def __init__(self, refuse: dict):
        super().__init__()
        self.refuse = refuse

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        for candidate in (func, getattr(func, "overloadpacket", None)):
            if candidate is not None and id(candidate) in self.refuse:
                self.refuse[id(candidate)]()
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def forbidding(*things, instead: str):
    """Run the block with ``things`` forbidden: calling one raises :class:`ForbiddenCall`, in Spanish,
    naming what was called, what the exercise forbids and ``instead`` (what it asks for instead).

    ``things`` are torch functions (``F.conv2d``), layers (``nn.Conv2d``: what its ``forward`` calls,
    see :data:`_LAYER_CALLS`) or Python functions and methods (``count_parameters``,
    ``nn.Module.parameters``, ``nn.Module.__call__`` to forbid running any network or layer).

    - Torch functions are refused by a :class:`torch.overrides.TorchFunctionMode`, which sees each call
      by the function's identity: through any name the student saved (``mp = F.max_pool2d`` before
      the block), inside a layer's ``forward`` and through the other entry points to the same operation
      (:data:`_SAME_OPERATION`: ``torch.max_pool2d``, ``torch.ops.aten.max_pool2d``...). Other
      functions go through: ``Tensor.unfold`` stays allowed while ``F.unfold`` (im2col) is forbidden.
    - A Python function runs, while the block lasts, code that refuses the call (its ``__code__`` is
      swapped, and put back on leaving, also when the block raises), so every reference to that function
      object refuses. A function with a closure cannot be forbidden this way (``TypeError``).
    - A forbidden call the student's code catches still fails the block: on leaving, the first refusal
      is raised again.

    The limits, honestly: this stops a shortcut, not a determined cheat. Another operation that computes
    the same (``F.conv_transpose2d`` with flipped filters, a pure-Python copy of ``count_parameters``), a
    copy of a function's code made before the block, or code that turns off torch function modes
    (``torch._C.DisableTorchFunction``) is not caught. Expected values must be computed outside the block.
    """
    if not things:
        raise TypeError("forbidding necesita al menos una cosa que prohibir.")
    listed = [_name(t) for t in things]
    forbidden = ", ".join(listed[:-1]) + (" ni " if len(listed) > 1 else "") + listed[-1]
    refusals = []
    anywhere = " ni dentro de una capa" if any(isinstance(t, type) or _in_torch_mode(t) for t in things) else ""

    def refuse(called: str):
        def raise_it(*_, **__):
            message = (f"Este ejercicio no permite {forbidden} (tampoco con otro nombre{anywhere}), "
                       f"y tu código ha usado {called}: {instead}")
            refusals.append(message)
            raise ForbiddenCall(message)
        return raise_it

    torch_calls, python_calls = {}, []
    for thing in things:
        if isinstance(thing, type):
            if thing not in _LAYER_CALLS:
                raise TypeError(f"forbidding no sabe qué funciones llama la capa {thing.__name__}: "
                                f"prohíbe esas funciones en su lugar.")
            thing = _torch_object(_LAYER_CALLS[thing])
        if _in_torch_mode(thing):
            for func in _same_operation(thing):
                torch_calls[id(func)] = (func, refuse(_name(func)))
        elif isinstance(thing, types.FunctionType):
            if thing.__closure__:
                raise TypeError(f"forbidding no puede prohibir {thing.__qualname__}: es una clausura.")
            python_calls.append(thing)
        else:
            raise TypeError(f"forbidding no sabe prohibir {thing!r}: da una función de torch, una capa o una "
                            f"función de Python.")
    saved = [(f, f.__code__, f.__defaults__, f.__kwdefaults__) for f in python_calls]
    mode = _RefuseTorchCalls({key: raise_it for key, (_, raise_it) in torch_calls.items()})
    try:
        for f in python_calls:
            f.__code__, f.__defaults__, f.__kwdefaults__ = _refused.__code__, None, {"_dlc_refuse": refuse(_name(f))}
        with mode:
            yield
    except ForbiddenCall:
        raise
    except Exception as error:
        if refusals:  # the student's code caught a refusal and then failed: the refusal is what to read
            raise ForbiddenCall(refusals[0]) from error
        raise
    finally:
        for f, code, defaults, kwdefaults in reversed(saved):
            f.__code__, f.__defaults__, f.__kwdefaults__ = code, defaults, kwdefaults
    if refusals:  # a refusal the student's code caught still fails the block
        raise ForbiddenCall(refusals[0])


GPU_HELP = ("No hay GPU: este cuaderno entrenará en la CPU y tardará muchísimo más. En Colab, abre el menú "
            "Entorno de ejecución → Cambiar tipo de entorno de ejecución, elige «GPU T4», guarda y vuelve a "
            "ejecutar el cuaderno desde el principio. Si Colab dice que no quedan GPU libres, inténtalo más tarde.")


class SinGPU(Exception):
    """The lab needs a GPU and the full profile found none. Jupyter and Colab show only its message."""

    def _render_traceback_(self):
        return [str(self)]


GPU_REQUIRED = ("Este laboratorio necesita una GPU y este entorno no tiene ninguna: en la CPU, entrenar sus "
                "modelos llevaría horas, o días. En Colab, abre el menú Entorno de ejecución → Cambiar tipo de entorno de "
                "ejecución, elige «GPU T4», guarda y vuelve a ejecutar el cuaderno desde el principio (Entorno de "
                "ejecución → Ejecutar todas). Si Colab dice que no quedan GPU libres, inténtalo más tarde.")


def require_gpu(p=None) -> None:
    """Stop with :class:`SinGPU` (Spanish, no traceback) in the full profile without CUDA.

    Smoke (grading, CI) and the full profile's dry run (``COURSE_MAX_STEPS``) run on the CPU on
    purpose, so they pass.
    """
    from .runtime import profile

    p = p or profile()
    if p.name == "full" and p.dry_run_steps is None and p.device.type != "cuda":
        raise SinGPU(GPU_REQUIRED)


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

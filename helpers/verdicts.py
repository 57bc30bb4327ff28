"""What a check decides, on plain values: the same rule in a student's notebook and in the grader.

A check (:mod:`helpers.checks`) compares a value with what was expected. In Colab it does so at once
and raises. When graded, the kernel is the student's, so it only records the value as *plain data*
(numbers, strings, tuples, lists, dicts, arrays: see :func:`encode_array`), and the grader, in its own
process, decides with :func:`judge` against the values the answer key recorded. This module needs
NumPy only: the grader never imports PyTorch to judge.

Encoded values are JSON: a tuple is ``{"t": [...]}``, a dict ``{"d": [[key, value], ...]}``, a set
``{"s": [...]}``, an
array ``{"a": {"shape", "n", "data"}}`` (float64, base64; arrays larger than :data:`SAMPLE` keep that
many elements at fixed places, the same for every array of the same size), and anything that is not
plain data ``{"x": "<type name>"}``.
"""
import base64
import math

import numpy as np

#: Most elements of an array recorded; larger arrays are compared on this many fixed elements.
SAMPLE = 1024


class NotPlain:
    """A value that was not plain data when recorded (an object of the student's, say)."""

    def __init__(self, kind: str):
        self.kind = kind

    def __eq__(self, other):
        return False

    def __repr__(self):
        return f"<{self.kind}>"


def _places(n: int) -> np.ndarray:
    return np.sort(np.random.default_rng(n).choice(n, SAMPLE, replace=False))


def encode_array(values) -> dict:
    """An array (anything ``np.asarray`` takes) as plain JSON: its shape and float64 values."""
    arr = np.asarray(values, dtype=np.float64)
    flat = arr.ravel()
    if flat.size > SAMPLE:
        flat = flat[_places(flat.size)]
    return {"a": {"shape": list(arr.shape), "n": int(arr.size),
                  "data": base64.b64encode(np.ascontiguousarray(flat).tobytes()).decode()}}


class Recorded:
    """A decoded array: its ``shape``, how many elements it had, and the values kept."""

    def __init__(self, shape, n, data):
        self.shape, self.n, self.data = tuple(shape), n, data

    def __eq__(self, other):
        return (isinstance(other, Recorded) and self.shape == other.shape
                and np.array_equal(self.data, other.data, equal_nan=True))

    def __repr__(self):
        shown = np.array2string(self.data.reshape(self.shape) if self.data.size == self.n else self.data,
                                threshold=20, precision=4)
        return f"tensor de forma {self.shape}: {shown}"


def decode(obj):
    """The value :func:`encode_array` and the recorder in :mod:`helpers.checks` wrote as JSON."""
    if isinstance(obj, list):
        return [decode(v) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if "t" in obj:
        return tuple(decode(v) for v in obj["t"])
    if "d" in obj:
        return {decode(k) if not isinstance(k, list) else tuple(decode(k)): decode(v) for k, v in obj["d"]}
    if "s" in obj:
        items = [decode(v) for v in obj["s"]]
        try:
            return frozenset(items)
        except TypeError:  # only hashable values make a set
            return NotPlain("set")
    if "a" in obj:
        a = obj["a"]
        return Recorded(a["shape"], a["n"], np.frombuffer(base64.b64decode(a["data"]), dtype=np.float64))
    return NotPlain(obj.get("x", "?"))


def _fail(message: str, hint: str | None) -> str:
    return message + (f" Pista: {hint}" if hint else "")


def _as_array(value):
    """``value`` (decoded, or a Colab value already made an array) as a :class:`Recorded`, or None."""
    if isinstance(value, Recorded):
        return value
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    flat = arr.ravel()
    return Recorded(arr.shape, arr.size, flat[_places(flat.size)] if flat.size > SAMPLE else flat)


def shape_of(value) -> tuple:
    """The shape a check reads from a decoded value (a recorded array's, or a recorded tuple itself)."""
    if isinstance(value, Recorded):
        return value.shape
    return tuple(value) if isinstance(value, (tuple, list)) else ()


def _not_plain(value) -> "NotPlain | None":
    """The first :class:`NotPlain` inside ``value`` (itself, or in a tuple, list or dict), if any."""
    if isinstance(value, NotPlain):
        return value
    inside = list(value.items()) if isinstance(value, dict) else value if isinstance(value, (tuple, list)) else []
    for item in inside:
        found = _not_plain(item)
        if found is not None:
            return found
    return None


def judge(kind: str, value, expected, what: str = "El resultado", hint: str | None = None,
          rtol: float = 1e-4, atol: float = 1e-5, trainable_only: bool = False) -> str | None:
    """``None`` if ``value`` passes the check ``kind`` against ``expected``; else the Spanish message.

    ``kind`` is ``shape`` (``value`` a shape, ``expected`` the one wanted), ``close`` (arrays within
    ``rtol``/``atol``), ``equal``, ``count`` (a parameter count) or ``true`` (``value`` must be True).
    """
    bad = _not_plain(value)
    if bad is not None and kind != "true":
        return _fail(f"{what}: se obtuvo un objeto de tipo {bad.kind}, que no es un valor que se pueda "
                     "comprobar (se esperaba un tensor, un número, una tupla, una lista o un diccionario).", hint)
    if kind == "true":
        return None if value is True else _fail(what, hint)
    if kind == "shape":
        got, want = tuple(value), tuple(expected)
        return None if got == want else _fail(f"{what}: se esperaba la forma {want}, se obtuvo {got}.", hint)
    if kind == "count":
        if value == expected and type(value) is int:
            return None
        kind_name = "parámetros entrenables" if trainable_only else "parámetros"
        return _fail(f"{what}: se esperaban {expected:,} {kind_name}, tiene {value:,} "
                     f"(diferencia {value - expected:+,}).", hint)
    if kind == "equal":
        if isinstance(value, float) and isinstance(expected, float) and math.isclose(value, expected):
            return None
        return None if value == expected else _fail(f"{what}: se esperaba {expected!r}, se obtuvo {value!r}.", hint)
    if kind == "close":
        got, want = _as_array(value), _as_array(expected)
        if got is None:
            return _fail(f"{what}: el resultado no es un tensor ni una lista de números.", hint)
        if got.shape != want.shape:
            return _fail(f"{what}: se esperaba la forma {want.shape}, se obtuvo {got.shape}.", hint)
        if np.allclose(got.data, want.data, rtol=rtol, atol=atol, equal_nan=True):
            return None
        scale = max(np.abs(want.data).max(initial=0.0), 1e-12)
        with np.errstate(invalid="ignore"):
            err = np.nanmax(np.abs(got.data - want.data), initial=0.0) / scale
        if not np.isfinite(got.data).all() and np.isfinite(want.data).all():
            err = float("inf")
        return _fail(f"{what}: los valores no coinciden (error relativo máximo {err:.2e}, tolerancia {rtol:.0e}).",
                     hint)
    raise ValueError(f"unknown check kind {kind!r}")

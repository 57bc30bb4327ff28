"""Pretrained torchvision models with an offline fallback, and parameter counting."""
import pickle
import warnings
import zipfile
from pathlib import Path

import torch
import torchvision

from .runtime import profile


class CourseWarning(UserWarning):
    """A warning meant for the student, in Spanish."""


def pretrained_model(name: str):
    """Return ``(model, weights)`` for torchvision's ``name`` (``"alexnet"``, ``"vgg16"``, ...).

    ``weights`` is always the ImageNet weights entry, so ``weights.transforms()`` and
    ``weights.meta["categories"]`` work offline. The model carries those weights in the ``full``
    profile; in ``smoke``, or when they cannot be downloaded, it is built with ``weights=None`` and a
    Spanish warning says its predictions are random.
    """
    try:
        weights = torchvision.models.get_model_weights(name).DEFAULT
    except (ValueError, KeyError):
        raise ValueError(f"torchvision no tiene un modelo llamado {name!r}.") from None
    reason = "el perfil 'smoke' no descarga nada"
    if profile().pretrained:
        try:
            return torchvision.models.get_model(name, weights=weights), weights
        except Exception as e:  # no network, full disk, interrupted download...
            reason = f"no se pudieron descargar ({type(e).__name__}: {e})"
    warnings.warn(f"{name}: sin pesos de ImageNet porque {reason}. Se usa weights=None (pesos "
                  "aleatorios): el código funciona igual, pero las predicciones no significan nada.",
                  CourseWarning, stacklevel=2)
    return torchvision.models.get_model(name, weights=None), weights


# Not mutated: labs forbid it with checks.forbidding, which swaps its code and so cannot ban a closure, and
# mutmut would wrap it in one (its trampoline decorator).
def count_parameters(model: torch.nn.Module, trainable_only: bool = False) -> int:  # pragma: no mutate
    """Return the number of parameters of ``model`` (only those with ``requires_grad`` if asked)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)  # pragma: no mutate


def copy_weights_in_order(source: torch.nn.Module, target: torch.nn.Module) -> torch.nn.Module:
    """Copy ``source``'s parameters into ``target`` one by one, in registration order.

    Works across different attribute names as long as both models declare the same shapes in the
    same order; raises a Spanish ``ValueError`` naming the first mismatch otherwise. Returns ``target``.
    """
    src, dst = list(source.parameters()), list(target.parameters())
    if len(src) != len(dst):
        raise ValueError(f"Los modelos tienen {len(src)} y {len(dst)} tensores de parámetros: "
                         "no se pueden emparejar en orden.")
    for i, (a, b) in enumerate(zip(src, dst)):
        if a.shape != b.shape:
            raise ValueError(f"El parámetro n.º {i} tiene forma {tuple(a.shape)} en el modelo de origen "
                             f"y {tuple(b.shape)} en el tuyo: revisa el orden y el tamaño de tus capas.")
    with torch.no_grad():
        for a, b in zip(src, dst):
            b.copy_(a)
    return target


def saved_kind(path) -> str:
    """What ``torch.save`` wrote at ``path``, read with ``weights_only=True`` so that none of the file's code
    runs: ``"state_dict"`` (a dictionary of tensors), ``"objeto"`` (a Python object that only a full unpickling
    could rebuild, such as a whole model saved with ``torch.save(model)``), ``"otro"`` (it loads, but is not a
    dictionary of tensors), ``"ilegible"`` (not an archive written by ``torch.save``) or ``"ninguno"`` (no file)."""
    path = Path(path)
    if not path.is_file():
        return "ninguno"
    if not zipfile.is_zipfile(path):  # torch.save writes a zip archive
        return "ilegible"
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        return "objeto"
    except Exception:  # truncated or not written by torch.save
        return "ilegible"
    if isinstance(content, dict) and content and all(isinstance(v, torch.Tensor) for v in content.values()):
        return "state_dict"
    return "otro"

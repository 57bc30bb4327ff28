"""Feature caching for a frozen backbone: run it once over a dataset and train the head on the result."""
import torch

from .runtime import profile


@torch.no_grad()
def extract_features(backbone: torch.nn.Module, loader, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``backbone`` once over ``loader`` and return ``(features, labels)`` as CPU tensors.

    The backbone runs in evaluation mode (its previous mode is restored afterwards) and without
    gradients, so the result is exactly what a frozen backbone feeds its head on every epoch; pass
    both tensors to :class:`helpers.data.TensorLoader` to train the head on them. ``device``
    defaults to the profile's.
    """
    device = torch.device(device) if device is not None else profile().device
    was_training = backbone.training
    backbone.to(device).eval()
    features, labels = [], []
    try:
        for x, y in loader:
            features.append(backbone(x.to(device)).float().cpu())
            labels.append(torch.as_tensor(y).cpu())
    finally:
        backbone.train(was_training)
    if not features:
        raise ValueError("El cargador de datos está vacío: no hay imágenes de las que extraer características.")
    return torch.cat(features), torch.cat(labels)


def feature_loader(backbone: torch.nn.Module, loader, batch_size: int = 64, shuffle: bool = False,
                   device=None, seed: int | None = None):
    """Extract ``backbone``'s features over ``loader`` once and return a ``TensorLoader`` over them."""
    from .data import TensorLoader

    features, labels = extract_features(backbone, loader, device)
    return TensorLoader(features, labels, batch_size=batch_size, shuffle=shuffle, device=device, seed=seed)

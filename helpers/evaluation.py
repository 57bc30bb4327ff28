"""Predictions and metrics: loss, accuracy overall and per class, confusion matrix."""
import torch


@torch.no_grad()
def predict(model: torch.nn.Module, loader, device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(predicted, true)`` labels of every example in ``loader``, as CPU tensors."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    preds, targets = [], []
    for x, y in loader:
        preds.append(model(x.to(device)).argmax(1).cpu())
        targets.append(torch.as_tensor(y).cpu())
    return torch.cat(preds), torch.cat(targets)


@torch.no_grad()
def evaluate(model: torch.nn.Module, loader, loss_fn, device=None) -> tuple[float, float]:
    """Return the mean loss and the accuracy (0 to 1) of ``model`` over ``loader``."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.eval()
    total, correct, seen = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device), torch.as_tensor(y).to(device)
        out = model(x)
        total += loss_fn(out, y).item() * len(y)
        correct += (out.argmax(1) == y).sum().item()
        seen += len(y)
    if seen == 0:
        raise ValueError("El cargador de datos está vacío: no hay nada que evaluar.")
    return total / seen, correct / seen


def accuracy(predicted: torch.Tensor, true: torch.Tensor) -> float:
    """Fraction of ``predicted`` labels equal to ``true`` ones."""
    if predicted.shape != true.shape:
        raise ValueError(f"Las predicciones tienen forma {tuple(predicted.shape)} y las etiquetas "
                         f"{tuple(true.shape)}: deben ser iguales.")
    return (predicted == true).float().mean().item()


def confusion_matrix(predicted: torch.Tensor, true: torch.Tensor, num_classes: int) -> torch.Tensor:
    """``num_classes`` x ``num_classes`` counts: row = true class, column = predicted class."""
    index = true.long() * num_classes + predicted.long()
    return torch.bincount(index, minlength=num_classes ** 2).reshape(num_classes, num_classes)


def per_class_accuracy(predicted: torch.Tensor, true: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Accuracy of each class (recall): correct / examples of that class; NaN for an absent class."""
    cm = confusion_matrix(predicted, true, num_classes).float()
    return cm.diag() / cm.sum(1)

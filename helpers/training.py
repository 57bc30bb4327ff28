"""The training loop every lab uses: progress bar, per-batch losses, per-epoch metrics, checkpoints."""
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .evaluation import evaluate
from .runtime import profile


@dataclass
class History:
    """What :func:`fit` records: the loss of every batch and one row of metrics per epoch."""

    batch_loss: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def total_seconds(self) -> float:
        """Training time over all epochs, in seconds."""
        return sum(self.seconds)


def progress(iterable, **kwargs):
    """A ``tqdm`` progress bar, silent in the smoke profile so that logs stay readable."""
    return tqdm(iterable, disable=profile().is_smoke, **kwargs)


def amp_context(device: torch.device):
    """Mixed precision (bfloat16/float16 autocast) on CUDA; does nothing on the CPU."""
    device = torch.device(device)
    return torch.autocast("cuda", dtype=torch.float16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)


def prepare_model(model: torch.nn.Module, device, channels_last: bool = False) -> torch.nn.Module:
    """Move ``model`` to ``device``; with ``channels_last``, in that memory format on CUDA only.

    ``channels_last`` speeds up convolutions on recent GPUs, but a forward pass that flattens with
    ``.view`` then fails (the tensor is no longer contiguous), so it is opt-in.
    """
    device = torch.device(device)
    model = model.to(device)
    return model.to(memory_format=torch.channels_last) if channels_last and device.type == "cuda" else model


def fit(model: torch.nn.Module, train_loader, loss_fn, optimizer, epochs: int = 1, device=None,
        val_loader=None, scheduler=None, max_batches: int | None = -1, checkpoint: str | Path | None = None,
        amp: bool = True, channels_last: bool = False, resume: str | Path | None = None) -> History:
    """Train ``model`` for ``epochs`` and return its :class:`History`.

    Each epoch shows a progress bar, keeps every batch's loss and, with ``val_loader``, evaluates loss
    and accuracy. ``scheduler`` (if any) steps once per epoch. ``max_batches`` caps batches per epoch
    (default: the profile's cap). With ``checkpoint``, the weights with the best validation accuracy
    (or training loss without validation) are saved there and loaded back at the end. On CUDA the
    model trains in mixed precision (``amp``) and, if asked, ``channels_last`` (see
    :func:`prepare_model`); on the CPU neither applies.

    With ``resume``, the whole state of the run (weights, optimiser, scheduler, history, random
    generators, the best score) is written to that file after every epoch; a later call with the same
    file and ``epochs`` (a new Colab session, say) goes on from the next epoch, so an interrupted run
    ends as an uninterrupted one would.
    """
    device = torch.device(device) if device is not None else profile().device
    max_batches = profile().max_batches if max_batches == -1 else max_batches
    model = prepare_model(model, device, channels_last)
    scaler = torch.amp.GradScaler("cuda", enabled=amp and device.type == "cuda")
    history, best, first = History(), None, 0
    if resume is not None:
        first, history, best = _resume(resume, epochs, model, optimizer, scheduler, scaler, train_loader, device)
    for epoch in range(first, epochs):
        model.train()
        start, seen, losses = time.perf_counter(), 0, []
        # loss and hits stay on the device; the host reads them once per epoch, not once per batch
        total = torch.zeros((), device=device)
        correct = torch.zeros((), dtype=torch.long, device=device)
        n_batches = len(train_loader) if max_batches is None else min(len(train_loader), max_batches)
        bar = progress(train_loader, total=n_batches, desc=f"Época {epoch + 1}/{epochs}", leave=False)
        for i, (x, y) in enumerate(bar):
            if i == n_batches:
                break
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            optimizer.zero_grad(set_to_none=True)
            with amp_context(device) if amp else torch.autocast(device.type, enabled=False):
                out = model(x)
                loss = loss_fn(out, y)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            loss = loss.detach().float()
            losses.append(loss)
            total += loss * len(y)
            correct += (out.argmax(1) == y).sum()
            seen += len(y)
        if losses:
            history.batch_loss += torch.stack(losses).tolist()
            bar.set_postfix(pérdida=f"{history.batch_loss[-1]:.4f}")
        bar.close()
        history.train_loss.append(total.item() / max(seen, 1))
        history.train_acc.append(correct.item() / max(seen, 1))
        history.lr.append(optimizer.param_groups[0]["lr"])
        if val_loader is not None:
            val_loss, val_acc = evaluate(model, val_loader, loss_fn, device)
            history.val_loss.append(val_loss)
            history.val_acc.append(val_acc)
        if scheduler is not None:
            scheduler.step()
        history.seconds.append(time.perf_counter() - start)
        score = history.val_acc[-1] if val_loader is not None else -history.train_loss[-1]
        if checkpoint is not None and (best is None or score > best):
            best = score
            torch.save(model.state_dict(), checkpoint)
        summary = f"Época {epoch + 1}/{epochs}: pérdida {history.train_loss[-1]:.4f}, exactitud {history.train_acc[-1]:.2%}"
        if val_loader is not None:
            summary += f"; validación: pérdida {history.val_loss[-1]:.4f}, exactitud {history.val_acc[-1]:.2%}"
        if not profile().is_smoke:
            tqdm.write(summary)
        if resume is not None:
            _save_state(resume, epoch + 1, epochs, model, optimizer, scheduler, scaler, train_loader, history, best)
    if checkpoint is not None:
        model.load_state_dict(torch.load(checkpoint, map_location=device))
    return history


def run_epochs(train_epoch, model: torch.nn.Module, loader, loss_fn, optimizer, epochs: int, device=None,
               train_eval_loader=None, val_loader=None, val_name: str = "validación") -> History:
    """Train ``model`` for ``epochs`` with a lab's own ``train_epoch(model, loader, loss_fn, optimizer,
    device)`` (which returns the loss of each batch) and return the :class:`History`.

    ``batch_loss`` keeps every batch's loss, in order. After each epoch the model is measured in
    evaluation mode on ``train_eval_loader`` (a fixed sample of the training set: ``train_loss`` and
    ``train_acc``) and on ``val_loader`` (``val_loss`` and ``val_acc``), so that both curves are measured
    the same way; one line per epoch reports them, naming the second set ``val_name``.
    """
    device = torch.device(device) if device is not None else profile().device
    history = History()
    for epoch in range(epochs):
        began = time.perf_counter()
        model.train()
        losses = [float(loss) for loss in train_epoch(model, loader, loss_fn, optimizer, device)]
        history.seconds.append(time.perf_counter() - began)
        history.batch_loss += losses
        history.lr.append(optimizer.param_groups[0]["lr"])
        line = f"Época {epoch + 1}/{epochs}: pérdida media de los lotes {np.mean(losses):.4f}"
        for measured, (losses_of, accs_of, name) in ((train_eval_loader, (history.train_loss, history.train_acc,
                                                                          "entrenamiento")),
                                                     (val_loader, (history.val_loss, history.val_acc, val_name))):
            if measured is not None:
                loss, acc = evaluate(model, measured, loss_fn, device)
                losses_of.append(loss)
                accs_of.append(acc)
                line += f" · {name}: pérdida {loss:.4f}, exactitud {acc:.2%}"
        print(line)
    return history


def _generators(loader) -> list[torch.Generator]:
    """The random generators a run draws from: the global one and the loader's own (shuffling, augmentation)."""
    own = getattr(loader, "generator", None)
    return [torch.default_generator] + ([own] if isinstance(own, torch.Generator) else [])


def _save_state(path, done: int, epochs: int, model, optimizer, scheduler, scaler, loader, history, best) -> None:
    """Write everything :func:`fit` needs to go on after epoch ``done``, atomically (never half a file)."""
    state = {"epochs": epochs, "done": done, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
             "scheduler": scheduler.state_dict() if scheduler is not None else None,
             "scaler": scaler.state_dict(), "history": asdict(history), "best": best,
             "generators": [g.get_state() for g in _generators(loader)]}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".parcial")
    torch.save(state, partial)
    os.replace(partial, path)


def _resume(path, epochs: int, model, optimizer, scheduler, scaler, loader, device) -> tuple[int, History, float | None]:
    """Load the state :func:`_save_state` wrote, if it belongs to a run of ``epochs``: (next epoch, history, best)."""
    path = Path(path)
    if not path.exists():
        return 0, History(), None
    state = torch.load(path, map_location=device, weights_only=False)
    if state.get("epochs") != epochs:
        print(f"{path} es de un entrenamiento de {state.get('epochs')} épocas, no de {epochs}: se empieza de cero.")
        return 0, History(), None
    model.load_state_dict(state["model"])
    optimizer.load_state_dict(state["optimizer"])
    if scheduler is not None and state["scheduler"] is not None:
        scheduler.load_state_dict(state["scheduler"])
    if state["scaler"]:  # empty when saved without CUDA: a run begun on a CPU resumes on a GPU with a fresh scaler
        scaler.load_state_dict(state["scaler"])
    for generator, saved in zip(_generators(loader), state["generators"]):
        generator.set_state(saved.cpu() if generator.device.type == "cpu" else saved)
    done = state["done"]
    print(f"Se reanuda el entrenamiento guardado en {path}: {done} de {epochs} épocas hechas"
          + (", sigue en la época " + str(done + 1) if done < epochs else ", ya estaba terminado") + ".")
    return done, History(**state["history"]), state["best"]


def snapshot(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """A detached copy of ``model``'s parameters, to check later which ones a step changed."""
    return {name: p.detach().clone() for name, p in model.named_parameters()}


def changed_parameters(before: dict[str, torch.Tensor], model: torch.nn.Module) -> set[str]:
    """Names of ``model``'s parameters that differ from the :func:`snapshot` ``before``."""
    return {name for name, p in model.named_parameters() if not torch.equal(before[name], p.detach())}


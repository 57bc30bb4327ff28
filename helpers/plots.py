"""Figures the labs show: image grids, loss curves, training histories, confusion matrices."""
import matplotlib.pyplot as plt
import numpy as np
import torch


def _as_image(img) -> np.ndarray:
    img = torch.as_tensor(img).detach().cpu().float()
    if img.ndim == 3:  # (C, H, W) to (H, W, C); matplotlib draws (H, W, 1) as a grey (H, W) image
        img = img.permute(1, 2, 0)
    return img.numpy()


def show_images(images, titles=None, ncols: int = 4, size: float = 2.0, cmap: str = "gray"):
    """Show a grid of images (``(C, H, W)`` tensors or arrays) with optional titles; return the figure."""
    n = len(images)
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(_as_image(images[i]), cmap=cmap)
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    fig.tight_layout()
    return fig


def running_average(values, window: int = 60) -> np.ndarray:
    """Mean of the last ``window`` values at every position (fewer at the start)."""
    values = np.asarray(values, dtype=float)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    start = np.maximum(idx - window, 0)
    return (sums[idx] - sums[start]) / (idx - start)


def plot_losses(curves: dict, window: int = 60):
    """Plot per-batch losses (``{"name": losses}``) faintly, with their running average on top."""
    fig, ax = plt.subplots(figsize=(8, 4))
    for name, losses in curves.items():
        line, = ax.plot(losses, alpha=0.25)
        ax.plot(running_average(losses, window), color=line.get_color(), label=f"{name} (media de {window})")
    ax.set_xlabel("lote")
    ax.set_ylabel("pérdida")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def plot_histories(histories: dict, val_label: str = "validación", same_scale: bool = False,
                   mark_best: bool = False):
    """Loss and accuracy per epoch, training and validation, one panel pair per :class:`History`.

    ``val_label`` names the second curve (``"prueba"`` where a lab measures on its test set);
    ``same_scale`` gives every panel of a row the same vertical axis, so that models can be compared
    at a glance; ``mark_best`` draws a dotted vertical line at each model's best validation accuracy,
    the epoch whose weights ``fit`` keeps (after it, validation stops improving: overfitting).
    """
    fig, axes = plt.subplots(2, len(histories), figsize=(4.5 * len(histories), 6.5), squeeze=False,
                             sharey="row" if same_scale else False)
    for col, (name, h) in enumerate(histories.items()):
        epochs = np.arange(1, len(h.train_loss) + 1)
        best = int(np.argmax(h.val_acc)) + 1 if h.val_acc else None
        for row, (metric, label) in enumerate((("loss", "pérdida"), ("acc", "exactitud"))):
            ax = axes[row, col]
            ax.plot(epochs, getattr(h, f"train_{metric}"), "o-", label="entrenamiento")
            if getattr(h, f"val_{metric}"):
                ax.plot(epochs, getattr(h, f"val_{metric}"), "s--", label=val_label)
            if mark_best and best is not None:
                ax.axvline(best, color="gray", linestyle=":", label=f"mejor validación (época {best})")
            ax.set_title(f"{name}: {label}")
            ax.set_xlabel("época")
            ax.grid(alpha=0.3)
            ax.legend()
    fig.tight_layout()
    return fig


def plot_lr_sweep(results: dict):
    """Loss against learning rate on a log axis, from ``{rate: loss}``; rates whose loss is not a finite
    number (training diverged) are marked with a cross at the top of the panel. Rates must be positive."""
    rates = sorted(results)
    if not rates or rates[0] <= 0:
        raise ValueError("plot_lr_sweep necesita tasas positivas (el eje es logarítmico): "
                         f"se recibieron {rates}.")
    losses = np.array([float(results[r]) for r in rates])
    finite = np.isfinite(losses)
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(np.array(rates)[finite], losses[finite], "o-", label="pérdida media")
    if not finite.all():
        top = losses[finite].max() * 1.1 if finite.any() else 1.0
        ax.plot(np.array(rates)[~finite], np.full((~finite).sum(), top), "rx", markersize=10,
                label="diverge (no es un número finito)")
    ax.set_xscale("log")
    ax.set_xlabel("tasa de aprendizaje")
    ax.set_ylabel("pérdida")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_matrix(cm, class_names, normalize: bool = True):
    """Heat map of a confusion matrix (rows: true class), normalised per row by default."""
    cm = torch.as_tensor(cm).float()
    shown = cm / cm.sum(1, keepdim=True).clamp(min=1) if normalize else cm
    k = len(class_names)
    fig, ax = plt.subplots(figsize=(0.6 * k + 2.5, 0.6 * k + 2))
    im = ax.imshow(shown.numpy(), cmap="Blues", vmin=0)
    ax.set_xticks(range(k), class_names, rotation=45, ha="right")
    ax.set_yticks(range(k), class_names)
    ax.set_xlabel("predicha")
    ax.set_ylabel("verdadera")
    for i in range(k):
        for j in range(k):
            value = f"{shown[i, j]:.2f}" if normalize else f"{int(shown[i, j])}"
            ax.text(j, i, value, ha="center", va="center", fontsize=7,
                    color="white" if shown[i, j] > shown.max() / 2 else "black")
    fig.colorbar(im, ax=ax)
    fig.tight_layout()
    return fig


def show_mistakes(images, predicted, true, class_names, limit: int = 16, ncols: int = 8):
    """Grid of misclassified images titled ``verdadera → predicha``; return the figure (or None)."""
    wrong = torch.nonzero(torch.as_tensor(predicted) != torch.as_tensor(true)).flatten()[:limit].tolist()
    if not wrong:
        print("No hay errores que mostrar.")
        return None
    titles = [f"{class_names[int(true[i])]} → {class_names[int(predicted[i])]}" for i in wrong]
    return show_images([images[i] for i in wrong], titles, ncols=min(ncols, len(wrong)))


def plot_class_distribution(labels, class_names, title: str = "Distribución de clases"):
    """Bar chart of how many examples each class has."""
    counts = torch.bincount(torch.as_tensor(labels), minlength=len(class_names)).tolist()
    fig, ax = plt.subplots(figsize=(8, 3.5))
    bars = ax.bar(class_names, counts)
    ax.bar_label(bars)
    ax.set_title(title)
    ax.set_ylabel("ejemplos")
    fig.tight_layout()
    return fig


def show_saliency(images, maps, titles=None, size: float = 2.0):
    """Each image (top row) above its saliency map (bottom row, brighter = the class score depends more on
    that pixel); ``maps`` are ``(H, W)`` tensors or arrays, one per image. Return the figure."""
    if len(images) != len(maps):
        raise ValueError(f"show_saliency necesita un mapa por imagen: {len(images)} imágenes y {len(maps)} mapas.")
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(size * n, 2 * size), squeeze=False)
    for i in range(n):
        top, bottom = axes[0, i], axes[1, i]
        top.imshow(_as_image(images[i]), cmap="gray")
        bottom.imshow(_as_image(maps[i]), cmap="hot")
        if titles is not None:
            top.set_title(str(titles[i]), fontsize=9)
        top.axis("off")
        bottom.axis("off")
    axes[1, 0].set_title("saliencia", fontsize=9, loc="left")
    fig.tight_layout()
    return fig


def plot_features_2d(features, labels, class_names, method: str = "pca", max_points: int = 2000, seed: int = 0):
    """Scatter of ``features`` (``(N, D)``, one row per example) projected onto a plane, one colour per
    class of ``labels``; return the figure.

    ``method="pca"`` projects onto the two directions of largest variance (fast, and distances keep their
    meaning); ``method="tsne"`` uses t-SNE from scikit-learn, which keeps neighbours together but bends
    distances (slower: seconds for a few thousand points). At most ``max_points`` examples, drawn at
    random with ``seed``, are shown.
    """
    if method not in ("pca", "tsne"):
        raise ValueError(f"plot_features_2d: method debe ser 'pca' o 'tsne', no {method!r}.")
    x = torch.as_tensor(features).detach().cpu().double().flatten(1)
    y = torch.as_tensor(labels).detach().cpu().long()
    if len(x) != len(y):
        raise ValueError(f"plot_features_2d necesita una etiqueta por fila: {len(x)} filas y {len(y)} etiquetas.")
    if len(x) < 3:
        raise ValueError(f"plot_features_2d necesita al menos 3 ejemplos para proyectarlos; recibió {len(x)}.")
    if len(x) > max_points:
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:max_points].sort().values
        x, y = x[keep], y[keep]
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(n_components=2, random_state=seed)
        plane = pca.fit_transform(x.numpy())
        axis_names = [f"componente principal {i + 1} ({share:.0%} de la varianza)"
                      for i, share in enumerate(pca.explained_variance_ratio_)]
    else:
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(1.0, (len(x) - 1) / 3)))  # t-SNE needs fewer neighbours than points
        plane = TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(x.numpy())
        axis_names = ["t-SNE 1", "t-SNE 2"]
    fig, ax = plt.subplots(figsize=(7, 5.5))
    colours = plt.get_cmap("tab10" if len(class_names) <= 10 else "tab20")
    for k, name in enumerate(class_names):
        mine = (y == k).numpy()
        if mine.any():
            ax.scatter(plane[mine, 0], plane[mine, 1], s=10, alpha=0.7, color=colours(k % colours.N), label=name)
    ax.set_xlabel(axis_names[0])
    ax.set_ylabel(axis_names[1])
    ax.set_title(f"{len(x)} ejemplos proyectados con {'PCA' if method == 'pca' else 't-SNE'}")
    ax.legend(markerscale=2, fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig

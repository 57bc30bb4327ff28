import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from helpers import plots
from helpers.training import History


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_running_average():
    assert plots.running_average([1, 2, 3, 4], window=2).tolist() == [1.0, 1.5, 2.5, 3.5]
    values = np.random.default_rng(0).random(50)
    smooth = plots.running_average(values, window=7)
    assert smooth[30] == pytest.approx(values[24:31].mean()) and smooth[2] == pytest.approx(values[:3].mean())
    assert plots.running_average(np.arange(100.0))[99] == pytest.approx(np.arange(40, 100).mean())  # 60 by default


def _shown(fig):
    return np.asarray(fig.axes[0].images[0].get_array())


def _cell_texts(fig):
    return [t.get_text() for t in fig.axes[0].texts]


def test_confusion_matrix_is_normalised_per_row():
    cm = torch.tensor([[3, 1, 0, 0], [0, 0, 0, 0], [2, 2, 4, 0], [0, 0, 0, 1]])
    fig = plots.plot_confusion_matrix(cm, ["a", "b", "c", "d"])
    shown = _shown(fig)
    counts = cm.numpy().astype(float)
    rows = counts.sum(1, keepdims=True)
    expected = np.divide(counts, rows, out=np.zeros_like(counts), where=rows > 0)
    assert shown == pytest.approx(expected)
    assert shown.sum(1) == pytest.approx([1.0, 0.0, 1.0, 1.0])  # an empty class shows zeros, not NaN
    assert _cell_texts(fig) == [f"{v:.2f}" for v in expected.flatten()]
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c", "d"]


def test_confusion_matrix_can_show_raw_counts():
    cm = torch.tensor([[3, 1], [5, 7]])
    fig = plots.plot_confusion_matrix(cm, ["a", "b"], normalize=False)
    assert _shown(fig) == pytest.approx(cm.numpy())
    assert _cell_texts(fig) == ["3", "1", "5", "7"]
    # the text colour flips to white on the darker half of the scale
    colours = [t.get_color() for t in fig.axes[0].texts]
    assert colours == ["black", "black", "white", "white"]
    half = plots.plot_confusion_matrix(torch.tensor([[4, 2], [0, 4]]), ["a", "b"], normalize=False)
    assert [t.get_color() for t in half.axes[0].texts] == ["white", "black", "black", "white"]  # 2 is not above 4/2
    assert len(half.axes) == 2 and half.axes[1].get_label() == "<colorbar>"


def test_show_images_draws_each_image_with_its_title():
    imgs = torch.rand(5, 1, 8, 8)
    fig = plots.show_images(imgs, list("abcde"), ncols=3)
    assert len(fig.axes) == 6
    drawn = [ax for ax in fig.axes if ax.images]
    assert [ax.get_title() for ax in drawn] == list("abcde")
    assert np.asarray(drawn[1].images[0].get_array()) == pytest.approx(imgs[1, 0].numpy())
    colour = plots.show_images(torch.rand(2, 3, 4, 5), ncols=2)
    assert np.asarray(colour.axes[0].images[0].get_array()).shape == (4, 5, 3)


def test_plot_losses_draws_raw_and_smoothed_curves():
    losses = np.random.default_rng(1).random(100)
    fig = plots.plot_losses({"rojo": losses, "azul": losses[::-1]}, window=10)
    lines = fig.axes[0].get_lines()
    assert len(lines) == 4
    assert lines[0].get_ydata() == pytest.approx(losses)
    assert lines[1].get_ydata() == pytest.approx(plots.running_average(losses, 10))
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["rojo (media de 10)", "azul (media de 10)"]
    assert lines[0].get_color() == lines[1].get_color() != lines[2].get_color() == lines[3].get_color()
    default = plots.plot_losses({"x": losses})
    assert [t.get_text() for t in default.axes[0].get_legend().get_texts()] == ["x (media de 60)"]


def test_plot_histories_shows_validation_only_when_recorded():
    h = History(train_loss=[2, 1], train_acc=[0.2, 0.5], val_loss=[2.1, 1.2], val_acc=[0.2, 0.4])
    no_val = History(train_loss=[3, 2, 1], train_acc=[0.1, 0.2, 0.3])
    fig = plots.plot_histories({"A": h, "B": no_val})
    assert len(fig.axes) == 4
    loss_a, loss_b, acc_a, acc_b = fig.axes
    assert [list(line.get_ydata()) for line in loss_a.get_lines()] == [[2, 1], [2.1, 1.2]]
    assert [list(line.get_ydata()) for line in acc_a.get_lines()] == [[0.2, 0.5], [0.2, 0.4]]
    assert [list(line.get_xdata()) for line in loss_a.get_lines()] == [[1, 2], [1, 2]]  # epochs count from 1
    assert [list(line.get_xdata()) for line in loss_b.get_lines()] == [[1, 2, 3]]
    assert "A" in loss_a.get_title() and "B" in acc_b.get_title()


def test_plot_histories_can_share_each_rows_scale_and_mark_the_best_validation_epoch():
    overfits = History(train_loss=[2, 1, 0.5, 0.2], train_acc=[0.3, 0.5, 0.7, 0.9],
                       val_loss=[2, 1.5, 1.7, 2.0], val_acc=[0.3, 0.45, 0.40, 0.38])
    steady = History(train_loss=[20, 10], train_acc=[0.1, 0.2], val_loss=[21, 11], val_acc=[0.1, 0.25])
    fig = plots.plot_histories({"A": overfits, "B": steady}, same_scale=True, mark_best=True)
    loss_a, loss_b, acc_a, acc_b = fig.axes
    assert loss_a.get_ylim() == loss_b.get_ylim() and acc_a.get_ylim() == acc_b.get_ylim()
    marks = [line for line in acc_a.get_lines() if line.get_linestyle() == ":"]
    assert [list(m.get_xdata()) for m in marks] == [[2, 2]]  # the best validation accuracy is at epoch 2
    assert "mejor validación (época 2)" in [t.get_text() for t in acc_a.get_legend().get_texts()]
    assert [list(m.get_xdata()) for m in loss_b.get_lines() if m.get_linestyle() == ":"] == [[2, 2]]
    plain = plots.plot_histories({"A": overfits, "B": steady})
    assert plain.axes[0].get_ylim() != plain.axes[1].get_ylim()
    assert not [line for ax in plain.axes for line in ax.get_lines() if line.get_linestyle() == ":"]


def test_show_mistakes_titles_only_the_wrong_predictions():
    imgs = torch.rand(6, 1, 8, 8)
    fig = plots.show_mistakes(imgs, torch.tensor([0, 1, 1, 0, 0, 0]), torch.tensor([0, 0, 1, 1, 0, 0]), ["x", "y"])
    titles = [ax.get_title() for ax in fig.axes if ax.images]
    assert titles == ["x → y", "y → x"] and len(fig.axes) == 2
    many = plots.show_mistakes(imgs, torch.ones(6), torch.zeros(6), ["x", "y"], limit=4)
    assert len([ax for ax in many.axes if ax.images]) == 4
    assert plots.show_mistakes(imgs, torch.zeros(6), torch.zeros(6), ["x", "y"]) is None


def test_show_mistakes_shows_sixteen_in_rows_of_eight_or_says_there_are_none(capsys):
    fig = plots.show_mistakes(torch.rand(20, 1, 4, 4), torch.ones(20), torch.zeros(20), ["x", "y"])
    assert len(fig.axes) == 16 and fig.axes[0].get_gridspec().get_geometry() == (2, 8)
    assert plots.show_mistakes(torch.rand(3, 1, 4, 4), torch.zeros(3), torch.zeros(3), ["x", "y"]) is None
    assert capsys.readouterr().out == "No hay errores que mostrar.\n"


def test_class_distribution_counts_each_class():
    fig = plots.plot_class_distribution(torch.tensor([0, 2, 2, 2]), ["a", "b", "c", "d"])
    assert [bar.get_height() for bar in fig.axes[0].patches] == [1, 0, 3, 0]
    assert fig.axes[0].get_title() == "Distribución de clases"


def test_lr_sweep_plots_finite_losses_in_rate_order_and_marks_divergence():
    fig = plots.plot_lr_sweep({1.0: float("nan"), 1e-3: 2.3, 1e-1: 0.4, 1e-2: 1.1, 10.0: float("inf")})
    ax = fig.axes[0]
    curve, crosses = ax.lines
    assert ax.get_xscale() == "log"
    assert list(curve.get_xdata()) == [1e-3, 1e-2, 1e-1] and list(curve.get_ydata()) == [2.3, 1.1, 0.4]
    assert list(crosses.get_xdata()) == [1.0, 10.0]
    assert list(crosses.get_ydata()) == pytest.approx([2.3 * 1.1] * 2)  # just above every finite loss
    plt.close(fig)
    fig = plots.plot_lr_sweep({1e-3: 2.3, 1e-2: 1.1})
    assert len(fig.axes[0].lines) == 1  # nothing diverged: no crosses
    plt.close(fig)
    with pytest.raises(ValueError, match="tasas positivas"):
        plots.plot_lr_sweep({0.0: 2.3, 1e-2: 1.1})


def test_saliency_shows_each_image_above_its_own_map():
    images = [torch.full((1, 4, 4), float(i)) for i in range(3)]
    maps = [torch.arange(16.0).reshape(4, 4) * (i + 1) for i in range(3)]
    fig = plots.show_saliency(images, maps, titles=["a", "b", "c"])
    axes = np.array(fig.axes).reshape(2, 3)
    for i in range(3):
        assert np.array_equal(axes[0, i].images[0].get_array(), images[i][0].numpy())
        assert np.array_equal(axes[1, i].images[0].get_array(), maps[i].numpy())
        assert axes[0, i].get_title() == "abc"[i]
    assert axes[1, 0].images[0].get_cmap().name == "hot"
    plt.close(fig)
    with pytest.raises(ValueError, match="un mapa por imagen"):
        plots.show_saliency(images, maps[:2])


def _legend(ax):
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_every_figure_says_in_spanish_what_its_axes_and_lines_are():
    """What a student reads on each figure: axis names, titles, legends and tick labels."""
    h = History(train_loss=[2, 1], train_acc=[0.2, 0.5], val_loss=[2.1, 1.2], val_acc=[0.2, 0.4])
    loss, acc = plots.plot_histories({"MLP": h}).axes
    assert (loss.get_title(), acc.get_title()) == ("MLP: pérdida", "MLP: exactitud")
    assert loss.get_xlabel() == acc.get_xlabel() == "época"
    assert _legend(loss) == _legend(acc) == ["entrenamiento", "validación"]
    (ax,) = plots.plot_losses({"SGD": [3.0, 2.0, 1.0]}, window=2).axes
    assert (ax.get_xlabel(), ax.get_ylabel(), _legend(ax)) == ("lote", "pérdida", ["SGD (media de 2)"])
    (ax,) = plots.plot_lr_sweep({0.1: 1.0, 10.0: float("nan")}).axes
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_xscale()) == ("tasa de aprendizaje", "pérdida", "log")
    assert _legend(ax) == ["pérdida media", "diverge (no es un número finito)"]
    ax = plots.plot_confusion_matrix(torch.eye(3), ["gato", "perro", "pez"]).axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicha", "verdadera")
    assert [t.get_text() for t in ax.get_xticklabels()] == [t.get_text() for t in ax.get_yticklabels()] == \
        ["gato", "perro", "pez"]
    (ax,) = plots.plot_class_distribution([0, 1, 1], ["a", "b"]).axes
    assert (ax.get_title(), ax.get_ylabel()) == ("Distribución de clases", "ejemplos")
    fig = plots.show_saliency(torch.rand(2, 1, 4, 4), torch.rand(2, 4, 4), titles=["uno", "dos"])
    assert [a.get_title() for a in fig.axes[:2]] == ["uno", "dos"]
    assert fig.axes[2].get_title(loc="left") == "saliencia"


def test_a_sweep_where_every_rate_diverged_still_marks_them():
    (ax,) = plots.plot_lr_sweep({0.5: float("inf"), 5.0: float("nan")}).axes
    crosses = ax.get_lines()[-1]
    assert list(crosses.get_xdata()) == [0.5, 5.0] and list(crosses.get_ydata()) == [1.0, 1.0]
    with pytest.raises(ValueError, match=r"^plot_lr_sweep necesita tasas positivas \(el eje es logarítmico\): "
                                         r"se recibieron \[0, 1\]\.$"):
        plots.plot_lr_sweep({1: 1.0, 0: 2.0})


def test_grey_images_are_shown_as_grey_and_colour_ones_in_colour():
    fig = plots.show_images([torch.rand(1, 5, 6), torch.rand(3, 5, 6)], ncols=2)
    grey, colour = (ax.images[0] for ax in fig.axes)
    assert grey.get_array().shape == (5, 6) and grey.get_cmap().name == "gray"
    assert colour.get_array().shape == (5, 6, 3)
    fig = plots.show_saliency([torch.rand(1, 5, 6)], [torch.rand(5, 6)])
    assert fig.axes[0].images[0].get_cmap().name == "gray" and fig.axes[1].images[0].get_cmap().name == "hot"


def test_image_grids_show_only_the_pictures_four_to_a_row_by_default():
    """No frames or ticks around the pictures, and an empty slot at the end of the grid stays blank."""
    fig = plots.show_images(torch.rand(5, 1, 4, 4))
    assert fig.axes[0].get_gridspec().get_geometry() == (2, 4)
    assert len([ax for ax in fig.axes if ax.images]) == 5 and not any(ax.axison for ax in fig.axes)
    fig = plots.show_saliency(torch.rand(2, 1, 4, 4), torch.rand(2, 4, 4))
    assert not any(ax.axison for ax in fig.axes)


def test_a_single_mistake_is_shown_alone_with_its_title():
    fig = plots.show_mistakes(torch.rand(3, 1, 4, 4), torch.tensor([0, 1, 0]), torch.tensor([0, 0, 0]), ["x", "y"])
    (ax,) = fig.axes
    assert ax.get_title() == "x → y" and ax.images


def test_confusion_matrix_colour_scale_starts_at_zero_and_its_bar_reads_the_matrix():
    """The same shade means the same value in every matrix: the scale starts at 0, not at the smallest cell."""
    fig = plots.plot_confusion_matrix(torch.tensor([[3, 1], [5, 7]]), ["a", "b"], normalize=False)
    heat, bar = fig.axes
    assert heat.images[0].get_clim() == (0, 7) and bar.get_ylim() == (0, 7)
    fig = plots.plot_confusion_matrix(torch.tensor([[3, 1], [1, 3]]), ["a", "b"])
    assert fig.axes[0].images[0].get_clim() == (0, 0.75)


def test_a_single_epoch_or_rate_is_still_a_visible_point():
    """One-point curves show only through their markers; validation is dashed, divergence a cross."""
    h = History(train_loss=[2.0], train_acc=[0.3], val_loss=[2.1], val_acc=[0.2])
    for ax in plots.plot_histories({"A": h}).axes:
        train, val = ax.get_lines()
        assert train.get_marker() == "o" and val.get_marker() == "s"
        assert train.get_linestyle() == "-" and val.get_linestyle() == "--"
    curve, crosses = plots.plot_lr_sweep({0.1: 1.0, 1.0: float("nan")}).axes[0].get_lines()
    assert curve.get_marker() == "o" and crosses.get_marker() == "x" and crosses.get_linestyle() == "None"
    assert crosses.get_color() == "r"


def test_histories_name_the_second_curve_as_asked():
    h = History(train_loss=[2, 1, 0.5], train_acc=[0.2, 0.5, 0.7], val_loss=[2.1, 1.2, 0.9], val_acc=[0.2, 0.4, 0.6])
    fig = plots.plot_histories({"MLP": h, "CNN": h}, val_label="prueba")
    assert len(fig.axes) == 4
    for ax in fig.axes:
        assert _legend(ax) == ["entrenamiento", "prueba"] and len(ax.get_lines()) == 2
        assert all(len(line.get_xdata()) == 3 for line in ax.get_lines())


def _clustered(n_per_class, classes, dim=20, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 10, (classes, dim))
    labels = np.repeat(np.arange(classes), n_per_class)
    return torch.tensor(centres[labels] + rng.normal(0, 1, (len(labels), dim))), torch.tensor(labels)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_feature_map_shows_every_point_once_coloured_by_its_class(method):
    features, labels = _clustered(15, 4)
    names = ["avión", "gato", "perro", "barco", "camión"]  # the last class has no examples
    fig = plots.plot_features_2d(features, labels, names, method=method)
    (ax,) = fig.axes
    groups = ax.collections
    assert len(groups) == 4 and _legend(ax) == names[:4]
    assert [len(g.get_offsets()) for g in groups] == [15] * 4
    assert len({tuple(g.get_facecolor()[0]) for g in groups}) == 4  # one colour per class
    if method == "pca":  # well-separated clusters stay apart: each class's centre is far from the others'
        centres = np.array([np.asarray(g.get_offsets()).mean(0) for g in groups])
        spread = max(np.asarray(g.get_offsets()).std(0).max() for g in groups)
        gaps = [np.linalg.norm(a - b) for i, a in enumerate(centres) for b in centres[i + 1:]]
        assert min(gaps) > 2 * spread
        assert "varianza" in ax.get_xlabel() and "varianza" in ax.get_ylabel()
    else:
        assert (ax.get_xlabel(), ax.get_ylabel()) == ("t-SNE 1", "t-SNE 2")


def test_feature_map_draws_at_most_max_points_and_refuses_bad_input():
    features, labels = _clustered(50, 3)
    fig = plots.plot_features_2d(features, labels, ["a", "b", "c"], max_points=40)
    assert sum(len(g.get_offsets()) for g in fig.axes[0].collections) == 40
    assert fig.axes[0].get_title() == "40 ejemplos proyectados con PCA"
    with pytest.raises(ValueError, match="una etiqueta por fila"):
        plots.plot_features_2d(features, labels[:10], ["a", "b", "c"])
    with pytest.raises(ValueError, match="'pca' o 'tsne'"):
        plots.plot_features_2d(features, labels, ["a", "b", "c"], method="umap")

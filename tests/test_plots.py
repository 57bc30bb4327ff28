import matplotlib

matplotlib.use("Agg")
import numpy as np
import torch

from helpers import plots
from helpers.training import History


def test_running_average():
    assert plots.running_average([1, 2, 3, 4], window=2).tolist() == [1.0, 1.5, 2.5, 3.5]


def test_figures_are_drawn():
    imgs = torch.rand(6, 1, 8, 8)
    assert len(plots.show_images(imgs, list("abcdef"), ncols=3).axes) == 6
    assert plots.plot_losses({"red": np.random.rand(100)}, window=10).axes[0].get_legend() is not None
    h = History(train_loss=[2, 1], train_acc=[0.2, 0.5], val_loss=[2.1, 1.2], val_acc=[0.2, 0.4])
    assert len(plots.plot_histories({"A": h, "B": h}).axes) == 4
    assert plots.plot_confusion_matrix(torch.eye(3) * 5, ["a", "b", "c"]) is not None
    assert plots.show_mistakes(imgs, torch.tensor([0, 1, 1, 0, 0, 0]), torch.zeros(6), ["x", "y"]) is not None
    assert plots.show_mistakes(imgs, torch.zeros(6), torch.zeros(6), ["x", "y"]) is None
    assert plots.plot_class_distribution(torch.tensor([0, 1, 1]), ["a", "b"]) is not None

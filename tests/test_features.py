import pytest
import torch
from torch import nn

from helpers import seed_everything, training
from helpers.data import TensorLoader
from helpers.features import extract_features, feature_loader


def small_backbone():
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Dropout(0.5), nn.MaxPool2d(2),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten())


def test_features_equal_the_backbone_output_in_eval_mode():
    seed_everything(0)
    backbone = small_backbone().train()
    x, y = torch.randn(37, 3, 16, 16), torch.randint(0, 10, (37,))
    features, labels = extract_features(backbone, TensorLoader(x, y, batch_size=8, device="cpu"), "cpu")
    assert backbone.training  # the mode is restored
    with torch.no_grad():
        expected = backbone.eval()(x)
    assert features.shape == (37, 8) and torch.allclose(features, expected, atol=1e-6)
    assert torch.equal(labels, y) and not features.requires_grad


def test_works_with_a_dataloader_and_keeps_the_order():
    backbone = small_backbone()
    dataset = torch.utils.data.TensorDataset(torch.randn(20, 3, 8, 8), torch.arange(20))
    features, labels = extract_features(backbone, torch.utils.data.DataLoader(dataset, batch_size=6), "cpu")
    assert torch.equal(labels, torch.arange(20)) and features.shape == (20, 8)


def test_a_head_trains_on_cached_features_like_on_images():
    seed_everything(0)
    backbone, head = small_backbone().eval(), nn.Linear(8, 3)
    for p in backbone.parameters():
        p.requires_grad_(False)
    x, y = torch.randn(64, 3, 8, 8), torch.randint(0, 3, (64,))
    loader = feature_loader(backbone, TensorLoader(x, y, batch_size=16, device="cpu"), batch_size=16,
                            shuffle=True, device="cpu", seed=1)
    assert isinstance(loader, TensorLoader) and len(loader) == 4
    before = training.snapshot(head)
    history = training.fit(head, loader, nn.CrossEntropyLoss(), torch.optim.Adam(head.parameters(), 1e-2),
                           epochs=2, device="cpu", max_batches=None)
    assert len(history.batch_loss) == 8 and training.changed_parameters(before, head) == {"weight", "bias"}


def test_empty_loader_is_a_spanish_error():
    with pytest.raises(ValueError, match="vacío"):
        extract_features(small_backbone(), [], "cpu")


def test_feature_loader_shuffles_with_its_seed():
    x, y = torch.randn(40, 3), torch.arange(40)
    backbone = nn.Linear(3, 2)
    images = TensorLoader(x, y, batch_size=8, device="cpu")
    order = lambda loader: torch.cat([labels for _, labels in loader]).tolist()  # noqa: E731
    assert order(feature_loader(backbone, images, batch_size=8, device="cpu")) == list(range(40))
    shuffled = order(feature_loader(backbone, images, batch_size=8, shuffle=True, device="cpu", seed=3))
    assert shuffled != list(range(40)) and sorted(shuffled) == list(range(40))
    assert shuffled == order(feature_loader(backbone, images, batch_size=8, shuffle=True, device="cpu", seed=3))
    assert shuffled == order(TensorLoader(x, y, batch_size=8, shuffle=True, device="cpu", seed=3))

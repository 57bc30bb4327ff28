"""Datasets held as tensors, and a loader that batches, shuffles and augments them on the device."""
import torch
from torchvision import datasets, transforms

from .runtime import profile


class ImageTensorDataset(torch.utils.data.Dataset):
    """Images and labels held as tensors: ``images`` is ``(N, C, H, W)`` float in [0, 1].

    ``classes`` names the labels; ``skipped`` lists files that could not be read.
    """

    def __init__(self, images: torch.Tensor, targets: torch.Tensor, classes, transform=None,
                 skipped=()):
        self.images, self.targets, self.classes = images, targets, list(classes)
        self.transform, self.skipped = transform, list(skipped)

    def __len__(self) -> int:
        return len(self.targets)

    def __getitem__(self, i):
        image = self.images[i]
        return (self.transform(image) if self.transform else image), int(self.targets[i])


def _vectorized(dataset) -> tuple[torch.Tensor, torch.Tensor] | None:
    """All of a torchvision MNIST/CIFAR dataset at once, when its transform is ToTensor (+ Normalize).

    Gives exactly what the per-example transform gives, without a Python loop over examples.
    """
    steps = getattr(dataset, "transform", None)
    steps = steps.transforms if isinstance(steps, transforms.Compose) else [steps]
    raw = getattr(dataset, "data", None)
    if (not isinstance(dataset, (datasets.MNIST, datasets.CIFAR10)) or raw is None
            or not isinstance(steps[0], transforms.ToTensor)
            or not all(isinstance(t, transforms.Normalize) for t in steps[1:])
            or getattr(dataset, "target_transform", None) is not None):
        return None
    x = torch.as_tensor(raw)
    x = (x.unsqueeze(1) if x.ndim == 3 else x.permute(0, 3, 1, 2)).float().div_(255)
    for t in steps[1:]:
        x = transforms.functional.normalize(x, t.mean, t.std)
    return x.contiguous(), torch.as_tensor(dataset.targets)


def dataset_to_tensors(dataset, batch_size: int = 1024) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``dataset`` (with its transform) once and return all ``(images, labels)`` as two tensors.

    Subsets are followed to their dataset, and MNIST/CIFAR-10 with ``ToTensor``/``Normalize`` are
    converted in one vectorised step.
    """
    if isinstance(dataset, torch.utils.data.Subset):
        images, labels = dataset_to_tensors(dataset.dataset, batch_size)
        index = torch.as_tensor(dataset.indices)
        return images[index], labels[index]
    if isinstance(dataset, ImageTensorDataset) and dataset.transform is None:
        return dataset.images, dataset.targets
    fast = _vectorized(dataset)
    if fast is not None:
        return fast
    xs, ys = [], []
    for x, y in torch.utils.data.DataLoader(dataset, batch_size=batch_size):
        xs.append(x)
        ys.append(torch.as_tensor(y))
    return torch.cat(xs), torch.cat(ys)


def random_crop_flip(images: torch.Tensor, padding: int = 4, flip: bool = True,
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly shift each image by up to ``padding`` pixels (zero fill) and mirror half of them.

    Runs on whatever device ``images`` lives on; ``images`` is ``(N, C, H, W)``.
    """
    n, _, h, w = images.shape
    dev = images.device
    padded = torch.nn.functional.pad(images, (padding,) * 4)
    oy = torch.randint(0, 2 * padding + 1, (n,), device=dev, generator=generator)
    ox = torch.randint(0, 2 * padding + 1, (n,), device=dev, generator=generator)
    rows = (oy[:, None] + torch.arange(h, device=dev))[:, :, None]
    cols = (ox[:, None] + torch.arange(w, device=dev))[:, None, :]
    out = padded.permute(0, 2, 3, 1)[torch.arange(n, device=dev)[:, None, None], rows, cols].permute(0, 3, 1, 2)
    if flip:
        mirror = torch.rand(n, device=dev, generator=generator) < 0.5
        out = torch.where(mirror[:, None, None, None], out.flip(3), out)
    return out.contiguous()


class TensorLoader:
    """Batches of ``(x, y)`` cut from tensors that stay in memory (on the GPU when there is one).

    Shuffling and batching are tensor indexing, and ``augment`` (a function of a batch, such as
    :func:`random_crop_flip`) runs on the device, so no Python code touches single examples.
    Use it like a ``DataLoader``: ``for x, y in loader``.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, batch_size: int = 64,
                 shuffle: bool = False, device=None, augment=None, drop_last: bool = False,
                 seed: int | None = None):
        if len(images) != len(labels):
            raise ValueError(f"Hay {len(images)} imágenes pero {len(labels)} etiquetas: deben coincidir.")
        device = torch.device(device) if device is not None else profile().device
        self.images, self.labels = images.to(device), torch.as_tensor(labels).to(device)
        self.batch_size, self.shuffle, self.augment, self.drop_last = batch_size, shuffle, augment, drop_last
        self.generator = torch.Generator(device=device)
        self.generator.manual_seed(seed if seed is not None else torch.initial_seed() % 2**63)

    @classmethod
    def from_dataset(cls, dataset, batch_size: int = 64, shuffle: bool = False, **kwargs) -> "TensorLoader":
        """Build a loader from any map-style dataset, applying its transform once."""
        images, labels = dataset_to_tensors(dataset)
        return cls(images, labels, batch_size=batch_size, shuffle=shuffle, **kwargs)

    @property
    def dataset(self) -> torch.utils.data.TensorDataset:
        """The tensors as a ``TensorDataset`` (so ``len(loader.dataset)`` works as with a DataLoader)."""
        return torch.utils.data.TensorDataset(self.images, self.labels)

    def __len__(self) -> int:
        n = len(self.labels)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def __iter__(self):
        n = len(self.labels)
        order = (torch.randperm(n, device=self.images.device, generator=self.generator)
                 if self.shuffle else torch.arange(n, device=self.images.device))
        for b in range(len(self)):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            x = self.images[idx]
            yield (self.augment(x) if self.augment else x), self.labels[idx]

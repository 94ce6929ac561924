"""Clip-level frame sampling and the image transforms of the reference loaders.

OGM-GE (Peng et al., CVPR 2022, ``dataset/CramedDataset.py``) draws the
frames of a CREMA-D clip at random (sorted, without replacement) for
training, and its AVE loader (``dataset/dataset.py``) takes evenly spaced
frames (``seg * i``) for evaluation; MLB / MCR (``CREMAD_Dataset.py``) take
the first ones. Training frames get ``RandomResizedCrop(224)`` (scale
0.08-1, aspect ratio 3/4-4/3, each frame its own crop) and a horizontal flip,
evaluation frames are only resized; both are normalized with the ImageNet
mean and std. Written on PIL and numpy (no torchvision); the random draws
come from torch's global generator, so seeded runs repeat.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from PIL import Image
from torch import Tensor

from polymodal.errors import PolymodalError

SAMPLINGS = ("random", "uniform", "first")
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)
CROP_SCALE = (0.08, 1.0)
CROP_RATIO = (3 / 4, 4 / 3)


def sample_frames(available: int, count: int, mode: str) -> np.ndarray:
    """Indices of ``count`` frames out of ``available`` (repeated when there are fewer).

    ``random``: a sorted draw without replacement (torch's global RNG, so
    seeded runs and DataLoader workers are reproducible); ``uniform``:
    ``floor(i · available / count)``; ``first``: ``0, 1, ...``.
    """
    if mode not in SAMPLINGS:
        raise PolymodalError(f"unknown frame sampling {mode!r}; choose one of: {', '.join(SAMPLINGS)}")
    if available < 1:
        raise PolymodalError("cannot sample frames from a clip without frames")
    if mode == "uniform":
        return np.arange(count) * available // count
    if mode == "first":
        return np.minimum(np.arange(count), available - 1)
    if available < count:
        return np.sort(torch.randint(available, (count,)).numpy())
    return np.sort(torch.randperm(available)[:count].numpy())


def crop_box(height: int, width: int) -> tuple[int, int, int, int]:
    """A random ``(top, left, h, w)`` as torchvision's ``RandomResizedCrop.get_params``."""
    area = height * width
    for _ in range(10):
        target = area * float(torch.empty(1).uniform_(*CROP_SCALE))
        ratio = math.exp(float(torch.empty(1).uniform_(math.log(CROP_RATIO[0]), math.log(CROP_RATIO[1]))))
        w, h = round(math.sqrt(target * ratio)), round(math.sqrt(target / ratio))
        if 0 < w <= width and 0 < h <= height:
            return int(torch.randint(height - h + 1, ())), int(torch.randint(width - w + 1, ())), h, w
    side = min(height, width)
    return (height - side) // 2, (width - side) // 2, side, side


def _resized(image: Image.Image, size: int) -> np.ndarray:
    return np.asarray(image.resize((size, size), Image.BILINEAR))


def resize_frames(frames: np.ndarray, size: int) -> np.ndarray:
    """uint8 frames ``[F, H, W]`` or ``[F, H, W, 3]`` resized to ``[F, size, size(, 3)]`` (bilinear, antialiased)."""
    if frames.shape[1:3] == (size, size):
        return frames
    return np.stack([_resized(Image.fromarray(frame), size) for frame in frames])


def frames_to_input(frames: np.ndarray, size: int, train: bool) -> Tensor:
    """uint8 frames ``[F, H, W, 3]`` → normalized float ``[F, 3, size, size]`` (augmented when ``train``).

    Crops and resizing work on PIL images, as the reference loaders'
    torchvision transforms do; the per-item work stays single-threaded
    (torch's intra-op threads cost more than they save on tensors this small).
    """
    if train:
        images = []
        for frame in frames:
            top, left, h, w = crop_box(*frame.shape[:2])
            image = Image.fromarray(frame).crop((left, top, left + w, top + h))
            if bool(torch.rand(()) < 0.5):
                image = image.transpose(Image.FLIP_LEFT_RIGHT)
            images.append(_resized(image, size))
        frames = np.stack(images)
    else:
        frames = resize_frames(frames, size)
    x = (frames.astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))

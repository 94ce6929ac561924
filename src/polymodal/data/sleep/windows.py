"""Sequences of L consecutive epochs within a night, and averaging over overlapping windows.

SleepTransformer (arXiv 2105.11043, Sec. III-D) classifies sequences of
L = 21 epochs and, at test time, slides the window with stride 1 and
averages the class probabilities each epoch receives; CoRe-Sleep
(arXiv 2304.06485) follows it. Windows never straddle two nights.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def window_starts(n_epochs: int, length: int, stride: int) -> np.ndarray:
    """Starts of windows of ``length`` epochs every ``stride`` epochs, plus a last window ending at the night's end.

    A night shorter than ``length`` gives no window.
    """
    if length < 1 or stride < 1:
        raise ValueError(f"window length and stride must be >= 1, got {length} and {stride}")
    if n_epochs < length:
        return np.zeros(0, dtype=np.int64)
    starts = np.arange(0, n_epochs - length + 1, stride)
    if starts[-1] != n_epochs - length:
        starts = np.append(starts, n_epochs - length)
    return starts


def average_over_windows(probabilities: Tensor, windows: np.ndarray, night_lengths: list[int]) -> list[Tensor]:
    """Per-epoch mean of the window probabilities each epoch received.

    Args:
        probabilities: ``[W, L, C]`` class probabilities of ``W`` windows.
        windows: ``[W, 2]`` (night position, first epoch) of each window.
        night_lengths: epochs per night, indexed by night position.

    Returns:
        one ``[n_epochs, C]`` tensor per night (epochs no window covers are NaN).
    """
    n_windows, length, classes = probabilities.shape
    offsets = np.concatenate([[0], np.cumsum(night_lengths)])
    flat = torch.as_tensor(offsets[windows[:, 0]] + windows[:, 1])[:, None] + torch.arange(length)
    totals = torch.zeros(int(offsets[-1]), classes, dtype=probabilities.dtype)
    counts = torch.zeros(int(offsets[-1]), dtype=probabilities.dtype)
    totals.index_add_(0, flat.reshape(-1), probabilities.reshape(-1, classes))
    counts.index_add_(0, flat.reshape(-1), torch.ones(n_windows * length, dtype=probabilities.dtype))
    return list(torch.split(totals / counts[:, None], list(night_lengths)))

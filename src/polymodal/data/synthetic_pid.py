"""Synthetic PID datasets with a known Bayes-optimal accuracy (see :mod:`polymodal.data.pid_generator`).

Two presets; modalities are named ``m0``, ``m1`` (, ``m2``) and every
per-modality knob is a list in that order:

* ``imbalance`` — two modalities and two uniqueness atoms. ``m0`` (dominant:
  low noise, few distractors) carries latent ``a``; ``m1`` (weak: more
  noise, many distractors) carries latent ``b``; both carry the selector.
  ``y = a`` for a share ``shares[0]`` of the samples, ``y = b`` for the rest,
  so ``m0`` alone is sufficient for most labels and easy to learn, ``m1`` is
  harder but complementary, and only fusion reaches the Bayes accuracy. This
  is the modality imbalance of Peng et al. (OGM-GE, arXiv:2203.15332) in
  closed form: a naive joint model tends to settle on ``m0``.
* ``pid`` — three modalities and five atoms: unique to each of ``m0``,
  ``m1``, ``m2``; redundant (one latent in all three); synergy
  ``y = (s1 + s2) mod K`` with ``s1`` in ``m1`` and ``s2`` in ``m2``.

With near-zero noise the unimodal Bayes accuracies are
``share of the atoms it decides + (rest) / K``; e.g. ``imbalance`` with
shares (0.7, 0.3), K = 4: ``m0`` 0.775, ``m1`` 0.475, both 1.0.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from polymodal.data.arrays import ArrayDataset
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.pid_generator import SELECTOR, Atom, BayesEstimate, ModalitySpec, PIDGenerator, PIDSpec
from polymodal.errors import PolymodalError
from polymodal.registry import Registry

PresetFactory = Callable[[int, Sequence[float] | None, Sequence[float] | None, Sequence[int] | None], PIDSpec]
PID_PRESETS: Registry[PresetFactory] = Registry("synthetic preset")

SEED_STREAMS = ("structure", "train", "val", "test", "bayes")
"""Independent random streams spawned from ``seed``: changing one split's size leaves the others unchanged."""


def per_modality(name: str, given: Sequence | None, default: Sequence, modalities: Sequence[str]) -> list:
    """The user's per-modality list, or the preset's default; its length must match the modalities."""
    values = list(default if given is None else given)
    if len(values) != len(modalities):
        raise PolymodalError(
            f"{name} needs one value per modality ({', '.join(modalities)}), got {len(values)}: {values}"
        )
    return values


def identity_atom(name: str, latent: str, num_values: int) -> Atom:
    return Atom(name, (latent,), np.arange(num_values))


def build_modalities(
    carried: dict[str, tuple[str, ...]], noise: Sequence[float], distractors: Sequence[int]
) -> dict[str, ModalitySpec]:
    return {m: ModalitySpec(latents, float(s), int(d))
            for (m, latents), s, d in zip(carried.items(), noise, distractors, strict=True)}


@PID_PRESETS.register("imbalance")
def imbalance_preset(
    num_values: int, shares: Sequence[float] | None, noise: Sequence[float] | None,
    distractors: Sequence[int] | None,
) -> PIDSpec:
    """Dominant ``m0`` (decides a share 0.7 of the labels) and weak complementary ``m1``."""
    carried = {"m0": (SELECTOR, "a"), "m1": (SELECTOR, "b")}
    atoms = (identity_atom("unique:m0", "a", num_values), identity_atom("unique:m1", "b", num_values))
    return PIDSpec(
        num_values=num_values,
        atoms=atoms,
        shares=tuple(per_modality("shares", shares, (0.7, 0.3), list(carried))),
        modalities=build_modalities(
            carried,
            per_modality("noise", noise, (0.3, 0.5), list(carried)),
            per_modality("distractors", distractors, (10, 40), list(carried)),
        ),
    )


@PID_PRESETS.register("pid")
def pid_preset(
    num_values: int, shares: Sequence[float] | None, noise: Sequence[float] | None,
    distractors: Sequence[int] | None,
) -> PIDSpec:
    """Three modalities with uniqueness, redundancy and synergy atoms (equal shares by default)."""
    carried = {
        "m0": (SELECTOR, "u0", "r"),
        "m1": (SELECTOR, "u1", "r", "s1"),
        "m2": (SELECTOR, "u2", "r", "s2"),
    }
    values = np.arange(num_values)
    atoms = (
        identity_atom("unique:m0", "u0", num_values),
        identity_atom("unique:m1", "u1", num_values),
        identity_atom("unique:m2", "u2", num_values),
        identity_atom("redundant", "r", num_values),
        Atom("synergy:m1*m2", ("s1", "s2"), (values[:, None] + values[None, :]) % num_values),
    )
    if shares is not None and len(shares) != len(atoms):
        raise PolymodalError(
            f"shares needs one weight per atom ({', '.join(a.name for a in atoms)}), got {len(shares)}"
        )
    return PIDSpec(
        num_values=num_values,
        atoms=atoms,
        shares=tuple(shares) if shares is not None else (0.2,) * len(atoms),
        modalities=build_modalities(
            carried,
            per_modality("noise", noise, (0.35, 0.35, 0.35), list(carried)),
            per_modality("distractors", distractors, (8, 8, 8), list(carried)),
        ),
    )


class SyntheticPIDDataModule(MultimodalDataModule):
    """Generated PID data (train/val/test) whose Bayes-optimal accuracy is known.

    Everything (rotations, every split, the Bayes estimate) is determined by
    ``seed``. Inputs are float vectors ``[dims]`` per modality; labels ``0..K-1``.

    Args:
        preset: ``imbalance`` (``m0`` dominant, ``m1`` weak and complementary)
            or ``pid`` (``m0``, ``m1``, ``m2`` with unique, redundant and synergistic atoms).
        num_train: training samples.
        num_val: validation samples (0: no validation split).
        num_test: test samples.
        num_values: values per latent, which is also the number of classes.
        shares: relative label-information share of each atom (normalized to sum 1):
            the imbalance knob. ``imbalance``: [m0's atom, m1's atom] (default
            [0.7, 0.3]); ``pid``: [unique m0, unique m1, unique m2, redundant,
            synergy] (default equal).
        noise: per-modality noise level (std of the slot noise, > 0).
        distractors: per-modality number of distractor dims without information.
        bayes_samples: fresh samples of the Monte-Carlo Bayes-accuracy estimate.
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        modalities: modalities to use (default all).
        seed: fixes the generated data.
    """

    def __init__(
        self,
        preset: str = "imbalance",
        num_train: int = 2000,
        num_val: int = 500,
        num_test: int = 1000,
        num_values: int = 4,
        shares: list[float] | None = None,
        noise: list[float] | None = None,
        distractors: list[int] | None = None,
        bayes_samples: int = 50_000,
        batch_size: int = 64,
        num_workers: int = 0,
        modalities: list[str] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction=0.0, seed=seed)
        if num_train < 1 or num_val < 0 or num_test < 0 or bayes_samples < 2:
            raise PolymodalError(
                f"need num_train >= 1, num_val >= 0, num_test >= 0 and bayes_samples >= 2; got "
                f"{num_train}, {num_val}, {num_test}, {bayes_samples}"
            )
        self.preset = preset
        self.sizes = {"train": num_train, "val": num_val, "test": num_test}
        self.bayes_samples = bayes_samples
        streams = np.random.SeedSequence(seed).spawn(len(SEED_STREAMS))
        self._streams = dict(zip(SEED_STREAMS, streams, strict=True))
        spec = PID_PRESETS.get(preset)(num_values, shares, noise, distractors)
        self.generator = PIDGenerator(spec, np.random.default_rng(self._streams["structure"]))
        self._bayes: dict[tuple[str, ...], BayesEstimate] = {}

    def build_splits(self) -> dict[str, ArrayDataset]:
        splits = {}
        for split, n in self.sizes.items():
            if n:
                arrays, y = self.generator.sample(n, np.random.default_rng(self._streams[split]))
                splits[split] = ArrayDataset(arrays, y, source=f"synthetic-{self.preset} {split}")
        return splits

    def bayes_estimate(self, modalities: Sequence[str]) -> BayesEstimate:
        """Bayes-optimal accuracy (and its standard error) with only ``modalities`` observed.

        Estimated once per subset from ``bayes_samples`` fresh samples of the seed's own stream.
        """
        key = tuple(modalities)
        if key not in self._bayes:
            rng = np.random.default_rng(self._streams["bayes"])
            self._bayes[key] = self.generator.bayes_accuracy(key, self.bayes_samples, rng)
        return self._bayes[key]

    def modalities_in_use(self) -> list[str]:
        return self.requested_modalities or list(self.generator.spec.modalities)

    @property
    def bayes_accuracy(self) -> float:
        """Bayes-optimal accuracy with the modalities in use (all unless ``modalities`` was given)."""
        return self.bayes_estimate(self.modalities_in_use()).accuracy

    @property
    def modality_bayes_accuracy(self) -> dict[str, float]:
        """Bayes-optimal accuracy of each modality in use, alone."""
        return {m: self.bayes_estimate((m,)).accuracy for m in self.modalities_in_use()}

    def posterior(self, inputs: dict[str, np.ndarray]) -> np.ndarray:
        """Exact class posterior ``[n, K]`` of the Bayes classifier given any subset of modalities."""
        return self.generator.posterior(inputs)

    def describe(self) -> str:
        unimodal = ", ".join(f"{m} {acc:.3f}" for m, acc in self.modality_bayes_accuracy.items())
        return (f"synthetic-{self.preset} (seed {self.seed}; Bayes accuracy {self.bayes_accuracy:.3f}; "
                f"alone: {unimodal})")

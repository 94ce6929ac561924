"""Synthetic PID data: determinism, shapes, and the Bayes accuracy against hand-computed limits."""

import itertools

import numpy as np
import pytest
from scipy.special import logsumexp

from polymodal.data import SyntheticPIDDataModule
from polymodal.data.pid_generator import SELECTOR
from polymodal.errors import PolymodalError, UnknownNameError


def arrays_of(dm: SyntheticPIDDataModule, split: str) -> dict[str, np.ndarray]:
    dataset = dm.splits[split]
    return {m: x.numpy() for m, x in dataset.inputs.items()} | {"y": dataset.targets.numpy()}


def test_same_seed_gives_identical_data_and_other_seed_differs():
    first, second = (SyntheticPIDDataModule("pid", 200, 50, 100, seed=3) for _ in range(2))
    other = SyntheticPIDDataModule("pid", 200, 50, 100, seed=4)
    for split in ("train", "val", "test"):
        a, b = arrays_of(first, split), arrays_of(second, split)
        assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not np.allclose(arrays_of(first, "train")["m0"], arrays_of(other, "train")["m0"])


def test_split_sizes_are_independent_streams():
    small = SyntheticPIDDataModule("imbalance", num_train=100, num_test=300)
    large = SyntheticPIDDataModule("imbalance", num_train=700, num_test=300)
    assert np.array_equal(arrays_of(small, "test")["m1"], arrays_of(large, "test")["m1"])


def test_shapes_classes_and_sizes():
    dm = SyntheticPIDDataModule("imbalance", num_train=400, num_val=0, num_test=100)
    # m0: selector (2 atoms) + a (4) + 10 distractors; m1: 2 + 4 + 40
    assert dm.info.shapes == {"m0": (16,), "m1": (46,)}
    assert dm.info.num_classes == 4
    assert set(dm.splits) == {"train", "test"}
    assert len(dm.splits["train"]) == 400 and len(dm.splits["test"]) == 100
    pid = SyntheticPIDDataModule("pid", num_train=300, num_values=3, distractors=[0, 2, 5])
    # selector has 5 atoms; m0 carries u0, r; m1 and m2 carry three latents of 3 values
    assert pid.info.shapes == {"m0": (5 + 6,), "m1": (5 + 9 + 2,), "m2": (5 + 9 + 5,)}
    assert set(np.unique(arrays_of(pid, "train")["y"])) == {0, 1, 2}
    batch = next(iter(pid.train_dataloader()))
    assert batch["inputs"]["m1"].shape == (64, 16) and batch["present"]["m1"].all()


@pytest.mark.parametrize(
    ("preset", "shares", "expected"),
    [
        # m0 decides y for the 0.7 share, guesses 1/4 otherwise: 0.7 + 0.3/4
        ("imbalance", [0.7, 0.3], {("m0",): 0.775, ("m1",): 0.475, ("m0", "m1"): 1.0}),
        ("imbalance", [1.0, 3.0], {("m0",): 0.25 + 0.75 / 4, ("m0", "m1"): 1.0}),
        # atoms: unique m0, m1, m2, redundant, synergy m1*m2 at 0.2 each
        ("pid", None, {("m0",): 0.4 + 0.6 / 4, ("m1", "m2"): 0.8 + 0.2 / 4, ("m0", "m1", "m2"): 1.0}),
    ],
)
def test_bayes_accuracy_matches_hand_computed_noise_free_limit(preset, shares, expected):
    dm = SyntheticPIDDataModule(preset, num_train=10, shares=shares, noise=[0.01] * (2 if preset == "imbalance" else 3),
                                bayes_samples=20_000)
    for modalities, value in expected.items():
        estimate = dm.bayes_estimate(modalities)
        assert abs(estimate.accuracy - value) < 4 * estimate.stderr + 1e-6, (modalities, estimate)


def brute_force_posterior(dm: SyntheticPIDDataModule, arrays: dict[str, np.ndarray]) -> np.ndarray:
    """p(y | x) by enumerating every joint latent configuration with the full Gaussian likelihood."""
    generator, spec = dm.generator, dm.generator.spec
    names = spec.latents()
    worlds = np.array(list(itertools.product(*(range(spec.cardinality(n)) for n in names))))
    z = dict(zip(names, worlds.T, strict=True))
    log_joint = np.log(generator.priors[SELECTOR][z[SELECTOR]])[None, :].repeat(len(next(iter(arrays.values()))), 0)
    for m, x in arrays.items():
        modality = spec.modalities[m]
        means = np.concatenate([np.eye(spec.cardinality(n))[z[n]] for n in modality.latents], axis=1)
        slots = (x.astype(np.float64) @ generator.rotations[m])[:, : means.shape[1]]
        distance = ((slots[:, None, :] - means[None, :, :]) ** 2).sum(-1)
        log_joint -= distance / (2 * modality.noise**2)
    labels = np.stack([atom.table[tuple(z[n] for n in atom.latents)] for atom in spec.atoms], 1)
    world_label = labels[np.arange(len(worlds)), z[SELECTOR]]
    log_joint -= logsumexp(log_joint, axis=1, keepdims=True)
    return np.stack([np.exp(logsumexp(log_joint[:, world_label == c], axis=1)) for c in range(spec.num_values)], 1)


@pytest.mark.parametrize("modalities", [("m0", "m1", "m2"), ("m1", "m2"), ("m2",)])
def test_factorized_posterior_equals_brute_force_enumeration(modalities):
    dm = SyntheticPIDDataModule("pid", num_train=40, num_values=2, noise=[0.5, 0.8, 1.1], distractors=[1, 2, 3])
    arrays = {m: arrays_of(dm, "train")[m] for m in modalities}
    np.testing.assert_allclose(dm.posterior(arrays), brute_force_posterior(dm, arrays), atol=1e-9)


def test_bayes_classifier_on_fresh_samples_reaches_the_estimate():
    dm = SyntheticPIDDataModule("imbalance", num_train=10, bayes_samples=20_000, seed=1)
    arrays, y = dm.generator.sample(20_000, np.random.default_rng(12345))
    accuracy = (dm.posterior(arrays).argmax(1) == y).mean()
    estimate = dm.bayes_estimate(("m0", "m1"))
    tolerance = 4 * np.hypot(np.sqrt(accuracy * (1 - accuracy) / len(y)), estimate.stderr)
    assert abs(accuracy - estimate.accuracy) < tolerance
    m0_only = (dm.posterior({"m0": arrays["m0"]}).argmax(1) == y).mean()
    assert m0_only < accuracy - 0.05


def test_nearest_centroid_does_not_beat_bayes():
    dm = SyntheticPIDDataModule("pid", num_train=2000, num_test=2000, bayes_samples=20_000)
    train, test = arrays_of(dm, "train"), arrays_of(dm, "test")
    features = {s: np.concatenate([a[m] for m in ("m0", "m1", "m2")], 1) for s, a in (("train", train), ("test", test))}
    centroids = np.stack([features["train"][train["y"] == c].mean(0) for c in range(4)])
    predicted = ((features["test"][:, None, :] - centroids[None]) ** 2).sum(-1).argmin(1)
    accuracy = (predicted == test["y"]).mean()
    assert 0.25 < accuracy < dm.bayes_accuracy + 3 * np.sqrt(0.25 / 2000)


def test_imbalance_preset_dominant_modality_is_not_sufficient():
    dm = SyntheticPIDDataModule("imbalance", num_train=10, bayes_samples=20_000)
    alone = dm.modality_bayes_accuracy
    assert alone["m1"] + 0.1 < alone["m0"] < dm.bayes_accuracy - 0.1
    assert str(round(dm.bayes_accuracy, 3)) in dm.describe()


def test_knobs_move_the_bayes_accuracy():
    quiet = SyntheticPIDDataModule("imbalance", num_train=10, noise=[0.3, 0.3], bayes_samples=5000)
    loud = SyntheticPIDDataModule("imbalance", num_train=10, noise=[0.3, 1.0], bayes_samples=5000)
    assert loud.modality_bayes_accuracy["m1"] < quiet.modality_bayes_accuracy["m1"] - 0.05
    assert loud.modality_bayes_accuracy["m0"] == pytest.approx(quiet.modality_bayes_accuracy["m0"])
    dominant = SyntheticPIDDataModule("imbalance", num_train=10, shares=[0.95, 0.05], bayes_samples=5000)
    assert dominant.modality_bayes_accuracy["m0"] > quiet.modality_bayes_accuracy["m0"] + 0.1


def test_selected_modalities_set_data_and_bayes_accuracy():
    dm = SyntheticPIDDataModule("pid", num_train=50, modalities=["m2", "m0"], bayes_samples=2000)
    assert dm.info.modalities == ("m2", "m0")
    assert set(next(iter(dm.train_dataloader()))["inputs"]) == {"m2", "m0"}
    assert dm.bayes_accuracy == dm.bayes_estimate(("m2", "m0")).accuracy
    assert set(dm.modality_bayes_accuracy) == {"m2", "m0"}


@pytest.mark.parametrize(
    ("options", "culprit"),
    [
        ({"preset": "imbalance", "shares": [1.0]}, "shares"),
        ({"preset": "pid", "shares": [1.0, 1.0]}, "shares"),
        ({"preset": "imbalance", "shares": [-1.0, 2.0]}, "shares"),
        ({"preset": "imbalance", "noise": [0.0, 1.0]}, "noise"),
        ({"preset": "pid", "distractors": [1, 2]}, "distractors"),
        ({"preset": "imbalance", "distractors": [-1, 2]}, "distractors"),
        ({"preset": "imbalance", "num_train": 0}, "num_train"),
        ({"preset": "imbalance", "num_values": 1}, "num_values"),
    ],
)
def test_bad_knobs_raise_naming_the_option(options, culprit):
    with pytest.raises(PolymodalError, match=culprit):
        SyntheticPIDDataModule(**options)


def test_unknown_preset_and_modality():
    with pytest.raises(UnknownNameError, match="imbalance, pid"):
        SyntheticPIDDataModule("xor")
    with pytest.raises(PolymodalError, match="'m7'"):
        _ = SyntheticPIDDataModule("imbalance", num_train=10, modalities=["m7"]).info

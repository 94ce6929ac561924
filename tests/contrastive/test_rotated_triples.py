"""Rotated triples: content mixed by a seeded orthogonal matrix with N(0, 1) distractors."""

import numpy as np
import pytest
import torch

from polymodal.bench.contrastive import bench_datasets
from polymodal.data.builtin import build_datamodule
from polymodal.data.contrastive_synthetic import MODALITIES, XorTriplesDataModule, random_rotation


def bit_correlations(inputs: torch.Tensor, symbols: torch.Tensor) -> np.ndarray:
    """``[coordinates, bits]`` absolute Pearson correlations."""
    x, y = inputs.numpy().astype(np.float64), symbols.numpy().astype(np.float64)
    x, y = (x - x.mean(0)) / x.std(0), (y - y.mean(0)) / y.std(0)
    return np.abs(x.T @ y) / len(x)


def key_bits(keys: torch.Tensor, bits: int) -> torch.Tensor:
    return (keys[:, None] >> torch.arange(bits)) & 1


def test_random_rotation_is_orthogonal_and_seeded():
    q = random_rotation(13, np.random.default_rng(0))
    assert np.allclose(q @ q.T, np.eye(13), atol=1e-10)
    assert np.array_equal(q, random_rotation(13, np.random.default_rng(0)))
    assert not np.allclose(q, random_rotation(13, np.random.default_rng(1)))


def test_rotation_is_shared_by_every_split_and_undoes_to_the_plain_encoding():
    options = dict(bits=5, noise=0.0, train_size=300, val_size=50, test_size=50, seed=4)
    rotated = build_datamodule("xor-rotated", **options)
    plain = XorTriplesDataModule(distractors=3, **options)
    assert rotated.info.shapes == {m: (13,) for m in MODALITIES}
    assert set(rotated.rotations) == set(MODALITIES)
    assert not np.allclose(rotated.rotations["m0"], rotated.rotations["m1"])  # one matrix per modality
    for split in ("train", "val", "test"):
        a, b = rotated.splits[split], plain.splits[split]
        for m in MODALITIES:
            unrotated = a.inputs[m] @ torch.as_tensor(rotated.rotations[m])
            assert torch.allclose(unrotated[:, :10], b.inputs[m][:, :10], atol=1e-5)  # content, same draws
            assert torch.equal(a.keys[m], b.keys[m])
    again = build_datamodule("xor-rotated", **options)
    assert all(np.array_equal(again.rotations[m], rotated.rotations[m]) for m in MODALITIES)
    other = build_datamodule("xor-rotated", **{**options, "seed": 5})
    assert not np.allclose(other.rotations["m0"], rotated.rotations["m0"])


def test_no_single_coordinate_carries_a_bit():
    """Axis-aligned, a coordinate *is* a bit (|r| = 0.98 at noise 0.1); rotated with distractors every
    coordinate mixes several bits and noise. A Haar rotation can still lean one coordinate towards
    one bit (largest |r| 0.69 / 0.89 / 0.74 for m0 / m1 / m2 at seed 0), but none carries it cleanly."""
    options = dict(bits=5, noise=0.1, train_size=4000, val_size=0, test_size=0)
    rotated = build_datamodule("xor-rotated", **options).splits["train"]
    plain = XorTriplesDataModule(distractors=3, **options).splits["train"]
    for m in MODALITIES:
        bits = key_bits(rotated.keys[m], 5)
        assert bit_correlations(plain.inputs[m], bits).max() > 0.95
        assert bit_correlations(rotated.inputs[m], bits).max() < 0.9


def test_latin_square_rotated_keeps_the_table_and_shape():
    data = build_datamodule("latin-square-rotated", num_symbols=5, train_size=100, val_size=20, test_size=20, seed=2)
    assert data.info.shapes == {m: (8,) for m in MODALITIES}
    assert np.allclose(data.rotations["m2"] @ data.rotations["m2"].T, np.eye(8), atol=1e-5)
    keys = data.splits["train"].keys
    assert torch.equal(torch.as_tensor(data.table)[keys["m0"], keys["m1"]], keys["m2"])


def test_bench_runs_rotated_xor_once_per_probability():
    datasets = bench_datasets(["xor-rotated", "latin-square-rotated"], [1.0, 0.5],
                              {"xor-rotated": {"train_size": 8, "val_size": 0, "test_size": 0}})
    assert [d.directory for d in datasets] == ["xor-rotated-p1", "xor-rotated-p0.5", "latin-square-rotated"]
    built = datasets[1].spec.build(0, 4)
    assert built.rotate and built.distractors == 3 and built.xor_probability == 0.5
    with pytest.raises(Exception, match="xor-rotated: give p̂ with --xor_probabilities"):
        bench_datasets(["xor-rotated"], [1.0], {"xor-rotated": {"xor_probability": 0.5}})

"""XOR / Latin-square triples, content keys through collate and npz, probes."""

import numpy as np
import pytest
import torch

from polymodal.data.contract import collate_items
from polymodal.data.contrastive_synthetic import LatinSquareDataModule, XorTriplesDataModule, latin_square
from polymodal.data.npz import NpzDataModule
from polymodal.errors import PolymodalError
from polymodal.eval.probes import class_prototypes, fit_linear_probe, linear_probe_accuracy, zero_shot_accuracy


def decode_bits(x: torch.Tensor, bits: int) -> torch.Tensor:
    """One-hot pairs (noise 0) back to bits."""
    return x[:, : 2 * bits].reshape(len(x), bits, 2).argmax(-1)


def test_xor_triples_follow_the_rule_and_carry_content_keys():
    data = XorTriplesDataModule(bits=3, xor_probability=1.0, noise=0.0, distractors=2, train_size=200,
                                val_size=10, test_size=50)
    train = data.splits["train"]
    a, b, c = (decode_bits(train.inputs[m], 3) for m in ("m0", "m1", "m2"))
    assert torch.equal(c, a ^ b)
    assert data.info.shapes == {m: (8,) for m in ("m0", "m1", "m2")}
    assert torch.equal(train.keys["m2"], (c * torch.tensor([1, 2, 4])).sum(1))
    assert torch.equal(train.targets, train.keys["m2"]) and data.info.num_classes == 8
    batch = collate_items([train[i] for i in range(5)])
    assert torch.equal(batch["keys"]["m0"], train.keys["m0"][:5])


def test_xor_probability_mixes_xor_and_copy():
    data = XorTriplesDataModule(bits=4, xor_probability=0.0, noise=0.0, train_size=100, val_size=0, test_size=0)
    train = data.splits["train"]
    assert torch.equal(train.keys["m2"], train.keys["m0"])
    assert data.optimal_top1("m0+m2->m1") == pytest.approx(1 / 16)  # m1 is independent of the copies m0 = m2
    assert data.optimal_top1("m0+m1->m2") == 1.0  # m2 = m0
    assert XorTriplesDataModule(bits=5, xor_probability=0.5).optimal_top1() == pytest.approx(0.5 + 0.5 / 32)


@pytest.mark.parametrize("xor_probability", [0.25, 0.75])
@pytest.mark.parametrize("direction", ["m0+m2->m1", "m0+m1->m2", "m1+m2->m0"])
def test_optimal_top1_is_the_bayes_accuracy_of_the_sampled_triples(direction, xor_probability):
    """Brute force: the best guess per query is the most frequent target of that query."""
    data = XorTriplesDataModule(bits=2, xor_probability=xor_probability, noise=0.0, train_size=40000, val_size=0,
                                test_size=0)
    keys = data.splits["train"].keys
    pair, target = direction.split("->")
    first, second = pair.split("+")
    query = (keys[first] * 4 + keys[second]).numpy()
    counts = np.zeros((16, 4))
    np.add.at(counts, (query, keys[target].numpy()), 1)
    assert counts.max(axis=1).sum() / len(query) == pytest.approx(data.optimal_top1(direction), abs=0.01)
    with pytest.raises(PolymodalError, match="unknown direction"):
        data.optimal_top1("m0->m1")


def test_latin_square_is_valid_and_shared_by_every_split():
    table = latin_square(7, np.random.default_rng(0))
    assert all(sorted(row) == list(range(7)) for row in table)
    assert all(sorted(col) == list(range(7)) for col in table.T)
    data = LatinSquareDataModule(num_symbols=5, noise=0.0, train_size=100, val_size=40, test_size=40, seed=3)
    for split in ("train", "val", "test"):
        keys = data.splits[split].keys
        assert np.array_equal(data.table[keys["m0"].numpy(), keys["m1"].numpy()], keys["m2"].numpy())
    assert np.array_equal(LatinSquareDataModule(num_symbols=5, seed=3).table, data.table)


def test_npz_content_key_arrays_become_item_keys(tmp_path):
    path = tmp_path / "train.npz"
    np.savez(path, audio=np.ones((4, 2)), video=np.zeros((4, 3)), y=np.arange(4), k_video=np.array([0, 0, 1, 1]))
    data = NpzDataModule(train=str(path), val_fraction=0.0)
    assert data.info.modalities == ("audio", "video")
    assert data.splits["train"][2]["keys"] == {"video": torch.tensor(1)}
    bad = tmp_path / "bad.npz"
    np.savez(bad, audio=np.ones((4, 2)), y=np.arange(4), k_audio=np.array([0.5, 0, 1, 1]))
    with pytest.raises(PolymodalError, match="content keys of 'audio' must be integers"):
        NpzDataModule(train=str(bad), val_fraction=0.0).info


def test_linear_probe_separates_blobs_and_reaches_a_stationary_point():
    generator = torch.Generator().manual_seed(0)
    centers = torch.tensor([[3.0, 0.0], [-3.0, 0.0], [0.0, 3.0]])
    labels = torch.randint(0, 3, (150,), generator=generator)
    features = centers[labels] + torch.randn(150, 2, generator=generator)
    assert linear_probe_accuracy(features[:100], labels[:100], features[100:], labels[100:], 3) > 0.9
    probe = fit_linear_probe(features, labels, 3, l2=1e-2).requires_grad_(True)
    loss = torch.nn.functional.cross_entropy(probe(features), labels) + 1e-2 * probe.weight.pow(2).sum() / 2
    loss.backward()
    assert probe.weight.grad.abs().max() < 1e-3


def test_zero_shot_picks_the_most_similar_class_embedding():
    label_embeddings = torch.tensor([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0], [0.0, -1.0]])
    prototypes = class_prototypes(label_embeddings, torch.tensor([0, 0, 1, 2]), 3)
    assert torch.allclose(prototypes[0], torch.nn.functional.normalize(torch.tensor([1.8, 0.6]), dim=0))
    # [0.7, 0.7]: 0.885 to class 0 (0.949, 0.316) vs 0.7 to class 1 (0, 1), so labelled 1 it is a miss
    queries = torch.tensor([[1.0, 0.1], [0.7, 0.7], [0.0, -1.0]])
    assert zero_shot_accuracy(queries, prototypes, torch.tensor([0, 1, 2])) == pytest.approx(2 / 3)
    with pytest.raises(PolymodalError, match="class 2 has no"):
        class_prototypes(label_embeddings[:2], torch.tensor([0, 1]), 3)


def test_npz_without_y_is_unlabelled_data_and_splits_must_agree(tmp_path):
    arrays = {m: np.ones((6, 2), np.float32) for m in ("m0", "m1", "m2")}
    np.savez(tmp_path / "train.npz", **arrays)
    np.savez(tmp_path / "test.npz", **arrays, y=np.zeros(6, int))
    data = NpzDataModule(train=str(tmp_path / "train.npz"), val_fraction=0.0, modalities=["m2", "m0"])
    assert not data.info.labelled and data.info.num_classes == 0
    assert not data.info.select(["m0"]).labelled
    batch = next(iter(data.train_dataloader()))
    assert set(batch) == {"inputs", "present"} and set(batch["inputs"]) == {"m2", "m0"}
    assert "target" not in collate_items([data.splits["train"][i] for i in range(2)])
    with pytest.raises(PolymodalError, match="train.npz has no 'y' array but .*test.npz has targets"):
        _ = NpzDataModule(train=str(tmp_path / "train.npz"), test=str(tmp_path / "test.npz")).info

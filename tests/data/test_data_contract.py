"""The item/batch contract: collate with presence masks, DataInfo."""

import pytest
import torch

from polymodal.data import DataInfo, collate_items, presence
from polymodal.errors import PolymodalError


def item(target, **inputs):
    return {"inputs": inputs, "target": torch.tensor(target)}


def test_missing_modality_is_zero_filled_with_mask_false():
    items = [item(0, a=torch.ones(2), b=torch.full((3,), 2.0)), item(1, a=torch.full((2,), 5.0))]
    batch = collate_items(items)
    assert batch["inputs"]["b"].tolist() == [[2.0, 2.0, 2.0], [0.0, 0.0, 0.0]]
    assert batch["present"]["b"].tolist() == [True, False]
    assert batch["present"]["a"].tolist() == [True, True]
    assert batch["target"].tolist() == [0, 1]


def test_explicit_presence_flags_are_kept():
    items = [item(0, a=torch.ones(2)), item(1, a=torch.ones(2))]
    items[1]["present"] = {"a": False}
    batch = collate_items(items)
    assert batch["present"]["a"].tolist() == [True, False]


def test_per_step_masks_with_a_missing_modality_and_default_presence():
    with_mask = item(0, eeg=torch.ones(4, 2))
    with_mask["present"] = {"eeg": torch.tensor([True, False, True, True])}
    default = item(1, eeg=torch.ones(4, 2))
    missing = item(2, other=torch.ones(1))
    batch = collate_items([with_mask, default, missing])
    assert batch["present"]["eeg"].tolist() == [[True, False, True, True], [True] * 4, [False] * 4]
    assert batch["inputs"]["eeg"][2].abs().sum() == 0
    assert batch["present"]["other"].tolist() == [False, False, True]


def test_empty_collate_and_presence_default():
    with pytest.raises(ValueError):
        collate_items([])
    batch = {"inputs": {"a": torch.zeros(3, 2)}}
    assert presence(batch, "a").tolist() == [True, True, True]


def test_data_info_round_trip_and_select():
    info = DataInfo(("a", "b"), {"a": (3,), "b": (2, 5)}, 4, ("w", "x", "y", "z"))
    assert DataInfo.from_dict(info.to_dict()) == info
    assert info.select(["b"]).shapes == {"b": (2, 5)}
    assert info.task_type == "classification" and DataInfo(("a",), {"a": (1,)}, 0).task_type == "regression"
    with pytest.raises(PolymodalError, match="'c'.*a, b"):
        info.select(["c"])


def test_batched_fetch_equals_item_by_item_collate() -> None:
    import numpy as np
    from torch.utils.data import DataLoader, Subset

    from polymodal.data.arrays import ArrayDataset
    from polymodal.data.datamodule import ModalitySubset

    rng = np.random.default_rng(0)
    present = {"b": rng.random(30) > 0.5}
    data = ArrayDataset({"a": rng.normal(size=(30, 3)), "b": rng.normal(size=(30, 2))}, rng.integers(0, 3, 30),
                        present=present)
    view = ModalitySubset(Subset(data, list(range(5, 30))), ["b"])
    batched = next(iter(DataLoader(view, batch_size=8, collate_fn=collate_items)))
    one_by_one = collate_items([view[i] for i in range(8)])
    assert batched.keys() == one_by_one.keys()
    assert list(batched["inputs"]) == ["b"]
    for key in ("inputs", "present"):
        for m in batched[key]:
            assert torch.equal(batched[key][m], one_by_one[key][m])
    assert torch.equal(batched["target"], one_by_one["target"])

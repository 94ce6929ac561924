"""The data contract shared by every dataset, model and task.

An **item** (what a ``Dataset`` returns) is a dict::

    {"inputs": {modality: Tensor}, "target": Tensor, "present": {modality: bool | BoolTensor}}

``present`` is optional (all modalities present); so is ``target`` for
unlabelled data (``DataInfo.labelled`` is False) and ``keys``, integer
content keys per modality that retrieval scores against (samples with the
same key share content). A **batch** has the same
keys with a leading batch dimension; :func:`collate_items` stacks per modality
and zero-fills a missing modality with its mask ``False``. A presence mask is
``[B]`` for per-sample presence or ``[B, L]`` for per-step presence in a
sequence (sleep epochs).

Datasets describe themselves with :class:`DataInfo` so that models can be
sized from the data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypedDict

import torch
from torch import Tensor

CLASSIFICATION = "classification"
REGRESSION = "regression"


class Item(TypedDict, total=False):
    inputs: dict[str, Tensor]
    target: Tensor
    present: dict[str, Tensor | bool]
    keys: dict[str, Tensor]


Batch = dict[str, Any]
"""A collated batch: ``inputs`` / ``present`` dicts of stacked tensors, ``target`` tensor."""


@dataclass(frozen=True)
class DataInfo:
    """What a model needs to know about a dataset.

    Attributes:
        modalities: modality names, in a fixed order.
        shapes: per-modality shape of one sample (no batch dimension).
        num_classes: number of classes; 0 for regression.
        class_names: optional display names of the classes.
        labelled: whether the samples carry targets (unlabelled data has no
            ``target`` and ``num_classes`` 0).
    """

    modalities: tuple[str, ...]
    shapes: dict[str, tuple[int, ...]]
    num_classes: int
    class_names: tuple[str, ...] = field(default=())
    labelled: bool = True

    @property
    def task_type(self) -> str:
        return REGRESSION if self.num_classes == 0 else CLASSIFICATION

    def to_dict(self) -> dict[str, Any]:
        """Plain types only (safe for ``torch.load(weights_only=True)`` and YAML)."""
        out = asdict(self)
        out["modalities"] = list(self.modalities)
        out["shapes"] = {m: list(s) for m, s in self.shapes.items()}
        out["class_names"] = list(self.class_names)
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> DataInfo:
        return cls(
            modalities=tuple(data["modalities"]),
            shapes={m: tuple(int(d) for d in s) for m, s in data["shapes"].items()},
            num_classes=int(data["num_classes"]),
            class_names=tuple(data.get("class_names", ())),
            labelled=bool(data.get("labelled", True)),
        )

    def select(self, modalities: Sequence[str]) -> DataInfo:
        """The same info restricted to ``modalities`` (order as given)."""
        from polymodal.errors import PolymodalError

        missing = [m for m in modalities if m not in self.shapes]
        if missing:
            raise PolymodalError(
                f"modality {missing[0]!r} is not in the data; it has: {', '.join(self.modalities)}"
            )
        return DataInfo(tuple(modalities), {m: self.shapes[m] for m in modalities},
                        self.num_classes, self.class_names, self.labelled)


def collate_items(items: Sequence[Item] | Batch) -> Batch:
    """Stack a list of items into a batch with per-modality presence masks.

    A modality absent from an item's ``inputs`` is zero-filled with the shape
    seen in the other items, and its mask is False. An input that is given but
    marked not present is kept as it is, with its mask False: models must not
    use it (the classifier zeroes its features). A batch that a dataset
    already collated (its ``__getitems__``) passes through unchanged.
    """
    if isinstance(items, Mapping):  # already a batch (a dataset's ``__getitems__``)
        return items
    if not items:
        raise ValueError("cannot collate an empty list of items")
    modalities: list[str] = []
    for item in items:
        for m in item["inputs"]:
            if m not in modalities:
                modalities.append(m)
    inputs: dict[str, Tensor] = {}
    present: dict[str, Tensor] = {}
    for m in modalities:
        template = next(item["inputs"][m] for item in items if m in item["inputs"])
        explicit = [torch.as_tensor(item["present"][m]) for item in items if m in item.get("present", {})]
        mask_shape = explicit[0].shape if explicit else torch.Size()
        values, masks = [], []
        for item in items:
            x = item["inputs"].get(m)
            mask = torch.as_tensor(item.get("present", {}).get(m, True), dtype=torch.bool).expand(mask_shape)
            if x is None:
                x = torch.zeros_like(template)
                mask = torch.zeros(mask_shape, dtype=torch.bool)
            values.append(x)
            masks.append(mask)
        inputs[m] = torch.stack(values)
        present[m] = torch.stack(masks)
    batch = {"inputs": inputs, "present": present}
    if "target" in items[0]:
        batch["target"] = torch.stack([torch.as_tensor(item["target"]) for item in items])
    if "keys" in items[0]:
        batch["keys"] = {m: torch.stack([torch.as_tensor(item["keys"][m]) for item in items]) for m in items[0]["keys"]}
    return batch


def presence(batch: Batch, modality: str) -> Tensor:
    """The ``[B]`` (or ``[B, L]``) boolean mask of ``modality``; all True if absent."""
    mask = batch.get("present", {}).get(modality)
    if mask is None:
        x = batch["inputs"][modality]
        return torch.ones(x.shape[0], dtype=torch.bool, device=x.device)
    return mask

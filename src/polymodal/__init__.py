"""polymodal: multimodal learning in which every modality counts.

The public names below are imported on first use (PEP 562), so that
``import polymodal`` and ``polymodal --help`` do not load torch and Lightning.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from polymodal.balance import BALANCERS, Balancer, BalancerLoss, build_balancer
    from polymodal.contrastive import OBJECTIVES, ContrastiveObjective, build_objective
    from polymodal.data import (
        DATASETS,
        ArrayDataModule,
        AvDigitsDataModule,
        BasicMotionsDataModule,
        DataInfo,
        MfeatDataModule,
        MultimodalDataModule,
        NpzDataModule,
        SyntheticPIDDataModule,
        build_datamodule,
        collate_items,
    )
    from polymodal.data.arrays import ArrayDataset
    from polymodal.encoders import ENCODERS, build_encoder
    from polymodal.errors import PolymodalError
    from polymodal.fusion import FUSIONS, FusionHead, build_fusion
    from polymodal.models import ModelOutput, MultimodalClassifier
    from polymodal.tasks import ContrastiveTask, SleepTask, SupervisedTask

__version__: str
"""The installed distribution's version (package metadata)."""

_EXPORTS: dict[str, tuple[str, ...]] = {
    "polymodal.balance": ("BALANCERS", "Balancer", "BalancerLoss", "build_balancer"),
    "polymodal.contrastive": ("OBJECTIVES", "ContrastiveObjective", "build_objective"),
    "polymodal.data": ("DATASETS", "ArrayDataModule", "AvDigitsDataModule", "BasicMotionsDataModule", "DataInfo",
                       "MfeatDataModule", "MultimodalDataModule", "NpzDataModule", "SyntheticPIDDataModule",
                       "build_datamodule", "collate_items"),
    "polymodal.data.arrays": ("ArrayDataset",),
    "polymodal.encoders": ("ENCODERS", "build_encoder"),
    "polymodal.errors": ("PolymodalError",),
    "polymodal.fusion": ("FUSIONS", "FusionHead", "build_fusion"),
    "polymodal.models": ("ModelOutput", "MultimodalClassifier"),
    "polymodal.tasks": ("ContrastiveTask", "SleepTask", "SupervisedTask"),
}
_MODULE_OF = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = [
    "BALANCERS",
    "DATASETS",
    "ENCODERS",
    "FUSIONS",
    "OBJECTIVES",
    "ArrayDataModule",
    "ArrayDataset",
    "AvDigitsDataModule",
    "Balancer",
    "BalancerLoss",
    "BasicMotionsDataModule",
    "ContrastiveObjective",
    "ContrastiveTask",
    "DataInfo",
    "FusionHead",
    "MfeatDataModule",
    "ModelOutput",
    "MultimodalClassifier",
    "MultimodalDataModule",
    "NpzDataModule",
    "PolymodalError",
    "SleepTask",
    "SupervisedTask",
    "SyntheticPIDDataModule",
    "build_balancer",
    "build_datamodule",
    "build_encoder",
    "build_fusion",
    "build_objective",
    "collate_items",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its module (or read the version) on first access."""
    if name == "__version__":
        from importlib.metadata import version

        value: Any = version("polymodal")
    elif name in _MODULE_OF:
        value = getattr(importlib.import_module(_MODULE_OF[name]), name)
    else:
        raise AttributeError(f"module 'polymodal' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

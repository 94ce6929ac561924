"""Datasets and DataModules that follow the item contract."""

from polymodal.data.av_digits import AvDigitsDataModule
from polymodal.data.basicmotions import BasicMotionsDataModule
from polymodal.data.builtin import DATASETS, build_datamodule
from polymodal.data.contract import CLASSIFICATION, REGRESSION, Batch, DataInfo, Item, collate_items, presence
from polymodal.data.datamodule import ArrayDataModule, MultimodalDataModule
from polymodal.data.mfeat import MfeatDataModule
from polymodal.data.npz import NpzDataModule
from polymodal.data.synthetic_pid import SyntheticPIDDataModule

__all__ = [
    "CLASSIFICATION",
    "DATASETS",
    "REGRESSION",
    "ArrayDataModule",
    "AvDigitsDataModule",
    "BasicMotionsDataModule",
    "Batch",
    "DataInfo",
    "Item",
    "MfeatDataModule",
    "MultimodalDataModule",
    "NpzDataModule",
    "SyntheticPIDDataModule",
    "build_datamodule",
    "collate_items",
    "presence",
]

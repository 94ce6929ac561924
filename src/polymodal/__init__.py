"""polymodal: multimodal learning in which every modality counts."""

from polymodal.data.arrays import ArrayDataset
from polymodal.data.contract import DataInfo, collate_items
from polymodal.data.datamodule import ArrayDataModule, MultimodalDataModule
from polymodal.data.npz import NpzDataModule
from polymodal.errors import PolymodalError
from polymodal.models import ModelOutput, MultimodalClassifier
from polymodal.tasks import SupervisedTask

__version__ = "0.1.0"

__all__ = [
    "ArrayDataModule",
    "ArrayDataset",
    "DataInfo",
    "ModelOutput",
    "MultimodalClassifier",
    "MultimodalDataModule",
    "NpzDataModule",
    "PolymodalError",
    "SupervisedTask",
    "collate_items",
]

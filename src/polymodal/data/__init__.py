"""Datasets and DataModules that follow the item/batch contract."""

from polymodal.data.contract import CLASSIFICATION, REGRESSION, Batch, DataInfo, Item, collate_items, presence

__all__ = ["CLASSIFICATION", "REGRESSION", "Batch", "DataInfo", "Item", "collate_items", "presence"]

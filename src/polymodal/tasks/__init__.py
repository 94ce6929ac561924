"""LightningModules: SupervisedTask, SleepTask, ContrastiveTask."""

from polymodal.tasks.contrastive import ContrastiveTask
from polymodal.tasks.sleep import SleepTask
from polymodal.tasks.supervised import SupervisedTask

__all__ = ["ContrastiveTask", "SleepTask", "SupervisedTask"]

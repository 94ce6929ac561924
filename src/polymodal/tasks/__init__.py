"""LightningModules: SupervisedTask (ContrastiveTask and SleepTask with their issues)."""

from polymodal.tasks.supervised import SupervisedTask

__all__ = ["SupervisedTask"]

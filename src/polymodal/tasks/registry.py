"""Registry of task LightningModules, so checkpoints name their task explicitly."""

from __future__ import annotations

import lightning as L

from polymodal.registry import Registry

TASKS: Registry[type[L.LightningModule]] = Registry("task")
TASK_KEY = "polymodal_task"

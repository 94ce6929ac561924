"""Registry of the sleep-staging models: ``core`` (CoRe-Sleep), ``early``, ``midlate``, ``eeg``, ``eog``.

Each entry is a factory ``(sizes, num_classes) -> nn.Module`` whose forward is
``(inputs, present) -> SleepOutput``. Models with unimodal heads and aligned
embeddings set ``auxiliary_losses = True``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from polymodal.encoders.sleep_transformer import SleepSizes
from polymodal.registry import Registry

SLEEP_MODELS: Registry[Callable[..., nn.Module]] = Registry("sleep model")


def build_sleep_model(name: str, sizes: SleepSizes, num_classes: int = 5) -> nn.Module:
    """Instantiate the sleep model registered as ``name``."""
    return SLEEP_MODELS.get(name)(sizes, num_classes)

"""Registry of the sleep-staging models: ``core`` (CoRe-Sleep), ``early``, ``midlate`` and ``unimodal``.

Each entry (or a user's class, named by import path) is a factory
``(sizes, num_classes, modalities) -> nn.Module``
whose forward is ``(inputs, present) -> SleepOutput``; ``modalities`` are the
names of the data's modalities (batch keys). Models with unimodal heads and
aligned embeddings set ``auxiliary_losses = True``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from polymodal.encoders.sleep_transformer import SleepSizes
from polymodal.errors import UnknownNameError
from polymodal.registry import Registry

SLEEP_MODELS: Registry[Callable[..., nn.Module]] = Registry("sleep model")
UNIMODAL = "unimodal"


def resolve_sleep_model(name: str, modalities: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The registered model and the modalities it uses: a modality's name stands for the unimodal model over it."""
    if name not in SLEEP_MODELS and name in modalities:
        return UNIMODAL, (name,)
    if name not in SLEEP_MODELS and "." not in name:  # an import path names a user's model
        raise UnknownNameError(f"unknown sleep model {name!r}; choose one of: {', '.join(SLEEP_MODELS.names())}, "
                               f"or a modality of the data for its unimodal model ({', '.join(modalities)})")
    return name, tuple(modalities)


def build_sleep_model(name: str, sizes: SleepSizes, num_classes: int, modalities: Sequence[str]) -> nn.Module:
    """Instantiate the sleep model ``name`` (see :func:`resolve_sleep_model`) over the data's ``modalities``."""
    registered, used = resolve_sleep_model(name, modalities)
    return SLEEP_MODELS.get(registered)(sizes, num_classes, used)

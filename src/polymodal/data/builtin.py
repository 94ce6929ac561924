"""The built-in datasets by name: ``DATASETS`` and :func:`build_datamodule`.

============================  ===========================================================
``synthetic-imbalance``       :class:`SyntheticPIDDataModule`, preset ``imbalance`` (m0 dominant, m1 weak)
``synthetic-pid``             :class:`SyntheticPIDDataModule`, preset ``pid`` (3 modalities, PID atoms)
``mfeat``                     :class:`MfeatDataModule` (UCI Multiple Features, six views)
``basicmotions``              :class:`BasicMotionsDataModule` (accelerometer + gyroscope)
``xor``                       :class:`XorTriplesDataModule` (contrastive: m2 = m0 XOR m1 with prob. p̂)
``latin-square``              :class:`LatinSquareDataModule` (contrastive: m2 = T[m0, m1], Q symbols)
``redundant``                 :class:`RedundantTriplesDataModule` (contrastive: one symbol in all three)
============================  ===========================================================
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

from polymodal.data.basicmotions import BasicMotionsDataModule
from polymodal.data.contrastive_synthetic import LatinSquareDataModule, RedundantTriplesDataModule, XorTriplesDataModule
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.mfeat import MfeatDataModule
from polymodal.data.synthetic_pid import SyntheticPIDDataModule
from polymodal.errors import PolymodalError
from polymodal.registry import Registry

DataModuleFactory = Callable[..., MultimodalDataModule]
DATASETS: Registry[DataModuleFactory] = Registry("dataset")
DATASETS.register("synthetic-imbalance")(partial(SyntheticPIDDataModule, preset="imbalance"))
DATASETS.register("synthetic-pid")(partial(SyntheticPIDDataModule, preset="pid"))
DATASETS.register("mfeat")(MfeatDataModule)
DATASETS.register("basicmotions")(BasicMotionsDataModule)
DATASETS.register("xor")(XorTriplesDataModule)
DATASETS.register("latin-square")(LatinSquareDataModule)
DATASETS.register("redundant")(RedundantTriplesDataModule)


def build_datamodule(name: str, **options) -> MultimodalDataModule:
    """The DataModule of built-in dataset ``name`` with constructor ``options``.

    An unknown dataset or option raises :class:`PolymodalError` listing the valid ones.
    """
    factory = DATASETS.get(name)
    parameters = inspect.signature(factory).parameters
    fixed = set(factory.keywords) if isinstance(factory, partial) else set()
    valid = [p for p in parameters if p not in fixed]
    unknown = [option for option in options if option not in valid]
    if unknown:
        raise PolymodalError(f"dataset {name!r} has no option {unknown[0]!r}; options: {', '.join(valid)}")
    return factory(**options)

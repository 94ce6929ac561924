"""The built-in datasets by name: ``DATASETS`` and :func:`build_datamodule`.

============================  ===========================================================
``synthetic-imbalance``       :class:`SyntheticPIDDataModule`, preset ``imbalance`` (m0 dominant, m1 weak)
``synthetic-pid``             :class:`SyntheticPIDDataModule`, preset ``pid`` (3 modalities, PID atoms)
``mfeat``                     :class:`MfeatDataModule` (UCI Multiple Features, six views)
``basicmotions``              :class:`BasicMotionsDataModule` (accelerometer + gyroscope)
``xor``                       :class:`XorTriplesDataModule` (contrastive: m2 = m0 XOR m1 with prob. p̂)
``latin-square``              :class:`LatinSquareDataModule` (contrastive: m2 = T[m0, m1], Q symbols)
``xor-rotated``               ``xor`` with ``rotate=True, distractors=3`` (no coordinate carries a bit)
``latin-square-rotated``      ``latin-square`` with ``rotate=True, distractors=3``
``redundant``                 :class:`RedundantTriplesDataModule` (contrastive: one symbol in all three)
``cremad``                    :class:`CremadDataModule` (prepared CREMA-D: audio + video)
``ave``                       :class:`AVEDataModule` (prepared AVE: audio + video)
``kinetics-sounds``           :class:`KineticsSoundsDataModule` (prepared Kinetics-Sounds: audio + video)
``ucf101``                    :class:`UCF101DataModule` (prepared UCF101: audio + rgb, optional flow)
``mosei``, ``mosi``           :class:`AffectDataModule` (MultiBench pickles: text + audio + video)
``avmnist``                   :class:`AVMnistDataModule` (MultiBench .npy: image + audio)
``av-digits``                 :class:`AvDigitsDataModule` (spoken FSDD digits + handwritten digits, [+ captions])
``av-digits:hard``            the same with AV-MNIST's image weakening: 75 % of the image energy removed by PCA
============================  ===========================================================
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import partial

from polymodal.data.av_digits import AvDigitsDataModule
from polymodal.data.basicmotions import BasicMotionsDataModule
from polymodal.data.benchmarks.av_datamodules import (
    AVEDataModule,
    CremadDataModule,
    KineticsSoundsDataModule,
    UCF101DataModule,
)
from polymodal.data.benchmarks.avmnist import AVMnistDataModule
from polymodal.data.benchmarks.multibench_affect import AffectDataModule
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
DATASETS.register("xor-rotated")(partial(XorTriplesDataModule, rotate=True, distractors=3))
DATASETS.register("latin-square-rotated")(partial(LatinSquareDataModule, rotate=True, distractors=3))
DATASETS.register("redundant")(RedundantTriplesDataModule)
DATASETS.register("cremad")(CremadDataModule)
DATASETS.register("ave")(AVEDataModule)
DATASETS.register("kinetics-sounds")(KineticsSoundsDataModule)
DATASETS.register("ucf101")(UCF101DataModule)
DATASETS.register("mosei")(partial(AffectDataModule, name="mosei"))
DATASETS.register("mosi")(partial(AffectDataModule, name="mosi"))
DATASETS.register("avmnist")(AVMnistDataModule)
DATASETS.register("av-digits")(AvDigitsDataModule)
DATASETS.register("av-digits:hard")(partial(AvDigitsDataModule, image_energy=0.25))


def parse_dataset_spec(text: str) -> tuple[str, list[str] | None]:
    """``NAME`` or ``NAME:m1+m2`` → ``(NAME, [m1, m2])`` (modalities None when not given).

    A registered name may itself hold a colon — a named variant such as
    ``av-digits:hard`` — so a registered full text is a name, and otherwise
    the text after the last colon is the modality selection
    (``av-digits:hard:audio+image`` works too).
    """
    if text in DATASETS or ":" not in text:
        return text, None
    name, views = text.rsplit(":", 1)
    return name, views.split("+")


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

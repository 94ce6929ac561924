"""Encoders: their base class, registry, and how a task builds one per modality.

An encoder maps one modality's input ``[B, *shape]`` to pooled features
``[B, output_dim]``. Encoders are components (:mod:`polymodal.components`)
built with ``cls(input_shape, **options)``, the shape supplied from the data;
sequence encoders may also return token features from ``forward_tokens``.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from torch import Tensor, nn

from polymodal.components import Component, build_component
from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.registry import Registry


class Encoder(Component, nn.Module, metaclass=ABCMeta):
    """Base class of encoders: ``[B, *input_shape]`` → ``[B, output_dim]``."""

    supplied_args = ("input_shape",)
    output_dim: int

    @abstractmethod
    def forward(self, x: Tensor) -> Tensor:
        """Pooled features of a batch."""


ENCODERS: Registry[type[Encoder]] = Registry("encoder")

EncoderSpec = str | Callable[[tuple[int, ...]], Encoder]
"""An encoder as a task accepts it: a registry name or import path (with ``encoder_options``), or a factory
taking the input shape (``--model.encoder ResNet18Encoder --model.encoder.width 8``). A ``{class_path,
init_args}`` mapping — what checkpoints store — is accepted too."""


def build_encoder(spec: EncoderSpec, input_shape: Sequence[int], **options: Any) -> Encoder:
    """The encoder ``spec`` names, for inputs of ``input_shape``; unknown options raise."""
    return build_component(spec, ENCODERS, Encoder, tuple(input_shape), what="", **options)


def build_modality_encoders(info: DataInfo, encoder: EncoderSpec | Mapping[str, EncoderSpec] = "mlp",
                            encoder_options: Mapping[str, Any] | None = None) -> dict[str, Encoder]:
    """One encoder per modality of ``info``, sized from its per-sample shape.

    ``encoder`` is one encoder for all modalities or a modality → encoder map
    naming every modality; ``encoder_options`` holds shared options, and
    options for one modality alone under that modality's name. An unknown
    modality or option, or an option out of range, is an error naming the
    encoder and the modality.
    """
    if isinstance(encoder, Mapping) and "class_path" not in encoder:
        unknown = sorted(set(encoder) - set(info.modalities))
        missing = [m for m in info.modalities if m not in encoder]
        if unknown or missing:
            raise PolymodalError(f"encoder names must cover exactly the modalities {', '.join(info.modalities)} "
                                 f"(unknown: {unknown}, missing: {missing})")
    shared = dict(encoder_options or {})
    per_modality = {m: shared.pop(m) for m in list(shared) if m in info.modalities}
    encoders = {}
    for m in info.modalities:
        spec = encoder[m] if isinstance(encoder, Mapping) and "class_path" not in encoder else encoder
        if isinstance(spec, str) and "." not in spec:
            ENCODERS.get(spec)  # an unknown name is an error of its own, listing the encoders
        try:
            encoders[m] = build_encoder(spec, info.shapes[m], **{**shared, **per_modality.get(m, {})})
        except PolymodalError as err:
            raise PolymodalError(f"encoder {encoder_label(spec)} of modality {m!r}: {err}") from None
    return encoders


def encoder_label(spec: Any) -> str:
    """How errors name an encoder: its name, class path, or factory's class."""
    if isinstance(spec, str):
        return repr(spec)
    if isinstance(spec, Mapping):
        return repr(spec.get("class_path"))
    return repr(getattr(spec, "__name__", type(spec).__name__))

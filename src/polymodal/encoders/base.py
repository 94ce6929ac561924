"""The encoder registry.

An encoder maps one modality's input ``[B, *shape]`` to pooled features
``[B, output_dim]``. Encoders are built with
``cls(input_shape, **options)`` and expose ``output_dim``; sequence encoders
may also return token features from ``forward_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from torch import nn

from polymodal.data.contract import DataInfo
from polymodal.errors import PolymodalError
from polymodal.options import check_options
from polymodal.registry import Registry

ENCODERS: Registry[type[nn.Module]] = Registry("encoder")


def build_encoder(name: str, input_shape: Sequence[int], **options) -> nn.Module:
    """Instantiate the encoder registered as ``name`` for inputs of ``input_shape``; unknown options raise."""
    cls = ENCODERS.get(name)
    check_options(cls, options, supplied=("input_shape",))
    return cls(tuple(input_shape), **options)


def build_modality_encoders(info: DataInfo, encoder: str | Mapping[str, str] = "mlp",
                            encoder_options: Mapping[str, Any] | None = None) -> dict[str, nn.Module]:
    """One encoder per modality of ``info``, sized from its per-sample shape.

    ``encoder`` is one name for all modalities or a modality → name map
    naming every modality; ``encoder_options`` holds shared options, and
    options for one modality alone under that modality's name. An unknown
    modality or option, or an option out of range, is an error naming the
    encoder and the modality.
    """
    if isinstance(encoder, Mapping):
        unknown = sorted(set(encoder) - set(info.modalities))
        missing = [m for m in info.modalities if m not in encoder]
        if unknown or missing:
            raise PolymodalError(f"encoder names must cover exactly the modalities {', '.join(info.modalities)} "
                                 f"(unknown: {unknown}, missing: {missing})")
    shared = dict(encoder_options or {})
    per_modality = {m: shared.pop(m) for m in list(shared) if m in info.modalities}
    encoders = {}
    for m in info.modalities:
        name = encoder[m] if isinstance(encoder, Mapping) else encoder
        ENCODERS.get(name)  # an unknown name is an error of its own, listing the encoders
        try:
            encoders[m] = build_encoder(name, info.shapes[m], **{**shared, **per_modality.get(m, {})})
        except PolymodalError as err:
            raise PolymodalError(f"encoder {name!r} of modality {m!r}: {err}") from None
    return encoders

"""Unimodal training: one encoder and its head (the ensemble's members).

Select the modality with the task's ``modalities`` option (CLI: ``--method
unimodal --modality NAME``); the model then holds that encoder only, and the
loss is the cross-entropy of its prediction.
"""

from __future__ import annotations

from polymodal.balance.joint import Joint
from polymodal.balance.base import BALANCERS
from polymodal.balance.view import ModelView
from polymodal.errors import PolymodalError


@BALANCERS.register("unimodal")
class Unimodal(Joint):
    """``L = CE(g(z_m), y)`` with the model holding one modality."""

    name = "unimodal"

    def setup(self, view: ModelView) -> None:
        super().setup(view)
        if len(view.modalities) != 1:
            raise PolymodalError(
                f"method 'unimodal' trains one modality, the model has {len(view.modalities)} "
                f"({', '.join(view.modalities)}); choose one with --modality NAME"
            )

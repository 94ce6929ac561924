"""CoRe-Sleep: coordinated representations for sleep staging (arXiv 2304.06485, Sec. 3).

Two modalities a, b (EEG and EOG in the paper; the two of the data), each with its own SleepTransformer
encoder ``f_m`` (epoch level + sequence level):

1. Unimodal pass: ``u_m = f_m(x_m)``, self-attention only; unimodal head
   ``h_m(u_m)``.
2. Multimodal pass with the *same* encoder weights, cross-attention on:
   ``v_a = f_a(x_a | u_b)`` attends to b's unimodal frame tokens (epoch level)
   and epoch tokens (sequence level); likewise ``v_b = f_b(x_b | u_a)``.
3. Fused representation ``v_a + v_b`` (both LayerNorm-ed by the encoders'
   final norms) → fused head. It is defined where both are present.

The unimodal epoch embeddings ``u_a, u_b`` are returned for the alignment
loss (:func:`polymodal.models.sleep_losses.alignment_loss`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from torch import Tensor, nn

from polymodal.encoders.sleep_transformer import SleepSizes, SleepTransformer
from polymodal.errors import PolymodalError
from polymodal.models.sleep_head import StageHead
from polymodal.models.sleep_output import SleepOutput, epoch_masks
from polymodal.models.sleep_registry import SLEEP_MODELS


@SLEEP_MODELS.register("core")
class CoReSleep(nn.Module):
    """Per-modality encoders run twice (unimodal, multimodal) with three heads.

    Args:
        sizes: transformer and head sizes.
        num_classes: sleep stages.
        modalities: the two modality names (batch keys) of the data.
    """

    auxiliary_losses = True

    def __init__(self, sizes: SleepSizes, num_classes: int, modalities: Sequence[str]) -> None:
        super().__init__()
        if len(modalities) != 2:
            raise PolymodalError(f"model 'core' fuses two modalities; the data has {len(modalities)} "
                                 f"({', '.join(modalities)}): choose two with --data.modalities")
        self.sizes = sizes
        self.modalities = tuple(modalities)
        self.encoders = nn.ModuleDict({m: SleepTransformer(sizes, cross_attention=True) for m in modalities})
        head = (sizes.d_model, sizes.head_hidden, num_classes, sizes.dropout)
        self.fused_head = StageHead(*head)
        self.heads = nn.ModuleDict({m: StageHead(*head) for m in modalities})

    def forward(self, inputs: Mapping[str, Tensor], present: Mapping[str, Tensor] | None = None) -> SleepOutput:
        masks = epoch_masks(inputs, present, self.modalities, self.sizes)
        a, b = self.modalities
        unimodal = {m: self.encoders[m]([inputs[m]], [masks[m]]) for m in self.modalities}
        multimodal_a = self.encoders[a]([inputs[a]], [masks[a]], partner=unimodal[b])
        multimodal_b = self.encoders[b]([inputs[b]], [masks[b]], partner=unimodal[a])
        fused = multimodal_a.epochs + multimodal_b.epochs
        return SleepOutput(
            logits=self.fused_head(fused),
            fused_mask=masks[a] & masks[b],
            unimodal={m: self.heads[m](unimodal[m].epochs) for m in self.modalities},
            embeddings={m: unimodal[m].epochs for m in self.modalities},
        )

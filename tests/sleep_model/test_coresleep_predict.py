"""Fallback inference: the fused head where both are present, else the available unimodal head."""

import pytest
import torch

from polymodal.errors import PolymodalError
from polymodal.models import SleepOutput, predict


def _output(fused_mask: torch.Tensor) -> SleepOutput:
    shape = (*fused_mask.shape, 3)
    one_hot = lambda k: torch.nn.functional.one_hot(torch.full(shape[:-1], k), 3).float() * 4  # noqa: E731
    return SleepOutput(logits=one_hot(0), fused_mask=fused_mask, unimodal={"eeg": one_hot(1), "eog": one_hot(2)})


def test_each_epoch_uses_the_head_its_present_modalities_allow() -> None:
    eeg = torch.tensor([[True, True, False, True]])
    eog = torch.tensor([[True, False, True, True]])
    output = _output(eeg & eog)
    probs = predict(output, {"eeg": eeg, "eog": eog})
    assert probs.argmax(-1).tolist() == [[0, 1, 2, 0]]
    assert torch.allclose(probs[0, 1], output.unimodal["eeg"][0, 1].softmax(-1))
    assert torch.allclose(probs[0, 2], output.unimodal["eog"][0, 2].softmax(-1))


def test_a_fused_head_defined_for_any_modality_is_used_everywhere() -> None:
    eeg, eog = torch.tensor([[True, False]]), torch.tensor([[False, True]])
    output = SleepOutput(logits=torch.randn(1, 2, 3), fused_mask=eeg | eog)
    assert torch.allclose(predict(output, {"eeg": eeg, "eog": eog}), output.logits.softmax(-1))


def test_an_epoch_without_any_usable_modality_raises() -> None:
    eeg, eog = torch.tensor([[True, False]]), torch.tensor([[True, False]])
    with pytest.raises(PolymodalError, match="1 epochs"):
        predict(_output(eeg & eog), {"eeg": eeg, "eog": eog})

"""Gradient accumulation: 2 micro-batches of B/2 train exactly like one batch of B, through Lightning's Trainer.

Methods whose statistics are sums over the step's samples (MLB, OGM-GE with
its noise, MSLR, MMPareto's per-term gradients, the ensemble's z-score
statistics, PMR's prototypes) must end with the same parameters and buffers.
AGM's coefficient and PMR's choice of the weaker modality multiply a backward
path and are per micro-batch by definition: what accumulation guarantees for
them (the running statistics advance once per optimizer step, from all
micro-batches) is tested here; MCR's batch terms are per micro-batch and are
checked against DDP without gathering in ``test_ddp.py``.
"""

from __future__ import annotations

import pytest
import torch

from harness import fit_supervised


def assert_same_state(got: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], atol: float = 1e-5) -> None:
    assert got.keys() == expected.keys()
    for key in expected:
        assert torch.allclose(got[key].float(), expected[key].float(), atol=atol), key


@pytest.mark.parametrize("name", ["mlb", "ogm_ge", "mslr", "mmpareto", "ensemble"])
def test_two_micro_batches_equal_one_batch(name) -> None:
    whole = fit_supervised(name, epochs=3 if name == "mslr" else 2)
    split = fit_supervised(name, accumulate=2, epochs=3 if name == "mslr" else 2)
    assert split["steps"] == whole["steps"] == (12 if name == "mslr" else 8)
    assert_same_state(split["params"], whole["params"])


def test_modulation_is_not_a_no_op() -> None:
    """The equality above is not vacuous: MLB's k moves away from 1 and changes the result."""
    mlb = fit_supervised("mlb")
    k = [v for _, row in mlb["logged"] for key, v in row.items() if key.startswith("train/k/")]
    assert k and max(abs(v - 1.0) for v in k) > 0.01
    from harness import METHODS

    METHODS["mlb_off"] = ("mlb", {"alpha": 0.0})
    try:
        plain = fit_supervised("mlb_off")
    finally:
        del METHODS["mlb_off"]
    differs = [not torch.allclose(mlb["params"][key], plain["params"][key], atol=1e-5) for key in mlb["params"]]
    assert any(differs)


def test_pmr_prototypes_equal_after_the_first_epoch() -> None:
    whole, split = fit_supervised("pmr", epochs=1), fit_supervised("pmr", accumulate=2, epochs=1)
    assert_same_state(split["params"], whole["params"])
    assert bool(whole["params"]["balancer.known_m0"].all())


def test_agm_running_ratio_advances_once_per_optimizer_step() -> None:
    whole, split = fit_supervised("agm", epochs=1), fit_supervised("agm", accumulate=2, epochs=1)
    assert int(split["params"]["balancer.steps"]) == int(whole["params"]["balancer.steps"]) == 4
    # the running score means come from all micro-batches of each step: equal to the whole batch's
    assert torch.allclose(split["params"]["balancer.running"], whole["params"]["balancer.running"], atol=0.05)
    assert not torch.allclose(split["params"]["balancer.running"], torch.zeros(2))

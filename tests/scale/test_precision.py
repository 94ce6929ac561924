"""Mixed precision on CPU: every method trains under bf16 and the balancing coefficients match fp32;
with fp16 and a loss scaler (as on every GPU) gradient changes see unscaled gradients."""

from __future__ import annotations

import math

import pytest

import torch

from harness import METHODS, SCALED_FP16, fit_supervised


@pytest.mark.parametrize("name", list(METHODS))
def test_trains_under_bf16_mixed(name) -> None:
    run = fit_supervised(name, precision="bf16-mixed", epochs=1)
    assert run["steps"] == 4
    assert all(math.isfinite(float(v)) for v in run["params"].values() if v.is_floating_point() and v.numel() == 1)
    assert all(bool(v.isfinite().all()) for v in run["params"].values() if v.is_floating_point())


@pytest.mark.parametrize("name", ["mlb", "ogm_ge", "agm"])
def test_coefficients_match_fp32(name) -> None:
    fp32 = fit_supervised(name, epochs=1)
    bf16 = fit_supervised(name, precision="bf16-mixed", epochs=1)
    for key in ("train/k/m0", "train/k/m1", "train/s/m0", "train/s/m1"):
        first, second = series(fp32, key), series(bf16, key)
        assert len(first) == len(second) == 4, key
        assert second[0] == pytest.approx(first[0], rel=2e-2, abs=2e-2), key  # same parameters at step 1
        assert second == pytest.approx(first, rel=0.1, abs=0.05), key


def series(run: dict, key: str) -> list[float]:
    return [row[key] for _, row in run["logged"] if key in row]


@pytest.mark.parametrize("name", ["agm", "mmpareto", "mlb"])
def test_loss_scaler_does_not_leak_into_gradient_changes(name) -> None:
    """AGM clips, MMPareto combines per-term gradients: on scaled gradients they would be off by 2^10."""
    scaled, fp32 = fit_supervised(name, precision=SCALED_FP16, epochs=1), fit_supervised(name, epochs=1)
    for key, value in fp32["params"].items():
        assert torch.allclose(scaled["params"][key].float(), value.float(), atol=2e-2), key

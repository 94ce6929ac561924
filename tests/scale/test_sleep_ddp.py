"""The sleep task over two processes from the CLI: one ``metrics.json``, the same metrics as one process."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_ddp import fit_ddp_then_test_single
from polymodal.data.sleep.prepare import prepare_cache
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "sleep" / "core.yaml"
TINY = '{"d_model": 8, "depth": 1, "heads": 2, "ffn_dim": 16, "head_hidden": 8}'
DATA = ["--data.seq_len", "5", "--data.test_fraction", "0.4", "--data.val_fraction", "0.2"]


def test_core_sleep_over_two_processes(tmp_path) -> None:
    write_synthetic_nights(tmp_path / "psg", 5, "nsrr", seed=5, minutes=15)
    cache = tmp_path / "cache"
    prepare_cache(tmp_path / "psg", "nsrr", cache, progress=False)
    ddp, single = fit_ddp_then_test_single(
        ["--config", str(CONFIG), "--data.cache_dir", str(cache), "--trainer.max_epochs", "1",
         "--model.sizes", TINY, *DATA],
        ["--data.cache_dir", str(cache), *DATA], tmp_path)
    for key in ("test/kappa", "test/acc", "test/f1_macro", "test/kappa/eeg", "test/acc/eog", "test/loss"):
        assert ddp[key] == pytest.approx(single[key], abs=1e-5), key

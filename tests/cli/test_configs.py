"""Every shipped supervised config parses, builds its model and data, and trains one batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from polymodal.cli import main

CONFIGS = sorted(p for d in ("mfeat", "synthetic-imbalance") for p in (Path(__file__).resolve().parents[2] / "configs" / d).glob("*.yaml"))


@pytest.mark.parametrize("config", CONFIGS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_config_runs_one_batch(config: Path, tmp_path) -> None:
    code = main(["fit", "--config", str(config), "--trainer.fast_dev_run", "true", "--out", str(tmp_path),
                 "--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"])
    assert code == 0
    assert (tmp_path / "metrics.json").is_file()

"""``polymodal bench contrastive`` on av-digits with the encoders the data needs (not the MLP's options)."""

from __future__ import annotations

import csv
import json

from polymodal.bench.contrastive import run_contrastive

TINY_AUDIO = {"n_fft": 64, "hop": 32, "seconds": 0.25, "max_per_class": 1}


def test_bench_contrastive_trains_resnet18_encoders_on_av_digits(fsdd_root, tmp_path) -> None:
    data = json.dumps({"av-digits": {"root": str(fsdd_root), **TINY_AUDIO}})
    out = tmp_path / "bench"
    assert run_contrastive(["--datasets", "av-digits:audio+image", "--objectives", "pairwise", "--seeds", "1",
                            "--max_epochs", "1", "--batch_size", "8", "--fusion_hidden_dim", "8",
                            "--encoder", "resnet18", "--encoder_options", '{"width": 2}',
                            "--data_options", data, "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert [r["status"] for r in rows] == ["ok"], rows[0].get("error")
    assert 0.0 <= float(rows[0]["1->1/R@1"]) <= 1.0

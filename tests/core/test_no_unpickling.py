"""Nothing a user or a run directory hands over is unpickled (a pickle can run code when loaded)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from polymodal.eval.sleep_eval import ConditionResult, NightPrediction, load_results, save_results

SOURCE = Path(__file__).resolve().parents[2] / "src" / "polymodal"
UNSAFE = re.compile(r"weights_only\s*=\s*False|allow_pickle\s*=\s*True|pickle\.loads?\(")


def test_no_unrestricted_loading_in_the_package() -> None:
    offenders = []
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        offenders += [f"{path.relative_to(SOURCE)}: {m.group()}" for m in UNSAFE.finditer(text)]
        offenders += [f"{path.relative_to(SOURCE)}: torch.load without weights_only=True"
                      for m in re.finditer(r"torch\.load\(", text)
                      if "weights_only=True" not in text[m.end(): m.end() + 200]]
    assert offenders == []


def test_bench_evaluations_round_trip_as_json(tmp_path) -> None:
    night = NightPrediction("n1", np.array([0, 2, 4]), np.array([0, 2, 3]))
    results = [ConditionResult("both", {"kappa": 0.5, "acc": 0.66}, np.eye(5, dtype=int), [night])]
    path = tmp_path / "evaluation.json"
    save_results(results, {"class_names": ["W", "N1", "N2", "N3", "REM"], "modalities": ["eeg"]}, path)
    loaded, extra = load_results(path)
    assert extra["modalities"] == ["eeg"] and loaded[0].metrics == results[0].metrics
    assert np.array_equal(loaded[0].confusion, results[0].confusion)
    assert np.array_equal(loaded[0].nights[0].predicted, night.predicted)

"""``polymodal bench balance``: balancing methods × datasets × seeds under one protocol.

For each dataset and seed, the unimodal models are trained once (they are
the ``unimodal`` rows, the members of the ``ensemble`` and the starting
point of ``pretrain_finetune``), then every other method. Each run is stored
under ``OUT/runs/<dataset>/<method>/seed<k>/`` with ``result.json``; rerunning with the same ``OUT`` skips finished runs.
A failed run is recorded in the table with its error.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from rich.progress import Progress

from polymodal.balance import build_balancer
from polymodal.bench.datasets import DatasetSpec
from polymodal.eval.ensemble import ensemble_metrics
from polymodal.bench.protocol import Protocol, RunResult, train_and_test
from polymodal.bench.report import Row
from polymodal.errors import PolymodalError
from polymodal.tasks.supervised import SupervisedTask

UNIMODAL = "unimodal"
ENSEMBLE = "ensemble"
PRETRAINED = "pretrain_finetune"
RESULT_FILE = "result.json"


def run_dir_of(out: Path, dataset: str, method: str, seed: int) -> Path:
    return out / "runs" / dataset.replace(":", "_").replace("+", "-") / method / f"seed{seed}"


def train_method(spec: DatasetSpec, method: str, seed: int, protocol: Protocol, run_dir: Path,
                 method_options: dict[str, Any], modalities: list[str] | None = None,
                 pretrained: dict[str, str] | None = None) -> RunResult:
    data = spec.build(seed, protocol.batch_size)
    task = SupervisedTask(
        balancer=build_balancer("unimodal" if method.startswith(UNIMODAL) else method, **method_options),
        modalities=modalities,
        pretrained=pretrained,
        data_info=data.info.to_dict(),
        **protocol.task_options(),
    )
    result = train_and_test(task, data, protocol, run_dir, seed)
    torch.save({"logits": result.logits, "targets": result.targets}, run_dir / "predictions.pt")
    return result


def cached_or_run(run_dir: Path, row: Row, work: Callable[[], dict[str, Any]]) -> Row:
    """Reuse a finished run's result; otherwise run ``work`` and record success or failure."""
    done = run_dir / RESULT_FILE
    if done.is_file():
        return json.loads(done.read_text())
    run_dir.mkdir(parents=True, exist_ok=True)
    try:
        row = {**row, **work(), "status": "ok"}
    except Exception as err:  # a failed run is reported in the table, not a crash of the bench
        (run_dir / "error.txt").write_text(traceback.format_exc())
        return {**row, "status": "failed", "error": f"{type(err).__name__}: {err}".splitlines()[0]}
    done.write_text(json.dumps(row, indent=2))
    return row


def metrics_row(result: RunResult, modality_keys: dict[str, str]) -> dict[str, Any]:
    """Fused accuracy/F1, each unimodal head's accuracy, wall time."""
    row = {"acc": result.metrics.get("test/acc"), "f1_macro": result.metrics.get("test/f1_macro")}
    for m, key in modality_keys.items():
        row[f"acc/{m}"] = result.metrics.get(key)
    row["wall_s"] = round(result.wall_s, 2)
    return row


def run_balance_grid(datasets: Sequence[DatasetSpec], methods: Sequence[str], seeds: Sequence[int], out: Path,
                     protocol: Protocol, method_options: dict[str, dict[str, Any]] | None = None) -> list[Row]:
    """Run every (dataset, method, seed) and return one row per run."""
    method_options = method_options or {}
    trained = [m for m in methods if m not in (UNIMODAL, ENSEMBLE)]
    need_unimodal = bool({UNIMODAL, ENSEMBLE, PRETRAINED} & set(methods))
    rows: list[Row] = []
    plan = [(spec, seed) for spec in datasets for seed in seeds]
    with Progress() as progress:
        bar = progress.add_task("bench balance", total=None)
        for spec, seed in plan:
            modalities = list(spec.build(seed, protocol.batch_size).info.modalities)
            total = len(plan) * (len(trained) + (len(modalities) if need_unimodal else 0) + (ENSEMBLE in methods))
            progress.update(bar, total=total)
            base = {"dataset": spec.name, "seed": seed}
            members: dict[str, Row] = {}
            if need_unimodal:
                for m in modalities:
                    progress.update(bar, description=f"{spec.name} seed {seed}: unimodal {m}")
                    run_dir = run_dir_of(out, spec.name, f"{UNIMODAL}-{m}", seed)
                    row = cached_or_run(run_dir, {**base, "method": f"{UNIMODAL}:{m}"}, lambda m=m, d=run_dir: {
                        **metrics_row(train_method(spec, UNIMODAL, seed, protocol, d, {}, [m]), {}),
                        f"acc/{m}": None})
                    if row.get("status") == "ok":
                        row[f"acc/{m}"] = row["acc"]
                    members[m] = row
                    progress.advance(bar)
                    if UNIMODAL in methods:
                        rows.append(row)
            for method in trained:
                progress.update(bar, description=f"{spec.name} seed {seed}: {method}")
                run_dir = run_dir_of(out, spec.name, method, seed)
                keys = {m: f"test/acc/{m}" for m in modalities}
                options = dict(method_options.get(method, {}))
                pretrained = None
                if method == PRETRAINED:  # multi-loss training from the seed's unimodal encoders
                    pretrained = {m: str(run_dir_of(out, spec.name, f"{UNIMODAL}-{m}", seed) / "checkpoints" / "best.ckpt")
                                  for m in modalities}
                rows.append(cached_or_run(
                    run_dir, {**base, "method": method},
                    lambda d=run_dir, meth=method, o=options, p=pretrained: metrics_row(
                        train_method(spec, "multiloss" if meth == PRETRAINED else meth, seed, protocol, d, o, pretrained=p),
                        keys)))
                progress.advance(bar)
            if ENSEMBLE in methods:
                rows.append(ensemble_row(out, spec, seed, modalities, members, base))
                progress.advance(bar)
    return rows


def ensemble_row(out: Path, spec: DatasetSpec, seed: int, modalities: Sequence[str],
                 members: dict[str, Row], base: Row) -> Row:
    """The soft vote (mean class probability) of the seed's unimodal runs."""
    row: Row = {**base, "method": ENSEMBLE}
    failed = [m for m in modalities if members[m].get("status") != "ok"]
    if failed:
        return {**row, "status": "failed", "error": f"unimodal member {failed[0]!r} failed"}
    saved = [torch.load(run_dir_of(out, spec.name, f"{UNIMODAL}-{m}", seed) / "predictions.pt", weights_only=True)
             for m in modalities]
    targets = saved[0]["targets"]
    num_classes = int(saved[0]["logits"].shape[1])
    if num_classes < 2:
        raise PolymodalError("the ensemble baseline needs class labels")
    metrics = ensemble_metrics([s["logits"] for s in saved], targets, num_classes)
    row.update({"acc": metrics["test/acc"], "f1_macro": metrics["test/f1_macro"]})
    row.update({f"acc/{m}": members[m]["acc"] for m in modalities})
    row["wall_s"] = round(sum(members[m]["wall_s"] for m in modalities), 2)
    return {**row, "status": "ok"}


def write_balance_report(rows: Sequence[Row], out: Path, modalities: dict[str, list[str]],
                         bayes: dict[str, float] | None = None) -> dict[str, Path]:
    """``results.csv``, ``results.md`` and the figures of the balance suite.

    ``bayes`` holds the Bayes-optimal accuracy of datasets that know it
    (synthetic data); it is drawn as a line and listed under the table.
    """
    from polymodal.bench.plots import bar_panels, curve_panels, unimodal_panels
    from polymodal.bench.report import aggregate, failures_markdown, format_markdown, write_csv

    out.mkdir(parents=True, exist_ok=True)
    unimodal_keys = sorted({f"acc/{m}" for mods in modalities.values() for m in mods})
    metrics = ["acc", "f1_macro", *unimodal_keys, "wall_s"]
    summary = aggregate(rows, ["dataset", "method"], metrics)
    paths = {"csv": out / "results.csv", "md": out / "results.md", "accuracy": out / "accuracy.png",
             "unimodal": out / "unimodal_accuracy.png"}
    write_csv(rows, paths["csv"])
    table = format_markdown(summary, ["dataset", "method"], metrics[:-1], best_within="dataset")
    paths["md"].write_text("# polymodal bench balance\n\nTest accuracy, mean ± std over seeds "
                           "(best per dataset in bold).\n\n" + table + bayes_markdown(bayes or {}) + failures_markdown(rows))
    bar_panels(summary, "acc", paths["accuracy"], "fused test accuracy", chance=bayes)
    unimodal_panels(summary, modalities, paths["unimodal"])
    mlb_runs = {f"{r['dataset']} seed {r['seed']}": run_dir_of(out, r["dataset"], "mlb", r["seed"]) / "metrics.csv"
                for r in rows if r["method"] == "mlb" and r.get("status") == "ok"}
    if curve_panels(mlb_runs, "train/k/", out / "mlb_k.png", "MLB coefficient k_m"):
        paths["mlb_k"] = out / "mlb_k.png"
    return paths


def bayes_markdown(bayes: dict[str, float]) -> str:
    if not bayes:
        return ""
    return "\nBayes-optimal accuracy: " + ", ".join(f"{name} {value:.3f}" for name, value in bayes.items()) + "\n"

"""``polymodal bench sleep``: CoRe-Sleep against its baselines across robustness conditions.

Without ``--source``, synthetic nights (real EDF + NSRR XML) are written to
``OUT/source``; the nights are prepared into ``OUT/cache`` (resumable), then
every model × seed is trained under one protocol and evaluated under every
condition (``both``, ``eeg_only``, ``eog_only``, graded corruptions of one
modality; CoRe-Sleep, arXiv 2304.06485, "Evaluation"). Each run lives in
``OUT/runs/<model>/seed<k>/`` with ``result.json``; a rerun with the same
``OUT`` skips finished runs, and a failed run is reported in the table.
Writes ``results.csv`` (a row per run), ``results.md`` (mean ± std per model
and condition) and the figures.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

from rich.progress import Progress

from polymodal.bench.balance import cached_or_run
from polymodal.bench.report import Row, aggregate, failures_markdown, format_markdown, write_csv
from polymodal.bench.sleep_runs import EVALUATION_FILE, SleepProtocol, run_sleep_model
from polymodal.eval.sleep_eval import load_results
from polymodal.data.sleep.augment import training_corruptions
from polymodal.data.sleep.prepare import prepare_cache
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights
from polymodal.errors import PolymodalError
from polymodal.data.sleep.corruptions import parse_conditions
from polymodal.eval.sleep_plots import noise_curves, plot_confusion, plot_hypnogram, plot_kappa_vs_noise
from polymodal.models.sleep_registry import resolve_sleep_model
from polymodal.tasks.sleep import MONITORS

MODELS = ("core", "early", "midlate", "eeg", "eog")
CONDITIONS = ("both", "eeg_only", "eog_only", "eeg_gauss_snr10", "eeg_gauss_snr0", "eeg_gauss_snr-5",
              "eog_gauss_snr0", "eeg_blowup", "eeg_flat", "eeg_dropseg")
METRICS = ("kappa", "acc", "f1_macro")


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def sleep_parser() -> argparse.ArgumentParser:
    defaults = SleepProtocol()
    parser = argparse.ArgumentParser(prog="polymodal bench sleep",
                                     description="Compare CoRe-Sleep with its baselines across robustness conditions.")
    parser.add_argument("--source", type=Path, help="folder of EDF + scoring files (default: synthetic nights)")
    parser.add_argument("--layout", default="nsrr", help="layout of --source (nsrr or sleep-edf)")
    parser.add_argument("--nights", type=int, default=12, help="synthetic nights to write (40 for the quality run)")
    parser.add_argument("--minutes", type=float, default=60.0, help="length of each synthetic night")
    parser.add_argument("--models", type=comma_list, default=list(MODELS))
    parser.add_argument("--conditions", type=comma_list, default=list(CONDITIONS))
    parser.add_argument("--seeds", type=int, default=1, help="number of seeds (0..N-1)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes for preparing the nights")
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--sizes", type=json.loads, default={}, help='JSON size overrides, e.g. \'{"d_model": 32}\'')
    parser.add_argument("--unimodal_incomplete", dest="unimodal_complete", action="store_false",
                        help="train the unimodal baselines on the incomplete nights too")
    parser.add_argument("--train_corruptions", type=comma_list, default=[],
                        help="corruptions of one modality drawn for a share of the training sequences, "
                             "e.g. eeg_gauss_snr-5to10,eog_gauss_snr-5to10")
    for f in fields(SleepProtocol):
        if f.name not in ("sizes", "unimodal_complete", "train_corruptions"):
            parser.add_argument(f"--{f.name}", type=type(getattr(defaults, f.name)), default=getattr(defaults, f.name))
    return parser


def prepared_cache(out: Path, source: Path | None, layout: str, nights: int, minutes: float, jobs: int) -> Path:
    """Prepare ``source`` (or freshly written synthetic nights) into ``OUT/cache``."""
    if source is None:
        source, layout = out / "source", "nsrr"
        written = len(list(source.glob("*.edf")))
        if written and written != nights:
            raise PolymodalError(f"{source} holds {written} synthetic nights, not --nights {nights}; use another --out")
        if not written:
            write_synthetic_nights(source, nights, "nsrr", seed=0, minutes=minutes)
    report = prepare_cache(source, layout, out / "cache", jobs=jobs)
    if not report.with_status("prepared") and not report.with_status("cached"):
        raise PolymodalError(f"{source}: no night could be prepared (see {out / 'cache' / 'report.json'})")
    return out / "cache"


def run_dir_of(out: Path, model: str, seed: int) -> Path:
    return out / "runs" / model / f"seed{seed}"


def run_sleep_grid(cache: Path, models: Sequence[str], conditions: Sequence[str], seeds: Sequence[int], out: Path,
                   protocol: SleepProtocol) -> list[Row]:
    """Train and evaluate every (model, seed); one row per run."""
    rows: list[Row] = []
    with Progress() as progress:
        bar = progress.add_task("bench sleep", total=len(models) * len(seeds))
        for seed in seeds:
            for model in models:
                progress.update(bar, description=f"seed {seed}: {model}")
                run_dir = run_dir_of(out, model, seed)
                rows.append(cached_or_run(run_dir, {"model": model, "seed": seed}, lambda m=model, s=seed, d=run_dir:
                                          run_sleep_model(cache, m, list(conditions), protocol, d, s)))
                progress.advance(bar)
    return rows


def write_sleep_report(rows: Sequence[Row], out: Path, conditions: Sequence[str]) -> dict[str, Path]:
    """``results.csv``, ``results.md`` and the figures of the sleep suite."""
    out.mkdir(parents=True, exist_ok=True)
    for row in rows:
        row.setdefault("dataset", "sleep")
    paths = {"csv": out / "results.csv", "md": out / "results.md"}
    write_csv(rows, paths["csv"])
    sections = ["# polymodal bench sleep\n"]
    for metric in METRICS:
        columns = [f"{c}/{metric}" for c in conditions]
        summary = aggregate(rows, ["dataset", "model"], columns)
        table = format_markdown(summary, ["dataset", "model"], columns, best_within="dataset")
        sections.append(f"## Test {metric} per condition (mean ± std over seeds; best per column in bold)\n\n{table}")
    speed = aggregate(rows, ["dataset", "model"], ["train_seq_per_s", "wall_s", "epochs_trained"])
    sections.append("## Training (CPU sequences per second over the training steps)\n\n"
                    + format_markdown(speed, ["dataset", "model"], ["train_seq_per_s", "wall_s", "epochs_trained"],
                                      best_within="dataset"))
    paths["md"].write_text("\n".join(sections) + failures_markdown(rows, label="model"))
    paths.update(sleep_figures(rows, out))
    return paths


def sleep_figures(rows: Sequence[Row], out: Path) -> dict[str, Path]:
    """κ versus noise (every model, first seed), confusion matrices under ``both``, CoRe-Sleep hypnograms."""
    paths: dict[str, Path] = {}
    evaluations = {r["model"]: load_results(run_dir_of(out, r["model"], r["seed"]) / EVALUATION_FILE)
                   for r in rows if r.get("status") == "ok" and r["seed"] == min(x["seed"] for x in rows)}
    panels: dict[str, dict[str, list[tuple[float, float]]]] = {}
    clean: dict[str, float] = {}
    for model, (results, extra) in evaluations.items():
        for modality, points in noise_curves(results, ("eeg", "eog")).items():
            if modality in extra["modalities"]:
                panels.setdefault(modality, {})[model] = points
        clean.update({model: r.metrics["kappa"] for r in results if r.name == "both"})
        both = [r for r in results if r.name == "both"]
        if both:
            paths[f"confusion_{model}"] = out / f"confusion_{model}_both.png"
            plot_confusion(both[0].confusion, extra["class_names"], paths[f"confusion_{model}"],
                           f"{model}, both: κ {both[0].metrics['kappa']:.3f}")
    if panels:
        paths["kappa_vs_noise"] = out / "kappa_vs_noise.png"
        plot_kappa_vs_noise(panels, paths["kappa_vs_noise"], clean)
    if "core" in evaluations:
        results, extra = evaluations["core"]
        both = [r for r in results if r.name == "both"]
        for night in (both[0].nights[:2] if both else []):
            paths[f"hypnogram_{night.night_id}"] = out / f"hypnogram_core_{night.night_id}.png"
            plot_hypnogram(night, extra["class_names"], paths[f"hypnogram_{night.night_id}"],
                           f"CoRe-Sleep: {night.night_id}")
    return paths


def run_sleep(argv: Sequence[str]) -> int:
    args = sleep_parser().parse_args(argv)
    for model in args.models:
        resolve_sleep_model(model, ("eeg", "eog"))
    parse_conditions(args.conditions, ("eeg", "eog"))
    training_corruptions(args.train_corruptions, ("eeg", "eog"))
    if args.monitor not in MONITORS:
        raise PolymodalError(f"unknown --monitor {args.monitor!r}; choose one of: {', '.join(MONITORS)}")
    if args.seeds < 1:
        raise PolymodalError(f"--seeds must be >= 1, got {args.seeds}")
    protocol = SleepProtocol(**{f.name: getattr(args, f.name) for f in fields(SleepProtocol)
                                if f.name != "train_corruptions"}, train_corruptions=tuple(args.train_corruptions))
    cache = prepared_cache(args.out, args.source, args.layout, args.nights, args.minutes, args.jobs)
    rows = run_sleep_grid(cache, args.models, args.conditions, list(range(args.seeds)), args.out, protocol)
    paths = write_sleep_report(rows, args.out, args.conditions)
    print(paths["md"].read_text())
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0

"""``polymodal bench sleep``: CoRe-Sleep against its baselines across robustness conditions.

Without ``--source``, synthetic nights (real EDF + NSRR XML) are written to
``OUT/source``; the nights are prepared into ``OUT/cache`` (resumable), then
every model × seed is trained under one protocol and evaluated under every
condition (``both``, ``eeg_only``, ``eog_only``, graded corruptions of one
modality; CoRe-Sleep, arXiv 2304.06485, "Evaluation") through the grid
runner (:mod:`polymodal.bench.grid`). Each run lives in
``OUT/runs/<model>/seed<k>/`` with ``result.json``; a rerun with the same
``OUT`` skips finished runs, and a failed run is reported in the table.
Writes ``results.csv`` (a row per run), ``results.md`` (mean ± std per model
and condition) and the figures.

``eeg_flat`` and ``eog_only`` give the same numbers: a flat EEG has all
samples of every epoch equal, so the pipeline's flat-epoch rule marks every
EEG epoch absent (input zero, presence False), which is exactly how
``eog_only`` removes the EEG.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import partial
from pathlib import Path

from polymodal.bench.grid import Cell, run_grid
from polymodal.bench.options import Names, parse_options
from polymodal.bench.protocol import require_positive
from polymodal.bench.report import Row, aggregate, failures_markdown, format_markdown, show_report, write_csv
from polymodal.bench.sleep_runs import EVALUATION_FILE, SleepProtocol, build_fit, sleep_data, summarise
from polymodal.eval.sleep_eval import load_results
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


@dataclass(frozen=True, kw_only=True)
class SleepOptions(SleepProtocol):
    """Compare CoRe-Sleep with its baselines across robustness conditions.

    Attributes:
        out: output folder (source/, cache/, runs/, results.csv, results.md, figures)
        source: folder of EDF + scoring files (default: synthetic nights written to OUT/source)
        layout: layout of source (nsrr or sleep-edf)
        nights: synthetic nights to write (40 for the quality run)
        minutes: length of each synthetic night
        models: sleep models (polymodal.models.SLEEP_MODELS)
        conditions: evaluation conditions: both, <m>_only, <m>_<corruption>
        seeds: number of seeds (0..N-1)
        jobs: worker processes for preparing the nights
        train_corruptions: corruptions of one modality for training, e.g. eeg_gauss_snr-5to10,eog_gauss_snr-5to10
    """

    out: Path
    source: Path | None = None
    layout: str = "nsrr"
    nights: int = 12
    minutes: float = 60.0
    models: Names = field(default_factory=lambda: Names(MODELS))
    conditions: Names = field(default_factory=lambda: Names(CONDITIONS))
    seeds: int = 1
    jobs: int = 1
    train_corruptions: Names = field(default_factory=Names)

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "seeds", "jobs", "nights", "minutes")

    def protocol(self) -> SleepProtocol:
        values = {f.name: getattr(self, f.name) for f in fields(SleepProtocol)}
        return SleepProtocol(**{**values, "train_corruptions": tuple(self.train_corruptions)})


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
    cells = [Cell({"model": model, "seed": seed}, run_dir_of(out, model, seed), f"{model} seed {seed}")
             for seed in seeds for model in models]
    return run_grid("sleep", cells, partial(build_fit, cache=cache, protocol=protocol),
                    partial(summarise, conditions=list(conditions), protocol=protocol), headline="both/kappa")


def write_sleep_report(rows: Sequence[Row], out: Path, conditions: Sequence[str]) -> dict[str, Path]:
    """``results.csv``, ``results.md`` and the figures of the sleep suite."""
    out.mkdir(parents=True, exist_ok=True)
    rows = [{"dataset": "sleep", **row} for row in rows]
    paths = {"csv": out / "results.csv", "md": out / "results.md"}
    write_csv(rows, paths["csv"])
    note = ""
    if {"eeg_flat", "eog_only"} <= set(conditions):
        note = " eeg_flat equals eog_only: a flat EEG is absent by the pipeline's flat-epoch rule, as eog_only removes it."
    sections = ["# polymodal bench sleep\n", "Test metrics of each model per condition, mean ± std over seeds; "
                f"the best of each column in bold.{note}\n"]
    for metric in METRICS:
        columns = [f"{c}/{metric}" for c in conditions]
        summary = aggregate(rows, ["model"], columns)
        sections.append(f"## Test {metric} per condition\n\n{format_markdown(summary, ['model'], columns, columns)}")
    training = ["train_seq_per_s", "wall_s", "epochs_trained"]
    speed = aggregate(rows, ["model"], training)
    sections.append("## Training (sequences per second over the training steps; wall_s: training seconds)\n\n"
                    + format_markdown(speed, ["model"], training))
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
        for modality, points in noise_curves(results, extra["modalities"]).items():
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
    """``polymodal bench sleep [OPTIONS]``."""
    options = parse_options(SleepOptions, argv, "polymodal bench sleep")
    if options.monitor not in MONITORS:
        raise PolymodalError(f"unknown --monitor {options.monitor!r}; choose one of: {', '.join(MONITORS)}")
    protocol = options.protocol()
    cache = prepared_cache(options.out, options.source, options.layout, options.nights, options.minutes, options.jobs)
    modalities = sleep_data(cache, options.models[0], protocol, seed=0).info.modalities
    for model in options.models:
        resolve_sleep_model(model, modalities)
    parse_conditions(options.conditions, modalities)
    rows = run_sleep_grid(cache, options.models, options.conditions, list(range(options.seeds)), options.out, protocol)
    show_report(write_sleep_report(rows, options.out, options.conditions))
    return 0

"""Quality targets of CoRe-Sleep (arXiv 2304.06485) on synthetic PSG, measured with ``polymodal bench sleep``.

One CoRe-Sleep model and an early-fusion model are trained with 30% of the
training nights missing EOG and 30% missing EEG; dedicated EEG-only and
EOG-only models are trained on every training night. All share one
protocol (:class:`polymodal.bench.sleep_runs.SleepProtocol`) and are tested
on held-out nights (split by night; each synthetic night is its own subject).
By default every model's checkpoint is selected on ``val/kappa_all`` (the mean
of the prediction's κ and each unimodal head's κ; the prediction's κ for a
model with one head), and half of the training sequences get Gaussian noise
at an SNR drawn in [-10, 10] dB on one modality (EEG or EOG), for every
model alike. ``--monitor fused --train_corruption_probability 0`` is the
earlier protocol.
Targets:

1. CoRe-Sleep's fused κ (both modalities) above each unimodal model's κ on its modality;
2. CoRe-Sleep's EEG-only κ within 0.02 of the dedicated EEG model's κ;
3. under 0 dB Gaussian noise on EEG, CoRe-Sleep's κ drops less than early fusion's.

Run (about 20 minutes on one CPU core)::

    python benchmarks/sleep_quality.py --out runs/sleep-quality --threads 1

and it prints the markdown written to ``OUT/quality.md``.
"""

from __future__ import annotations

import argparse
import csv
import json
from dataclasses import replace
from pathlib import Path

import torch

from polymodal.bench.sleep import prepared_cache, run_dir_of, run_sleep_grid, write_sleep_report
from polymodal.bench.sleep_runs import SleepProtocol
from polymodal.tasks.sleep import MONITORS

MODELS = ["core", "early", "eeg", "eog"]
CONDITIONS = ["both", "eeg_only", "eog_only", "eeg_gauss_snr10", "eeg_gauss_snr0", "eeg_gauss_snr-5",
              "eog_gauss_snr0", "eeg_blowup", "eeg_flat", "eeg_dropseg"]


def target_lines(by_model: dict[str, dict]) -> list[str]:
    """The three targets, each with its numbers and whether it holds."""
    core, early, eeg, eog = (by_model[m] for m in ("core", "early", "eeg", "eog"))
    fused = core["both/kappa"]
    drop_core = core["both/kappa"] - core["eeg_gauss_snr0/kappa"]
    drop_early = early["both/kappa"] - early["eeg_gauss_snr0/kappa"]
    gap = core["eeg_only/kappa"] - eeg["both/kappa"]
    checks = [
        (f"fused κ {fused:.3f} > EEG model κ {eeg['both/kappa']:.3f} and > EOG model κ {eog['both/kappa']:.3f}",
         fused > eeg["both/kappa"] and fused > eog["both/kappa"]),
        (f"EEG-only κ {core['eeg_only/kappa']:.3f} vs dedicated EEG model {eeg['both/kappa']:.3f}: "
         f"difference {gap:+.3f} (target: within 0.02)", gap >= -0.02),
        (f"κ drop under 0 dB EEG noise: CoRe-Sleep {drop_core:.3f} vs early fusion {drop_early:.3f}",
         drop_core < drop_early),
    ]
    return [f"{i}. {'met' if ok else 'NOT met'}: {text}" for i, (text, ok) in enumerate(checks, 1)]


def validation_curve(out: Path, model: str) -> list[str]:
    """Per-epoch validation κ of the prediction, of each unimodal head and their mean, as table lines."""
    lines = ["| epoch | val κ (fused) | val κ EEG head | val κ EOG head | val κ_all |", "|---|---|---|---|---|"]
    with (run_dir_of(out, model, 0) / "metrics.csv").open() as handle:
        for row in csv.DictReader(handle):
            if row.get("val/kappa"):
                cells = [row.get(k) or "" for k in ("val/kappa", "val/kappa/eeg", "val/kappa/eog", "val/kappa_all")]
                lines.append(f"| {row['epoch']} | " + " | ".join(f"{float(c):.3f}" if c else "–" for c in cells) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("runs/sleep-quality"))
    parser.add_argument("--nights", type=int, default=40)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--max_epochs", type=int, default=24)
    parser.add_argument("--patience", type=int, default=8, help="early stopping on the monitored validation κ")
    parser.add_argument("--monitor", default="all", help="checkpoint selection: fused or all (see SleepTask)")
    parser.add_argument("--train_corruption_probability", type=float, default=0.5)
    parser.add_argument("--train_corruptions", type=lambda t: tuple(t.split(",")),
                        default=("eeg_gauss_snr-10to10", "eog_gauss_snr-10to10"))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sizes", type=json.loads, default={"d_model": 32, "heads": 4, "ffn_dim": 64, "head_hidden": 64})
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    protocol = SleepProtocol(max_epochs=args.max_epochs, patience=args.patience, lr=1e-3, sizes=args.sizes, train_stride=21,
                             monitor=args.monitor, train_corruption_probability=args.train_corruption_probability,
                             train_corruptions=args.train_corruptions)
    cache = prepared_cache(args.out, None, "nsrr", args.nights, args.minutes, jobs=args.threads)
    rows = run_sleep_grid(cache, MODELS, CONDITIONS, [0], args.out, protocol)
    paths = write_sleep_report(rows, args.out, CONDITIONS)
    failed = [r for r in rows if r.get("status") != "ok"]
    lines = [f"# CoRe-Sleep quality run ({args.nights} synthetic nights of {args.minutes:g} min, seed 0)", "",
             f"protocol: {json.dumps(protocol.to_dict())}", ""]
    if failed:
        lines += [f"- run {r['model']} failed: {r.get('error')}" for r in failed]
    else:
        lines += target_lines({r["model"]: r for r in rows})
    incomplete = run_sleep_grid(cache, ["eeg", "eog"], ["both"], [0], args.out / "unimodal_incomplete",
                                replace(protocol, unimodal_complete=False))
    lines += ["", "Unimodal models trained on the same incomplete nights as CoRe-Sleep (70% of nights hold "
              "each modality): " + ", ".join(f"{r['model']} κ {r.get('both/kappa')}" for r in incomplete)]
    lines += ["", f"CoRe-Sleep validation curve (the checkpoint is chosen by {MONITORS[args.monitor]}):", "",
              *validation_curve(args.out, "core")]
    lines += ["", "Training throughput (sequences/s, CPU, training steps only): "
              + ", ".join(f"{r['model']} {r.get('train_seq_per_s')}" for r in rows), "",
              paths["md"].read_text()]
    (args.out / "quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()

"""``polymodal sleep ...``: prepare real recordings into the cache, or write synthetic nights.

::

    polymodal sleep prepare SRC --layout nsrr|sleep-edf --out CACHE [--jobs N]
                                [--eeg CH] [--eog-left CH] [--eog-right CH]
                                [--wake-trim window|largest|none] [--wake-minutes M]
                                [--require_all_stages]
    polymodal sleep synth OUT --nights N --layout nsrr|sleep-edf --seed S [--minutes M]
                              [--edge-wake-minutes M] [--without-stages REM,...] [--unit uV|mV|V]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from polymodal.data.sleep.cache import night_path, prepared_nights, read_texts
from polymodal.data.sleep.curation import describe_excluded, missing_stages
from polymodal.data.sleep.datamodule import DEFAULT_TEST_FRACTION, DEFAULT_VAL_FRACTION, split_by_subject
from polymodal.data.sleep.layouts import LAYOUTS
from polymodal.data.sleep.prepare import REPORT_FILE, PrepareReport, prepare_cache
from polymodal.data.sleep.recording import ChannelSpec
from polymodal.data.sleep.stats import stats_path, training_stats
from polymodal.data.sleep.synthetic_psg import UNITS, write_synthetic_nights
from polymodal.data.sleep.wake_trim import DEFAULT_WINDOW_MINUTES, RULES, WakeTrim
from polymodal.errors import PolymodalError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polymodal sleep", description="Sleep-staging data (CoRe-Sleep, arXiv 2304.06485).")
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare", help="prepare scored recordings into a cache of epoch spectrograms")
    prepare.add_argument("src", type=Path, help="dataset folder")
    prepare.add_argument("--layout", required=True, choices=LAYOUTS.names())
    prepare.add_argument("--out", required=True, type=Path, help="cache folder (resumable)")
    prepare.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    prepare.add_argument("--eeg", help="EEG channel label (nsrr: 'EEG', sleep-edf: 'EEG Fpz-Cz')")
    prepare.add_argument("--eog-left", help="left EOG channel label, or a bipolar EOG channel")
    prepare.add_argument("--eog-right", help="right EOG channel label, subtracted from the left; '' for none")
    prepare.add_argument("--wake-trim", choices=RULES,
                         help="edge-Wake rule (nsrr: largest, as SleepTransformer / CoRe-Sleep; sleep-edf: window, "
                              "as DeepSleepNet / TinySleepNet / MNE)")
    prepare.add_argument("--wake-minutes", type=float,
                         help=f"Wake kept before the first and after the last sleep epoch by the window rule "
                              f"(default {DEFAULT_WINDOW_MINUTES:g})")
    prepare.add_argument("--seed", type=int, default=0, help="seed of the default subject split used for the saved z-score statistics")
    prepare.add_argument("--require_all_stages", action="store_true",
                         help="leave nights lacking a stage out of the split used for the saved z-score statistics "
                              "(the SHHS benchmark's cohort; fit with --data.require_all_stages true)")
    synth = commands.add_parser("synth", help="write synthetic scored nights as EDF + scoring files")
    synth.add_argument("out", type=Path)
    synth.add_argument("--nights", type=int, required=True)
    synth.add_argument("--layout", required=True, choices=LAYOUTS.names())
    synth.add_argument("--seed", type=int, default=0)
    synth.add_argument("--minutes", type=float, default=90.0, help="length of each night")
    synth.add_argument("--edge-wake-minutes", type=float, default=0.0, help="Wake added before and after each night")
    synth.add_argument("--without-stages", default="", help="comma-separated stages no night holds (N2, N3, REM)")
    synth.add_argument("--unit", default="uV", choices=UNITS, help="physical dimension of EEG and EOG")
    return parser


def sleep_main(argv: list[str]) -> int:
    """Run ``polymodal sleep`` with ``argv`` (without the ``sleep`` word); returns the exit status."""
    args = build_parser().parse_args(argv)
    console = Console()
    if args.command == "synth":
        without = [name.strip() for name in args.without_stages.split(",") if name.strip()]
        paths = write_synthetic_nights(args.out, args.nights, args.layout, args.seed, args.minutes,
                                       args.edge_wake_minutes, without, args.unit)
        console.print(f"wrote {len(paths)} synthetic {args.layout} nights to {args.out}")
        return 0
    defaults = LAYOUTS.get(args.layout).default_channels
    right = defaults.eog_right if args.eog_right is None else (args.eog_right or None)
    channels = ChannelSpec(args.eeg or defaults.eeg, args.eog_left or defaults.eog_left, right)
    layout_trim = LAYOUTS.get(args.layout).default_wake_trim
    rule = args.wake_trim or layout_trim.rule
    if args.wake_minutes is not None and rule != "window":
        raise PolymodalError(f"--wake-minutes applies to the window rule only; --layout {args.layout} trims by "
                             f"{rule!r} (add --wake-trim window)")
    wake_trim = WakeTrim(rule, layout_trim.minutes if args.wake_minutes is None else args.wake_minutes)
    report = prepare_cache(args.src, args.layout, args.out, channels, jobs=args.jobs, wake_trim=wake_trim)
    print_report(console, report, args.out)
    if not (report.with_status("prepared") or report.with_status("cached")):
        raise PolymodalError(f"no night of {args.src} could be prepared; the reasons are in {args.out / REPORT_FILE}")
    nights = prepared_nights(args.out)
    if args.require_all_stages:
        lacking = missing_stages(args.out, nights)
        console.print(describe_excluded(lacking, len(nights)))
        nights = [night for night in nights if night not in lacking]
    if nights:
        subjects = {night: read_texts(night_path(args.out, night))["subject"] for night in nights}
        if len(set(subjects.values())) >= 3:
            train = split_by_subject(subjects, DEFAULT_VAL_FRACTION, DEFAULT_TEST_FRACTION, args.seed)["train"]
            training_stats(args.out, train)
            console.print(f"z-score statistics of the {len(train)} training nights: {stats_path(args.out, train).relative_to(args.out)}")
    return 0


def print_report(console: Console, report: PrepareReport, cache_dir: Path) -> None:
    """Summary line plus tables of the skipped nights and their reasons and of the notes on prepared nights."""
    noted = [r for r in report.with_status("prepared") if r.notes]
    if noted:
        table = Table(title=f"{len(noted)} prepared nights with notes")
        table.add_column("night")
        table.add_column("note")
        for result in noted:
            table.add_row(result.night_id, "; ".join(result.notes))
        console.print(table)
    skipped = report.with_status("skipped")
    if skipped:
        table = Table(title=f"{len(skipped)} skipped nights")
        table.add_column("night")
        table.add_column("files")
        table.add_column("reason")
        for result in skipped:
            table.add_row(result.night_id, result.file, result.reason)
        console.print(table)
    console.print(
        f"prepared {len(report.with_status('prepared'))}, already cached {len(report.with_status('cached'))}, "
        f"skipped {len(skipped)} nights; report: {cache_dir / REPORT_FILE}"
    )

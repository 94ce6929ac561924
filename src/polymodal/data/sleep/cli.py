"""``polymodal sleep ...``: prepare real recordings into the cache, or write synthetic nights.

::

    polymodal sleep prepare SRC --layout nsrr|sleep-edf --out CACHE [--jobs N]
                                [--eeg CH] [--eog_left CH] [--eog_right CH]
                                [--wake_trim window|largest|none] [--wake_minutes M]
                                [--require_all_stages] [--config FILE.yaml]
    polymodal sleep synth OUT --nights N --layout nsrr|sleep-edf --seed S [--minutes M]
                              [--edge_wake_minutes M] [--without_stages REM,...] [--unit uV|mV|V]

The options spelt with hyphens in earlier releases (``--eog-left``, ...) are still accepted.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Console
from rich.table import Table

from polymodal.commands import Subcommand, run_subcommand
from polymodal.data.sleep.cache import night_path, prepared_nights, read_texts
from polymodal.data.sleep.curation import describe_excluded, missing_stages
from polymodal.data.sleep.datamodule import DEFAULT_TEST_FRACTION, DEFAULT_VAL_FRACTION, split_by_subject
from polymodal.data.sleep.layouts import LAYOUTS
from polymodal.data.sleep.prepare import REPORT_FILE, PrepareReport, prepare_cache
from polymodal.data.sleep.recording import ChannelSpec
from polymodal.data.sleep.stats import stats_path, training_stats
from polymodal.data.sleep.synthetic_psg import UNITS, write_synthetic_nights
from polymodal.data.sleep.wake_trim import WakeTrim
from polymodal.errors import PolymodalError


PREPARE_ALIASES = {"--eog-left": "eog_left", "--eog-right": "eog_right", "--wake-trim": "wake_trim",
                   "--wake-minutes": "wake_minutes"}
SYNTH_ALIASES = {"--edge-wake-minutes": "edge_wake_minutes", "--without-stages": "without_stages"}
"""Spellings of the options kept from earlier releases."""


def prepare(src: Path, *, layout: str, out: Path, jobs: int = 1, eeg: str | None = None,
            eog_left: str | None = None, eog_right: str | None = None,
            wake_trim: str | None = None, wake_minutes: float | None = None,
            seed: int = 0, require_all_stages: bool = False) -> int:
    """Prepare scored recordings into a cache of epoch spectrograms (resumable).

    Args:
        src: dataset folder
        layout: how the recordings and scorings are laid out: nsrr or sleep-edf
        out: cache folder
        jobs: parallel worker processes
        eeg: EEG channel label (nsrr: 'EEG', sleep-edf: 'EEG Fpz-Cz')
        eog_left: left EOG channel label, or a bipolar EOG channel
        eog_right: right EOG channel label, subtracted from the left; '' for none
        wake_trim: edge-Wake rule, window, largest or none (nsrr: largest, as SleepTransformer / CoRe-Sleep; sleep-edf: window, as
            DeepSleepNet / TinySleepNet / MNE)
        wake_minutes: Wake kept before the first and after the last sleep epoch by the window rule
        seed: seed of the default subject split used for the saved z-score statistics
        require_all_stages: leave nights lacking a stage out of the split used for the saved z-score
            statistics (the SHHS benchmark's cohort; fit with --data.require_all_stages true)
    """
    console = Console()
    defaults = LAYOUTS.get(layout).default_channels
    right = defaults.eog_right if eog_right is None else (eog_right or None)
    channels = ChannelSpec(eeg or defaults.eeg, eog_left or defaults.eog_left, right)
    layout_trim = LAYOUTS.get(layout).default_wake_trim
    rule = wake_trim or layout_trim.rule
    if wake_minutes is not None and rule != "window":
        raise PolymodalError(f"--wake_minutes applies to the window rule only; --layout {layout} trims by "
                             f"{rule!r} (add --wake_trim window)")
    trim = WakeTrim(rule, layout_trim.minutes if wake_minutes is None else wake_minutes)
    report = prepare_cache(src, layout, out, channels, jobs=jobs, wake_trim=trim)
    print_report(console, report, out)
    if not (report.with_status("prepared") or report.with_status("cached")):
        raise PolymodalError(f"no night of {src} could be prepared; the reasons are in {out / REPORT_FILE}")
    nights = prepared_nights(out)
    if require_all_stages:
        lacking = missing_stages(out, nights)
        console.print(describe_excluded(lacking, len(nights)))
        nights = [night for night in nights if night not in lacking]
    if nights:
        subjects = {night: read_texts(night_path(out, night))["subject"] for night in nights}
        if len(set(subjects.values())) >= 3:
            train = split_by_subject(subjects, DEFAULT_VAL_FRACTION, DEFAULT_TEST_FRACTION, seed)["train"]
            training_stats(out, train)
            console.print(f"z-score statistics of the {len(train)} training nights: "
                          f"{stats_path(out, train).relative_to(out)}")
    return 0


def synth(out: Path, *, nights: int, layout: str, seed: int = 0, minutes: float = 90.0,
          edge_wake_minutes: float = 0.0, without_stages: str = "", unit: str = "uV") -> int:
    """Write synthetic scored nights as EDF + scoring files.

    Args:
        out: folder of the nights
        nights: how many nights
        layout: the layout to write them in: nsrr or sleep-edf
        seed: seed of the generator
        minutes: length of each night
        edge_wake_minutes: Wake added before and after each night
        without_stages: comma-separated stages no night holds (N2, N3, REM)
        unit: physical dimension of EEG and EOG: uV, mV or V
    """
    LAYOUTS.get(layout)
    if unit not in UNITS:
        raise PolymodalError(f"unknown unit {unit!r}; choose one of: {', '.join(UNITS)}")
    without = [name.strip() for name in without_stages.split(",") if name.strip()]
    paths = write_synthetic_nights(out, nights, layout, seed, minutes, edge_wake_minutes, without, unit)
    Console().print(f"wrote {len(paths)} synthetic {layout} nights to {out}")
    return 0


def sleep_main(argv: list[str]) -> int:
    """Run ``polymodal sleep`` with ``argv`` (without the ``sleep`` word); returns the exit status."""
    return run_subcommand("polymodal sleep", "Sleep-staging data (CoRe-Sleep, arXiv 2304.06485).", {
        "prepare": Subcommand(prepare, "prepare scored recordings into a cache of epoch spectrograms",
                              PREPARE_ALIASES, {"require_all_stages": "leave nights lacking a stage out of the "
                                                "split of the saved z-score statistics"}),
        "synth": Subcommand(synth, "write synthetic scored nights as EDF + scoring files", SYNTH_ALIASES),
    }, argv)


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

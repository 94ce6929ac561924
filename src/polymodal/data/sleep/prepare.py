"""Preparing a dataset folder into the cache: one night per file, in parallel, resumable.

Per night (CoRe-Sleep, arXiv 2304.06485, "Data pipeline"): read the EEG and
EOG (L − R) in µV, check that the scoring starts with the recording, expand
the scoring into 30-s epoch labels, take the epoch spectrograms
(:mod:`polymodal.data.sleep.signal`), keep scored epochs, trim edge Wake by
the layout's rule (:mod:`polymodal.data.sleep.wake_trim`), and drop epochs
with non-finite data. An epoch whose channel is flat (all samples equal)
keeps its label with that modality marked absent (stored as zeros); an epoch
with no channel left is dropped. A night is prepared whatever stages it
holds: the SHHS benchmark's "all five stages" curation is an opt-in filter
applied when splits are made (``require_all_stages`` of
:class:`~polymodal.data.sleep.datamodule.SleepDataModule`). The band-passed
100 Hz signal of each kept epoch is stored too, so that evaluation can
corrupt the signal before the STFT (:mod:`polymodal.data.sleep.corruptions`).

A night file already in the cache is kept when it is complete; a damaged
one (truncated) is prepared again and noted in the report.

Scoring that runs past the recording's last complete epoch (a scored
annotation past the end, or a PSG that ends inside its last epoch) is cut
off, as DeepSleepNet and MNE do, and noted in the report. Every problem
that stops a night (corrupt EDF or XML, missing channel, unknown unit,
mismatched rates or start times, a malformed, negative or non-finite value
in the scoring, empty night) is reported with the file name and the reason;
the other nights are prepared.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from polymodal.data.sleep.cache import check_night, night_path, remove_partials, write_night
from polymodal.data.sleep.layouts import LAYOUTS, Layout, NightSource
from polymodal.data.sleep.recording import ChannelSpec, read_recording
from polymodal.data.sleep.scoring import NUM_STAGES, STAGES, UNSCORED, epoch_labels
from polymodal.data.sleep.signal import PREPARED_BANDS, epoch_signals, epoch_spectrograms, filtered, flat_epochs
from polymodal.data.sleep.start_time import check_same_start
from polymodal.data.sleep.wake_trim import WakeTrim
from polymodal.errors import PolymodalError

SETTINGS_FILE = "prepare.json"
REPORT_FILE = "report.json"


@dataclass(frozen=True)
class NightResult:
    """Outcome of one night: ``status`` is ``prepared``, ``cached`` (done by an earlier run) or ``skipped``."""

    night_id: str
    status: str
    reason: str = ""
    file: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PrepareReport:
    results: list[NightResult]

    def with_status(self, status: str) -> list[NightResult]:
        return [r for r in self.results if r.status == status]

    def to_dict(self) -> dict[str, list[dict]]:
        return {status: [asdict(r) for r in self.with_status(status)] for status in ("prepared", "cached", "skipped")}


def prepare_night(
    source: NightSource, layout: Layout, channels: ChannelSpec, wake_trim: WakeTrim | None = None
) -> tuple[dict[str, np.ndarray], dict[str, int], list[str]]:
    """Arrays of one night for the cache, the counts of kept and dropped epochs, and notes for the report.

    ``wake_trim``: the edge-Wake rule; default: the layout's.
    """
    if source.recording is None or source.scoring is None:
        missing = "recording EDF" if source.recording is None else "scoring file"
        raise PolymodalError(f"no {missing} for night {source.night_id!r}")
    recording = read_recording(source.recording, channels)
    scoring = layout.read_scoring(source.scoring)
    check_same_start(recording.start, scoring.start, source.recording.name, source.scoring.name)
    n_epochs = recording.n_epochs
    if n_epochs == 0:
        raise PolymodalError(f"{source.recording.name}: empty night (no complete 30-s epoch)")
    labels, past_end = epoch_labels(scoring.events, n_epochs, source.scoring.name)
    scored = int((labels != UNSCORED).sum())
    if scored == 0:
        raise PolymodalError(f"{source.scoring.name}: empty night (no scored sleep-stage epoch)")
    kept = np.flatnonzero((wake_trim or layout.default_wake_trim).keep(labels))
    signals = {
        "eeg": filtered(recording.eeg, recording.eeg_rate, PREPARED_BANDS["eeg"], source.recording.name),
        "eog": filtered(recording.eog, recording.eog_rate, PREPARED_BANDS["eog"], source.recording.name),
    }
    spectra = {m: epoch_spectrograms(x, n_epochs)[kept] for m, x in signals.items()}
    present = {
        "eeg": ~flat_epochs(recording.eeg, recording.eeg_rate, n_epochs)[kept],
        "eog": ~flat_epochs(recording.eog, recording.eog_rate, n_epochs)[kept],
    }
    finite = np.ones(len(kept), dtype=bool)
    for m, x in spectra.items():
        finite &= np.isfinite(x).all(axis=(1, 2)) | ~present[m]
    usable = finite & (present["eeg"] | present["eog"])
    if not usable.any():
        raise PolymodalError(f"{source.recording.name}: no epoch with a usable EEG or EOG signal")
    y = labels[kept][usable]
    arrays = {"y": y, "epoch": kept[usable].astype(np.int32)}
    for m in spectra:
        arrays[m] = np.where(present[m][:, None, None], spectra[m], 0.0).astype(np.float32)[usable]
        arrays[f"present_{m}"] = present[m][usable]
        epochs = np.where(present[m][:, None], epoch_signals(signals[m], n_epochs)[kept], 0.0)
        arrays[f"signal_{m}"] = epochs.astype(np.float32)[usable]
        arrays[f"band_{m}"] = np.array(PREPARED_BANDS[m], dtype=np.float64)
    counts = {
        "recording_epochs": n_epochs,
        "kept": int(usable.sum()),
        "unscored": int(n_epochs - scored),
        "wake_trimmed": int(scored - kept.size),
        "non_finite": int((~finite).sum()),
        "no_signal": int((finite & ~usable).sum()),
        "scored_past_end": past_end,
        **{f"kept_{stage}": int(n) for stage, n in zip(STAGES, np.bincount(y, minlength=NUM_STAGES))},
    }
    notes = []
    if past_end:
        notes.append(f"{source.scoring.name}: {past_end} scored epochs past the last complete 30-s epoch of "
                     f"{source.recording.name} ({n_epochs} epochs) cut off")
    return arrays, counts, notes


def _prepare_one(job: tuple[NightSource, str, ChannelSpec, WakeTrim, Path, str]) -> NightResult:
    """Worker: prepare one night and write it, or report why not (``note``: added to the night's notes)."""
    source, layout_name, channels, wake_trim, cache_dir, note = job
    try:
        arrays, counts, notes = prepare_night(source, LAYOUTS.get(layout_name), channels, wake_trim)
    except PolymodalError as exc:
        return NightResult(source.night_id, "skipped", str(exc), _files(source))
    texts = {"subject": source.subject, "recording": source.recording.name, "scoring": source.scoring.name}
    write_night(cache_dir, source.night_id, arrays, texts)
    return NightResult(source.night_id, "prepared", "", _files(source), counts, [note, *notes] if note else notes)


def _files(source: NightSource) -> str:
    return ", ".join(p.name for p in (source.recording, source.scoring) if p is not None)


def prepare_cache(
    source_dir: str | Path,
    layout: str,
    cache_dir: str | Path,
    channels: ChannelSpec | None = None,
    jobs: int = 1,
    progress: bool = True,
    wake_trim: WakeTrim | None = None,
) -> PrepareReport:
    """Prepare every night under ``source_dir`` into ``cache_dir`` and write ``report.json``.

    Args:
        source_dir: dataset folder in the given ``layout``.
        layout: ``nsrr`` or ``sleep-edf``.
        cache_dir: output folder; complete nights already there are kept (resume).
        channels: channel labels; default: the layout's (SHHS ``EEG``, ``EOG(L)`` − ``EOG(R)``).
        jobs: worker processes (one night each at a time).
        progress: show a progress bar.
        wake_trim: edge-Wake rule; default: the layout's (``nsrr``: ``largest``,
            ``sleep-edf``: a 30-minute ``window``).
    """
    source_dir, cache_dir = Path(source_dir), Path(cache_dir)
    spec = LAYOUTS.get(layout)
    channels = channels or spec.default_channels
    wake_trim = wake_trim or spec.default_wake_trim
    if not source_dir.is_dir():
        raise PolymodalError(f"{source_dir}: no such folder")
    if jobs < 1:
        raise PolymodalError(f"--jobs must be >= 1, got {jobs}")
    if cache_dir.exists() and not cache_dir.is_dir():
        raise PolymodalError(f"--out {cache_dir}: is a file, not a folder")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise PolymodalError(f"--out {cache_dir}: cannot create the folder ({exc.strerror})") from None
    _check_settings(cache_dir, {"layout": layout, "channels": asdict(channels), "wake_trim": asdict(wake_trim)})
    remove_partials(cache_dir)
    sources = spec.discover(source_dir)
    if not sources:
        raise PolymodalError(f"{source_dir}: no {layout} recordings found")
    damaged = {s.night_id: _damage(night_path(cache_dir, s.night_id)) for s in sources
               if night_path(cache_dir, s.night_id).exists()}
    done = [s for s in sources if damaged.get(s.night_id) == ""]
    todo = [(s, layout, channels, wake_trim, cache_dir, damaged.get(s.night_id, "")) for s in sources
            if damaged.get(s.night_id) != ""]
    results = [NightResult(s.night_id, "cached", "", _files(s)) for s in done]
    with tqdm(total=len(todo), desc="prepare", unit="night", disable=not progress) as bar:
        for result in _run(todo, jobs):
            results.append(result)
            bar.update()
    report = PrepareReport(sorted(results, key=lambda r: r.night_id))
    (cache_dir / REPORT_FILE).write_text(json.dumps(report.to_dict(), indent=1))
    return report


def _damage(path: Path) -> str:
    """``""`` when the cached night ``path`` is complete, else a note that it is prepared again and why."""
    try:
        check_night(path)
    except PolymodalError:
        return f"prepared again: the cached {path.name} was damaged (truncated or unreadable)"
    return ""


def _run(todo: list, jobs: int) -> Iterator[NightResult]:
    if jobs == 1 or len(todo) <= 1:
        yield from map(_prepare_one, todo)
        return
    with multiprocessing.Pool(jobs, maxtasksperchild=16) as pool:
        yield from pool.imap_unordered(_prepare_one, todo)


def _check_settings(cache_dir: Path, settings: dict) -> None:
    """A cache holds nights prepared one way only: other settings need another folder."""
    path = cache_dir / SETTINGS_FILE
    if path.exists():
        try:
            previous = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PolymodalError(f"{path}: unreadable settings of the cache ({exc}); use a new --out folder") from None
        if previous != settings:
            raise PolymodalError(
                f"{cache_dir}: prepared with other settings ({previous}); use a new --out folder for {settings}"
            )
    else:
        path.write_text(json.dumps(settings))

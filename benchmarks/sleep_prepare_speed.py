"""Preparation speed and peak memory: polymodal's sleep pipeline vs a straightforward MNE pipeline.

Both read the same synthetic SHHS-like nights (EDF + NSRR XML, full-length
by default), resample to 100 Hz, band-pass (EEG 0.3–40 Hz, EOG 0.3–23 Hz)
and take the 29 × 128 epoch spectrograms (CoRe-Sleep, arXiv 2304.06485).
The MNE side is what one writes by hand: ``mne.io.read_raw_edf(preload=True)``
(which brings every channel to the highest rate), ``raw.resample(100,
method="polyphase")``, ``raw.filter`` with MNE's FIR defaults, and
``scipy.signal.stft`` epoch by epoch. Labels, trimming and epoch selection
use the same scoring code on both sides, so the kept epochs and labels must
be identical; spectrograms differ only by filter design and are compared.

Run pinned to one core::

    python benchmarks/sleep_prepare_speed.py --nights 3 --minutes 480 --out /tmp/sleep_bench
"""

from __future__ import annotations

import argparse
import os

os.environ.update(OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")

import resource  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from scipy import signal as sps  # noqa: E402

from polymodal.data.sleep.layouts import LAYOUTS, discover_nsrr  # noqa: E402
from polymodal.data.sleep.prepare import prepare_cache, prepare_night  # noqa: E402
from polymodal.data.sleep.scoring import epoch_labels, read_nsrr_xml  # noqa: E402
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights  # noqa: E402
from polymodal.data.sleep.wake_trim import WakeTrim  # noqa: E402

CHANNELS = LAYOUTS.get("nsrr").default_channels
BIN_HZ = (np.arange(128) + 1) * 100 / 256
PASSBAND = {"eeg": (BIN_HZ >= 1) & (BIN_HZ <= 35), "eog": (BIN_HZ >= 1) & (BIN_HZ <= 20)}


def polymodal_night(source) -> dict[str, np.ndarray]:
    arrays, _, _ = prepare_night(source, LAYOUTS.get("nsrr"), CHANNELS)
    return arrays


def mne_night(source) -> dict[str, np.ndarray]:
    import mne

    raw = mne.io.read_raw_edf(source.recording, preload=True, verbose="error")
    eeg = raw.get_data(picks=[CHANNELS.eeg])[0]
    eog = raw.get_data(picks=[CHANNELS.eog_left])[0] - raw.get_data(picks=[CHANNELS.eog_right])[0]
    info = mne.create_info(["C4-A1", "EOG(L)-EOG(R)"], raw.info["sfreq"], ["eeg", "eog"])
    derived = mne.io.RawArray(np.stack([eeg, eog]), info, verbose="error")
    derived.resample(100, method="polyphase", verbose="error")
    derived.filter(0.3, 40.0, picks=[0], fir_design="firwin", verbose="error")
    derived.filter(0.3, 23.0, picks=[1], fir_design="firwin", verbose="error")
    data = derived.get_data() * 1e6  # MNE works in volts; the EDF (and polymodal) in µV
    n_epochs = data.shape[1] // 3000
    labels, _ = epoch_labels(read_nsrr_xml(source.scoring).events, n_epochs, source.scoring.name)
    kept = np.flatnonzero(WakeTrim("largest").keep(labels))
    window = sps.get_window("hamming", 200)
    spectra = {"eeg": [], "eog": []}
    for epoch in kept:
        for row, name in enumerate(spectra):
            _, _, z = sps.stft(data[row, epoch * 3000:(epoch + 1) * 3000], window=window, nperseg=200, noverlap=100,
                               nfft=256, boundary=None, padded=False)
            spectra[name].append(20 * np.log10(np.abs(z[1:].T * window.sum())))
    return {"y": labels[kept], "epoch": kept.astype(np.int32), **{k: np.array(v, np.float32) for k, v in spectra.items()}}


def timed(pipeline, sources) -> tuple[float, list[dict]]:
    pipeline(sources[0])  # warm-up (imports, caches)
    start = time.perf_counter()
    outputs = [pipeline(s) for s in sources]
    return time.perf_counter() - start, outputs


def peak_traced_mib(pipeline, source) -> float:
    tracemalloc.start()
    pipeline(source)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nights", type=int, default=3)
    parser.add_argument("--minutes", type=float, default=480.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    if not any(args.out.glob("*.edf")):
        write_synthetic_nights(args.out, args.nights, "nsrr", args.seed, args.minutes)
    sources = discover_nsrr(args.out)[: args.nights]
    parent_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with tempfile.TemporaryDirectory() as cache:
        prepare_cache(args.out, "nsrr", cache, jobs=2, progress=False)
    worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ours_s, ours = timed(polymodal_night, sources)
    mne_s, theirs = timed(mne_night, sources)
    for a, b, s in zip(ours, theirs, sources):
        assert np.array_equal(a["epoch"], b["epoch"]) and np.array_equal(a["y"], b["y"]), f"{s.night_id}: epochs differ"
    diffs = {m: np.concatenate([np.abs(a[m] - b[m])[..., PASSBAND[m]].ravel() for a, b in zip(ours, theirs)])
             for m in ("eeg", "eog")}
    corr = {m: np.corrcoef(np.concatenate([a[m].ravel() for a in ours]), np.concatenate([b[m].ravel() for b in theirs]))[0, 1]
            for m in ("eeg", "eog")}
    edf_mib = sources[0].recording.stat().st_size / 2**20
    night_mib = sum(v.nbytes for v in ours[0].values()) / 2**20
    peaks = {name: peak_traced_mib(p, sources[0]) for name, p in (("polymodal", polymodal_night), ("mne", mne_night))}
    n = len(sources)
    print(f"{n} nights of {args.minutes:g} min (EDF {edf_mib:.1f} MiB each, prepared {night_mib:.1f} MiB), one core")
    print("| pipeline | s / night | nights / min | peak traced MiB (one night) |")
    print("|---|---|---|---|")
    print(f"| polymodal (edfio + scipy, vectorized STFT) | {ours_s / n:.2f} | {60 * n / ours_s:.1f} | {peaks['polymodal']:.0f} |")
    print(f"| MNE (read_raw_edf, resample, filter, per-epoch stft) | {mne_s / n:.2f} | {60 * n / mne_s:.1f} | {peaks['mne']:.0f} |")
    print(f"speed-up {mne_s / ours_s:.2f}x; kept epochs and labels identical on all {n} nights "
          f"({sum(len(o['y']) for o in ours)} epochs)")
    for m in ("eeg", "eog"):
        print(f"{m}: pass-band spectrogram |difference| median {np.median(diffs[m]):.2f} dB, 99th pct {np.percentile(diffs[m], 99):.2f} dB, "
              f"all-bin correlation {corr[m]:.4f} (filter designs differ)")
    print(f"prepare_cache(jobs=2): worker peak RSS {worker_mib:.0f} MiB, of which {parent_mib:.0f} MiB inherited "
          f"from the parent at fork (imports); one night per worker")


if __name__ == "__main__":
    main()

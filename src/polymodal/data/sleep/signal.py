"""Signal processing of one night: resampling, band-pass filtering, epoch spectrograms.

The chain follows CoRe-Sleep (arXiv 2304.06485, "Data pipeline"), which takes
the SleepTransformer time-frequency input (arXiv 2105.11043, Sec. III-A):

1. polyphase resampling to 100 Hz (``scipy.signal.resample_poly``);
2. zero-phase FIR band-pass of order 100 (``firwin`` + ``filtfilt``),
   0.3–40 Hz for EEG and 0.3–23 Hz for EOG;
3. per 30-s epoch, an STFT with a 2-s Hamming window, 1-s hop and 256 FFT
   points: 29 frames × 129 bins, ``20·log10|X|``, DC bin dropped → 29 × 128.

The STFT is computed for all epochs of a night at once on a strided view
(no loop over epochs); it equals ``scipy.signal.stft`` with ``boundary=None,
padded=False`` times the window sum (the magnitude is not rescaled; the
per-bin z-scoring removes any constant gain).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import signal as sps

from polymodal.errors import PolymodalError

TARGET_RATE = 100
"""Sampling rate (Hz) of every channel after resampling."""
EPOCH_SECONDS = 30
FIR_ORDER = 100
EEG_BAND = (0.3, 40.0)
EOG_BAND = (0.3, 23.0)
PREPARED_BANDS = {"eeg": EEG_BAND, "eog": EOG_BAND}
"""The band-pass of each modality the preparation reads from a recording (stored per night as ``band_<m>``)."""
WINDOW_SECONDS = 2
HOP_SECONDS = 1
NFFT = 256
FRAMES = (EPOCH_SECONDS - WINDOW_SECONDS) // HOP_SECONDS + 1  # 29
BINS = NFFT // 2  # 128 after dropping DC
MAX_POLYPHASE_FACTOR = 1000
"""Largest up/down factor accepted for polyphase resampling."""


def check_rate(rate: float, band: tuple[float, float], what: str) -> None:
    """Reject a native rate the pipeline cannot use, naming ``what`` (file and channel).

    A rate is usable when it carries the whole band (Nyquist above the upper
    edge), holds a whole number of samples per 30-s epoch, and relates to
    100 Hz by a ratio ``up/down`` with both factors ≤ 1000.
    """
    if not np.isfinite(rate) or rate <= 0:
        raise PolymodalError(f"{what}: invalid sampling rate {rate} Hz")
    if rate / 2 <= band[1]:
        raise PolymodalError(
            f"{what}: sampled at {rate:g} Hz, too slow for the {band[0]:g}-{band[1]:g} Hz band "
            f"(needs more than {2 * band[1]:g} Hz)"
        )
    per_epoch = rate * EPOCH_SECONDS
    if abs(per_epoch - round(per_epoch)) > 1e-6:
        raise PolymodalError(f"{what}: {rate:g} Hz gives no whole number of samples per {EPOCH_SECONDS}-s epoch")
    resampling_factors(rate, what)


def resampling_factors(rate: float, what: str) -> tuple[int, int]:
    """``(up, down)`` with ``rate · up / down == 100`` exactly, both ≤ :data:`MAX_POLYPHASE_FACTOR`."""
    exact = Fraction(rate).limit_denominator(MAX_POLYPHASE_FACTOR)
    ratio = Fraction(TARGET_RATE) / exact
    if abs(float(exact) - rate) > 1e-9 * rate or max(ratio.numerator, ratio.denominator) > MAX_POLYPHASE_FACTOR:
        raise PolymodalError(
            f"{what}: {rate:g} Hz has no polyphase ratio to {TARGET_RATE} Hz with factors <= {MAX_POLYPHASE_FACTOR}"
        )
    return ratio.numerator, ratio.denominator


def resample(x: np.ndarray, rate: float, what: str = "signal") -> np.ndarray:
    """Polyphase resampling of ``x`` from ``rate`` to 100 Hz."""
    up, down = resampling_factors(rate, what)
    if up == down:
        return np.asarray(x, dtype=np.float64)
    return sps.resample_poly(x, up, down)


def bandpass_taps(band: tuple[float, float]) -> np.ndarray:
    """Order-100 (101-tap) Hamming-window FIR band-pass at 100 Hz."""
    return sps.firwin(FIR_ORDER + 1, band, pass_zero=False, fs=TARGET_RATE)


def bandpass_gain(band: tuple[float, float], freqs: np.ndarray) -> np.ndarray:
    """Amplitude gain of :func:`bandpass` at ``freqs`` (Hz): ``|H(f)|²``, the taps' response applied twice.

    With 101 taps at 100 Hz the transition band is a few Hz wide, so the
    0.3 Hz edge is a gentle shelf rather than a cut (README, sleep section).
    """
    _, response = sps.freqz(bandpass_taps(band), worN=np.asarray(freqs, dtype=np.float64), fs=TARGET_RATE)
    return np.abs(response) ** 2


def bandpass(x: np.ndarray, band: tuple[float, float]) -> np.ndarray:
    """Zero-phase (forward-backward) FIR band-pass of a 100 Hz signal."""
    return sps.filtfilt(bandpass_taps(band), [1.0], x)


def epoch_spectrograms(x: np.ndarray, n_epochs: int) -> np.ndarray:
    """Log-magnitude STFT of each 30-s epoch of a 100 Hz signal: ``[n_epochs, 29, 128]`` float32.

    ``20·log10|X|`` of a 2-s periodic Hamming window, 1-s hop, 256-point FFT;
    the DC bin is dropped. Epochs with an all-zero window give ``-inf``
    (the caller decides what that means).
    """
    samples = EPOCH_SECONDS * TARGET_RATE
    if len(x) < n_epochs * samples:
        raise ValueError(f"signal of {len(x)} samples is shorter than {n_epochs} epochs")
    epochs = x[: n_epochs * samples].reshape(n_epochs, samples)
    frames = sliding_window_view(epochs, WINDOW_SECONDS * TARGET_RATE, axis=1)[:, :: HOP_SECONDS * TARGET_RATE]
    window = sps.get_window("hamming", WINDOW_SECONDS * TARGET_RATE)
    spectrum = np.fft.rfft(frames * window, n=NFFT, axis=-1)[..., 1:]
    with np.errstate(divide="ignore"):
        return (20.0 * np.log10(np.abs(spectrum))).astype(np.float32)


def flat_epochs(x: np.ndarray, rate: float, n_epochs: int) -> np.ndarray:
    """``[n_epochs]`` bool: epochs whose native-rate samples are all equal (a flat or disconnected channel)."""
    samples = int(round(rate * EPOCH_SECONDS))
    return constant_rows(np.asarray(x[: n_epochs * samples]).reshape(n_epochs, samples))


def constant_rows(epochs: np.ndarray) -> np.ndarray:
    """``[n]`` bool: rows of an ``[n, samples]`` array whose samples are all equal (the rule that marks an
    epoch's channel absent, both when nights are prepared and when a condition flattens a channel)."""
    return np.ptp(epochs, axis=1) == 0 if epochs.size else np.zeros(len(epochs), dtype=bool)


def filtered(x: np.ndarray, rate: float, band: tuple[float, float], what: str) -> np.ndarray:
    """Resample one native-rate channel to 100 Hz and band-pass it."""
    return bandpass(resample(x, rate, what), band)


def epoch_signals(x: np.ndarray, n_epochs: int) -> np.ndarray:
    """The first ``n_epochs`` 30-s epochs of a 100 Hz signal: ``[n_epochs, 3000]``."""
    samples = EPOCH_SECONDS * TARGET_RATE
    return np.asarray(x[: n_epochs * samples]).reshape(n_epochs, samples)

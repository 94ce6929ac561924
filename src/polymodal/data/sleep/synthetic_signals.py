"""Stage-dependent synthetic EEG and EOG (the offline test data of the CoRe-Sleep spec).

The signals imitate the textbook polysomnographic picture of each stage
(AASM manual; Rechtschaffen & Kales):

* EEG: 1/f background plus alpha (8–12 Hz) in W, theta (4–7 Hz) in N1 and
  REM, spindles (12–14 Hz bursts) and K-complexes in N2, high-amplitude delta
  (0.5–2 Hz) in N3, sawtooth-wave bursts in REM.
* EOG: horizontal eye movements appear with opposite sign in EOG(L) and
  EOG(R) (so the derivation L − R doubles them): blinks and saccades in W,
  slow rolling movements in N1, rapid eye movements in REM; frontal delta
  leaks more into EOG(L) than EOG(R), a weak N3 cue.

Stages are made partly ambiguous per modality so that fusion has something
to add: N1 and REM share theta EEG (REM differs only by sparse sawtooth
bursts) but differ clearly in the EOG; N2 and N3 differ clearly in the EEG
but only by leakage in the EOG. Every component's amplitude also varies from
epoch to epoch (log-normal), so neighbouring stages overlap.
"""

from __future__ import annotations

import numpy as np
from scipy import signal as sps

EPOCH_SECONDS = 30
EPOCH_GAIN_SPREAD = 0.5
"""σ of the log-normal epoch-to-epoch variation of every component's amplitude."""

# amplitudes (µV) per stage, order W, N1, N2, N3, REM
EEG_BACKGROUND = 8.0
EEG_BANDS = {  # band (Hz) → per-stage amplitude
    (8.0, 12.0): (20.0, 5.0, 2.0, 2.0, 4.0),
    (4.0, 7.0): (4.0, 12.0, 8.0, 6.0, 12.0),
    (0.5, 2.0): (4.0, 6.0, 18.0, 55.0, 6.0),
    (16.0, 25.0): (5.0, 2.0, 1.0, 1.0, 3.0),
}
SPINDLE_RATE = (0.0, 0.005, 0.1, 0.03, 0.0)  # events per second
KCOMPLEX_RATE = (0.0, 0.005, 0.05, 0.02, 0.0)
SAWTOOTH_RATE = (0.0, 0.01, 0.01, 0.0, 0.06)
SACCADE_RATE = (0.25, 0.02, 0.005, 0.0, 0.0)
RAPID_EYE_MOVEMENT_RATE = (0.0, 0.0, 0.0, 0.0, 0.35)
BLINK_RATE = (0.3, 0.03, 0.0, 0.0, 0.01)
ROLLING_AMPLITUDE = (10.0, 45.0, 6.0, 3.0, 8.0)
EOG_DELTA_LEAK = (3.0, 4.0, 10.0, 18.0, 4.0)
EOG_NOISE = 5.0


def epoch_gains(rng: np.random.Generator, stages: np.ndarray, per_stage, samples_per_epoch: int) -> np.ndarray:
    """Per-sample amplitude: the stage's value times a log-normal factor drawn per epoch."""
    values = np.asarray(per_stage, dtype=np.float64)[stages]
    values = values * rng.lognormal(0.0, EPOCH_GAIN_SPREAD, len(stages))
    return np.repeat(values, samples_per_epoch)


def band_noise(rng: np.random.Generator, n: int, rate: float, band: tuple[float, float]) -> np.ndarray:
    """Unit-variance Gaussian noise restricted to ``band`` (Hz) by an FFT mask."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    spectrum[(freqs < band[0]) | (freqs > band[1])] = 0.0
    x = np.fft.irfft(spectrum, n)
    return x / x.std()


def pink_noise(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Unit-variance 1/f noise (power ∝ 1/f above 0.1 Hz, nothing below)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1.0 / rate)
    spectrum *= np.where(freqs >= 0.1, 1.0 / np.sqrt(np.maximum(freqs, 0.1)), 0.0)
    x = np.fft.irfft(spectrum, n)
    return x / x.std()


def event_train(rng: np.random.Generator, stages: np.ndarray, rates, rate: float, kernel: np.ndarray,
                signed: bool = False) -> np.ndarray:
    """Transient waveforms ``kernel`` placed at random times (Poisson, per-stage ``rates`` per second)."""
    samples_per_epoch = int(rate * EPOCH_SECONDS)
    probability = np.repeat(np.asarray(rates, dtype=np.float64)[stages] / rate, samples_per_epoch)
    onsets = (rng.random(probability.size) < probability) * rng.lognormal(0.0, EPOCH_GAIN_SPREAD, probability.size)
    if signed:
        onsets *= rng.choice([-1.0, 1.0], probability.size)
    return sps.oaconvolve(onsets, kernel, mode="full")[: probability.size]


def _spindle(rate: float) -> np.ndarray:
    t = np.arange(int(rate)) / rate
    return 25.0 * np.hanning(t.size) * np.sin(2 * np.pi * 13.0 * t)


def _k_complex(rate: float) -> np.ndarray:
    t = np.arange(int(1.2 * rate)) / rate
    return -80.0 * np.exp(-((t - 0.3) / 0.12) ** 2) + 45.0 * np.exp(-((t - 0.75) / 0.2) ** 2)


def _sawtooth_burst(rate: float) -> np.ndarray:
    t = np.arange(int(2 * rate)) / rate
    return 20.0 * np.hanning(t.size) * sps.sawtooth(2 * np.pi * 2.5 * t, width=0.8)


def _eye_movement(rate: float, rise_seconds: float, amplitude: float) -> np.ndarray:
    """A step of the corneo-retinal potential seen through AC coupling: fast rise, slow decay."""
    t = np.arange(int(3 * rate)) / rate
    return amplitude * (1.0 - np.exp(-t / rise_seconds)) * np.exp(-t / 1.0)


def _blink(rate: float) -> np.ndarray:
    return 100.0 * np.hanning(max(3, int(0.3 * rate)))


def synth_eeg(rng: np.random.Generator, stages: np.ndarray, rate: float) -> np.ndarray:
    """EEG (µV) at ``rate`` Hz for the stage sequence ``stages`` (0..4, one per 30-s epoch)."""
    n = len(stages) * int(rate * EPOCH_SECONDS)
    per_epoch = int(rate * EPOCH_SECONDS)
    x = EEG_BACKGROUND * pink_noise(rng, n, rate)
    for band, amplitude in EEG_BANDS.items():
        x += epoch_gains(rng, stages, amplitude, per_epoch) * band_noise(rng, n, rate, band)
    x += event_train(rng, stages, SPINDLE_RATE, rate, _spindle(rate))
    x += event_train(rng, stages, KCOMPLEX_RATE, rate, _k_complex(rate))
    x += event_train(rng, stages, SAWTOOTH_RATE, rate, _sawtooth_burst(rate))
    return x


def synth_eog(rng: np.random.Generator, stages: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    """EOG(L), EOG(R) (µV) at ``rate`` Hz for ``stages``; the horizontal component has opposite signs."""
    n = len(stages) * int(rate * EPOCH_SECONDS)
    per_epoch = int(rate * EPOCH_SECONDS)
    horizontal = event_train(rng, stages, SACCADE_RATE, rate, _eye_movement(rate, 0.08, 50.0), signed=True)
    horizontal += event_train(rng, stages, RAPID_EYE_MOVEMENT_RATE, rate, _eye_movement(rate, 0.03, 80.0), signed=True)
    horizontal += epoch_gains(rng, stages, ROLLING_AMPLITUDE, per_epoch) * band_noise(rng, n, rate, (0.1, 0.6))
    blinks = event_train(rng, stages, BLINK_RATE, rate, _blink(rate))
    delta = epoch_gains(rng, stages, EOG_DELTA_LEAK, per_epoch) * band_noise(rng, n, rate, (0.5, 2.0))
    left = horizontal + blinks + 0.5 * delta + EOG_NOISE * rng.standard_normal(n)
    right = -horizontal + 0.2 * blinks + 0.1 * delta + EOG_NOISE * rng.standard_normal(n)
    return left, right

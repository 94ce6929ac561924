"""Audio front end: WAV reading, fixed length, log spectrograms, augmentation.

The supervised audio-visual benchmarks of this line of work feed a ResNet-18
a one-channel time-frequency image. OGM-GE (Peng et al., CVPR 2022,
arXiv 2203.15332) and MLB (arXiv 2405.07930) on CREMA-D load 3 s of 22.05 kHz
audio, tile it to length, take ``librosa.stft(n_fft=512, hop_length=353)``
and ``log(|X| + 1e-7)``: a ``1 × 257 × T`` linear-frequency log spectrogram
(:func:`log_spectrogram` with ``hop=353``). :func:`log_mel` gives the mel
alternative with a filterbank written here (HTK mel scale, triangular
filters; Young et al., *The HTK Book*, Sec. 5.4), with no torchaudio.

Everything works on one wave ``[N]`` or a batch ``[B, N]`` at once: the STFT
is ``torch.stft`` (centred frames, zero padding, periodic Hann window — the
librosa defaults), so a batch costs one call. The augmentations (a random
circular time shift, white noise at an SNR) draw from the ``torch.Generator``
given, or torch's global one, so a seed makes runs reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal, TypeVar

import numpy as np
import soundfile
import torch
from scipy import signal as sps
from torch import Tensor

from polymodal.errors import PolymodalError

Array = TypeVar("Array", np.ndarray, Tensor)

LOG_EPSILON = 1e-7
"""Added before the logarithm, as in the OGM-GE / MLB CREMA-D loaders."""
MAX_RESAMPLING_FACTOR = 1000
"""Largest up/down factor accepted for polyphase resampling."""


def read_wav(path: str | Path, sample_rate: int) -> np.ndarray:
    """A sound file as a mono ``float32`` wave in ``[-1, 1]`` at ``sample_rate`` Hz.

    Channels are averaged; a file at another rate is resampled with
    ``scipy.signal.resample_poly`` (the ratio must reduce to factors of at
    most 1000). An unreadable file raises :class:`PolymodalError` naming it.
    """
    try:
        wave, rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as err:
        raise PolymodalError(f"{path}: cannot read audio ({err})") from None
    mono = wave.mean(axis=1)
    if rate == sample_rate:
        return mono
    ratio = Fraction(sample_rate, rate)
    if max(ratio.numerator, ratio.denominator) > MAX_RESAMPLING_FACTOR:
        raise PolymodalError(f"{path}: no polyphase ratio from {rate} Hz to {sample_rate} Hz with factors <= 1000")
    return sps.resample_poly(mono, ratio.numerator, ratio.denominator).astype(np.float32)


def fix_length(wave: Array, length: int, pad: Literal["zeros", "tile"] = "zeros", offset: int = 0) -> Array:
    """Crop or pad the last axis of ``wave`` to ``length`` samples, starting at ``offset``.

    ``pad="zeros"`` appends silence; ``pad="tile"`` repeats the wave from
    its start (the OGM-GE CREMA-D loader's ``np.tile``). Works on numpy
    arrays and tensors of any leading shape and returns the same type.
    """
    size = wave.shape[-1]
    if length < 1 or size < 1:
        raise PolymodalError(f"fix_length needs a non-empty wave and length >= 1, got {size} samples and {length}")
    if pad not in ("zeros", "tile"):
        raise PolymodalError(f"fix_length pad must be 'zeros' or 'tile', got {pad!r}")
    if offset == 0 and size == length:
        return wave
    index = np.arange(offset, offset + length)
    if pad == "tile":
        index %= size
    inside = index < size
    index = np.minimum(index, size - 1)
    if isinstance(wave, Tensor):
        return wave[..., torch.from_numpy(index)] * torch.from_numpy(inside).to(wave.dtype)
    return wave[..., index] * inside.astype(wave.dtype)


def stft_magnitude(wave: Tensor, n_fft: int, hop: int, win_length: int | None = None) -> Tensor:
    """``|STFT|`` of ``[N]`` or ``[B, N]``: ``[..., n_fft // 2 + 1, 1 + N // hop]``.

    Centred frames with zero padding and a periodic Hann window of
    ``win_length`` (default ``n_fft``) samples, as ``librosa.stft``.
    """
    if wave.shape[-1] < 1:
        raise PolymodalError("cannot take the spectrogram of an empty wave")
    win_length = win_length or n_fft
    window = torch.hann_window(win_length, dtype=wave.dtype, device=wave.device)
    # centring by explicit zero padding: torch.stft's own pad_mode="constant" is ~3x slower on CPU
    padded = torch.nn.functional.pad(wave, (n_fft // 2, n_fft // 2))
    spectrum = torch.stft(padded, n_fft, hop_length=hop, win_length=win_length, window=window, center=False,
                          return_complex=True)
    return spectrum.abs()


def log_spectrogram(wave: Tensor, n_fft: int = 512, hop: int | None = None, win_length: int | None = None,
                    power: float = 1.0, eps: float = LOG_EPSILON) -> Tensor:
    """Linear-frequency log spectrogram ``log(|X|^power + eps)``: ``[N] → [1, n_fft//2+1, T]``.

    A batch ``[B, N]`` gives ``[B, 1, F, T]``. ``power=1`` (default) is the
    log magnitude of the OGM-GE / MLB CREMA-D input (with ``hop=353`` at
    22.05 kHz); ``power=2`` the log power. ``hop`` defaults to ``n_fft // 4``;
    ``T = 1 + N // hop``.
    """
    magnitude = stft_magnitude(wave, n_fft, hop or n_fft // 4, win_length)
    return torch.log(magnitude.pow(power) + eps).unsqueeze(-3)


def hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale: ``2595 · log10(1 + f / 700)``."""
    return 2595.0 * np.log10(1.0 + np.asarray(hz, dtype=np.float64) / 700.0)


def mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    return 700.0 * (10.0 ** (np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


def mel_filterbank(n_fft: int, n_mels: int, sample_rate: int, f_min: float = 0.0,
                   f_max: float | None = None) -> Tensor:
    """Triangular filters ``[n_mels, n_fft // 2 + 1]`` evenly spaced on the HTK mel scale.

    Filter ``m`` rises linearly from mel point ``m`` to ``m + 1`` and falls to
    ``m + 2`` (``n_mels + 2`` points between ``f_min`` and ``f_max``, default
    Nyquist); the weights are not area-normalized (peak 1).
    """
    f_max = sample_rate / 2 if f_max is None else f_max
    if not 0 <= f_min < f_max <= sample_rate / 2 or n_mels < 1:
        raise PolymodalError(
            f"mel filterbank needs 0 <= f_min < f_max <= {sample_rate / 2:g} Hz and n_mels >= 1; "
            f"got f_min {f_min}, f_max {f_max}, n_mels {n_mels}"
        )
    bins_hz = np.linspace(0.0, sample_rate / 2, n_fft // 2 + 1)
    points = mel_to_hz(np.linspace(hz_to_mel(f_min), hz_to_mel(f_max), n_mels + 2))
    lower, centre, upper = points[:-2, None], points[1:-1, None], points[2:, None]
    rising = (bins_hz - lower) / (centre - lower)
    falling = (upper - bins_hz) / (upper - centre)
    return torch.from_numpy(np.clip(np.minimum(rising, falling), 0.0, None)).float()


def log_mel(wave: Tensor, sample_rate: int, n_fft: int = 512, hop: int | None = None, n_mels: int = 64,
            f_min: float = 0.0, f_max: float | None = None, eps: float = LOG_EPSILON) -> Tensor:
    """Log mel power spectrogram ``log(M |X|² + eps)``: ``[N] → [1, n_mels, T]`` (``[B, N] → [B, 1, n_mels, T]``)."""
    power = stft_magnitude(wave, n_fft, hop or n_fft // 4).square()
    filters = mel_filterbank(n_fft, n_mels, sample_rate, f_min, f_max).to(power)
    return torch.log(torch.matmul(filters, power) + eps).unsqueeze(-3)


@dataclass(frozen=True)
class FrontEnd:
    """A fixed-length spectrogram recipe: waves ``[B, N] → [B, 1, F, T]``.

    Args:
        sample_rate: rate of the waves (Hz).
        seconds: every wave is cropped or padded to this duration first.
        kind: ``"linear"`` (:func:`log_spectrogram`) or ``"mel"`` (:func:`log_mel`).
        n_fft: FFT size (``F = n_fft // 2 + 1`` linear bins).
        hop: hop in samples (default ``n_fft // 4``).
        n_mels: mel bands (``kind="mel"``).
        pad: ``"zeros"`` or ``"tile"`` (see :func:`fix_length`).
    """

    sample_rate: int
    seconds: float
    kind: Literal["linear", "mel"] = "linear"
    n_fft: int = 512
    hop: int | None = None
    n_mels: int = 64
    pad: Literal["zeros", "tile"] = "zeros"

    def __post_init__(self) -> None:
        if self.kind not in ("linear", "mel"):
            raise PolymodalError(f"audio front end kind must be 'linear' or 'mel', got {self.kind!r}")
        if self.seconds <= 0 or self.n_fft < 2 or (self.hop is not None and self.hop < 1):
            raise PolymodalError(f"audio front end needs seconds > 0, n_fft >= 2, hop >= 1; got {self}")

    @property
    def length(self) -> int:
        """Samples per wave after :func:`fix_length`."""
        return int(round(self.seconds * self.sample_rate))

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(1, F, T)`` of one spectrogram."""
        bins = self.n_mels if self.kind == "mel" else self.n_fft // 2 + 1
        return 1, bins, 1 + self.length // (self.hop or self.n_fft // 4)

    def __call__(self, waves: Tensor) -> Tensor:
        waves = fix_length(waves, self.length, self.pad)
        if self.kind == "mel":
            return log_mel(waves, self.sample_rate, self.n_fft, self.hop, self.n_mels)
        return log_spectrogram(waves, self.n_fft, self.hop)


def time_shift(waves: Tensor, max_shift: int, generator: torch.Generator | None = None) -> Tensor:
    """Circularly shift each row of ``[B, N]`` by its own uniform draw in ``[-max_shift, max_shift]`` samples."""
    size = waves.shape[-1]
    shifts = torch.randint(-max_shift, max_shift + 1, (*waves.shape[:-1], 1), generator=generator)
    index = (torch.arange(size) - shifts) % size
    return torch.gather(waves, -1, index.to(waves.device))


def add_noise(waves: Tensor, snr_db: float | Tensor, generator: torch.Generator | None = None) -> Tensor:
    """Add white Gaussian noise to each row of ``[B, N]`` at ``snr_db`` (a float or ``[B]``).

    The drawn noise is scaled so that, per row, mean signal power / mean
    noise power is exactly ``10^(snr_db / 10)``. A silent row stays silent.
    """
    noise = torch.randn(waves.shape, generator=generator, dtype=waves.dtype).to(waves.device)
    signal_power = waves.square().mean(dim=-1, keepdim=True)
    noise_power = noise.square().mean(dim=-1, keepdim=True)
    snr = torch.as_tensor(snr_db, dtype=waves.dtype, device=waves.device)
    if snr.dim():
        snr = snr.reshape(-1, *([1] * (waves.dim() - 1)))
    scale = torch.sqrt(signal_power / (noise_power * 10.0 ** (snr / 10.0)))
    return waves + scale * noise


def snr_db(clean: Tensor, noisy: Tensor) -> Tensor:
    """Measured SNR (dB) per row: ``10 · log10(P_clean / P_(noisy - clean))``."""
    noise = noisy - clean
    return 10.0 * torch.log10(clean.square().mean(dim=-1) / noise.square().mean(dim=-1))


"""The audio front end against numpy / scipy references and hand-computed values."""

import numpy as np
import pytest
import soundfile
import torch
from scipy import signal as sps

from polymodal.data.audio import (
    FrontEnd,
    add_noise,
    fix_length,
    hz_to_mel,
    log_mel,
    log_spectrogram,
    mel_filterbank,
    mel_to_hz,
    read_wav,
    snr_db,
    time_shift,
)
from polymodal.data.feature_cache import cached_arrays
from polymodal.errors import PolymodalError

RATE = 8000


def sine(freq: float, seconds: float = 0.5, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_read_wav_mono_and_resampled(tmp_path):
    stereo = np.stack([sine(1000), sine(1000)], axis=1)
    soundfile.write(tmp_path / "a.wav", stereo, RATE, subtype="PCM_16")
    same = read_wav(tmp_path / "a.wav", RATE)
    assert same.dtype == np.float32 and same.shape == (4000,)
    np.testing.assert_allclose(same, sine(1000), atol=1e-4)
    up = read_wav(tmp_path / "a.wav", 16000)
    assert up.shape == (8000,)
    np.testing.assert_allclose(up, sps.resample_poly(same, 2, 1), atol=1e-5)


def test_read_wav_bad_file_names_it(tmp_path):
    bad = tmp_path / "broken.wav"
    bad.write_bytes(b"not a wave")
    with pytest.raises(PolymodalError, match="broken.wav"):
        read_wav(bad, RATE)


def test_fix_length_pads_crops_tiles_numpy_and_torch():
    x = np.arange(1, 5, dtype=np.float32)
    np.testing.assert_array_equal(fix_length(x, 6), [1, 2, 3, 4, 0, 0])
    np.testing.assert_array_equal(fix_length(x, 3), [1, 2, 3])
    np.testing.assert_array_equal(fix_length(x, 10, pad="tile"), [1, 2, 3, 4, 1, 2, 3, 4, 1, 2])
    np.testing.assert_array_equal(fix_length(x, 3, offset=2), [3, 4, 0])
    batch = torch.arange(1.0, 9.0).reshape(2, 4)
    out = fix_length(batch, 5)
    assert isinstance(out, torch.Tensor) and out.shape == (2, 5)
    assert out[:, -1].eq(0).all() and torch.equal(out[:, :4], batch)


def test_log_spectrogram_shape_and_sine_peak_bin():
    wave = torch.from_numpy(sine(1000))
    spec = log_spectrogram(wave, n_fft=512, hop=128)
    assert spec.shape == (1, 257, 1 + 4000 // 128)
    # 1000 Hz at 8 kHz with 512 points: bin 1000 / (8000 / 512) = 64
    assert spec[0, :, 5:-5].argmax(dim=0).eq(64).all()


def test_log_spectrogram_matches_numpy_stft():
    rng = np.random.default_rng(0)
    x = rng.standard_normal(2048).astype(np.float64)
    spec = log_spectrogram(torch.from_numpy(x), n_fft=256, hop=64, power=2.0)
    padded = np.pad(x, 128)
    frames = np.lib.stride_tricks.sliding_window_view(padded, 256)[::64]
    window = sps.get_window("hann", 256)  # periodic, as librosa / torch
    expected = np.log(np.abs(np.fft.rfft(frames * window, axis=-1)) ** 2 + 1e-7).T
    np.testing.assert_allclose(spec[0].numpy(), expected, rtol=1e-6, atol=1e-6)


def test_batched_spectrogram_equals_one_by_one():
    waves = torch.randn(3, 1000)
    batch = log_spectrogram(waves)
    assert batch.shape == (3, 1, 257, 1 + 1000 // 128)
    torch.testing.assert_close(batch[1], log_spectrogram(waves[1]))


def test_mel_scale_and_filterbank():
    assert hz_to_mel(700.0) == pytest.approx(2595 * np.log10(2))
    np.testing.assert_allclose(mel_to_hz(hz_to_mel([0.0, 440.0, 3999.0])), [0.0, 440.0, 3999.0])
    filters = mel_filterbank(512, 20, RATE)
    assert filters.shape == (20, 257)
    assert filters.min() >= 0 and filters.max() <= 1
    peaks = filters.argmax(dim=1)
    assert (peaks[1:] >= peaks[:-1]).all()  # centres ascend
    with pytest.raises(PolymodalError, match="f_max"):
        mel_filterbank(512, 20, RATE, f_max=5000)


def test_log_mel_sine_lands_in_filter_at_its_frequency():
    mel = log_mel(torch.from_numpy(sine(1000)), RATE, n_fft=512, hop=128, n_mels=32)
    assert mel.shape == (1, 32, 1 + 4000 // 128)
    strongest = mel[0, :, 10].argmax()
    assert mel_filterbank(512, 32, RATE)[strongest, 64] > 0  # the 1 kHz bin is inside that filter


def test_front_end_shape_and_kinds():
    linear = FrontEnd(sample_rate=RATE, seconds=0.25, n_fft=128, hop=64)
    waves = torch.randn(2, 1500)
    assert linear(waves).shape == (2, *linear.shape) == (2, 1, 65, 1 + 2000 // 64)
    mel = FrontEnd(sample_rate=RATE, seconds=0.25, kind="mel", n_fft=128, hop=64, n_mels=16)
    assert mel(waves).shape == (2, *mel.shape)
    with pytest.raises(PolymodalError, match="kind"):
        FrontEnd(sample_rate=RATE, seconds=1, kind="cqt")


def test_add_noise_reaches_the_snr():
    waves = torch.from_numpy(np.stack([sine(440), sine(1000) * 0.1])).double()
    generator = torch.Generator().manual_seed(0)
    noisy = add_noise(waves, torch.tensor([10.0, -5.0]), generator)
    torch.testing.assert_close(snr_db(waves, noisy), torch.tensor([10.0, -5.0], dtype=torch.float64))
    again = add_noise(waves, 0.0, torch.Generator().manual_seed(0))
    torch.testing.assert_close(snr_db(waves, again), torch.zeros(2, dtype=torch.float64))


def test_time_shift_is_a_per_row_roll():
    waves = torch.arange(20.0).reshape(2, 10)
    shifted = time_shift(waves, 3, torch.Generator().manual_seed(1))
    for row, out in zip(waves, shifted, strict=True):
        assert any(torch.equal(torch.roll(row, s), out) for s in range(-3, 4))


def test_cached_arrays_computes_once_and_recomputes_on_new_recipe(tmp_path):
    calls = []

    def compute():
        calls.append(1)
        return {"x": np.arange(3.0)}

    path = tmp_path / "cache" / "f.npz"
    first = cached_arrays(path, "recipe-a", compute)
    second = cached_arrays(path, "recipe-a", compute)
    np.testing.assert_array_equal(first["x"], second["x"])
    assert len(calls) == 1 and set(second) == {"x"}
    cached_arrays(path, "recipe-b", compute)
    assert len(calls) == 2

"""Corruptions of one modality's signal and the parsing of condition names."""

import numpy as np
import pytest

from polymodal.data.sleep.corruptions import (
    BLOCK_EPOCHS,
    AmplitudeBlowup,
    DroppedSegments,
    FlatLine,
    GaussianNoise,
    corruption,
    parse_condition,
    parse_conditions,
)
from polymodal.data.sleep.signal import EEG_BAND, constant_rows
from polymodal.errors import PolymodalError


def night_signal(n_epochs: int = 6) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(n_epochs * 3000) / 100
    return (20 * np.sin(2 * np.pi * 10 * t) + rng.normal(0, 5, t.size)).reshape(n_epochs, 3000).astype(np.float32)


@pytest.mark.parametrize("snr_db", [10.0, 0.0, -5.0])
def test_gaussian_noise_has_the_requested_snr(snr_db):
    signal = night_signal()
    noisy = GaussianNoise(snr_db)(signal, np.ones(6, bool), EEG_BAND, np.random.default_rng(1))
    noise = noisy.astype(np.float64) - signal
    measured = 10 * np.log10(np.mean(signal.astype(np.float64) ** 2) / np.mean(noise**2))
    assert measured == pytest.approx(snr_db, abs=0.01)


def test_gaussian_noise_is_limited_to_the_band_and_measured_on_present_epochs():
    signal = night_signal()
    signal[:2] = 0.0  # two absent (flat) epochs do not lower the signal power
    present = np.array([False, False, True, True, True, True])
    noisy = GaussianNoise(0.0)(signal, present, EEG_BAND, np.random.default_rng(1))
    noise = (noisy.astype(np.float64) - signal)[present]
    assert np.mean(noise**2) == pytest.approx(np.mean(signal[present].astype(np.float64) ** 2), rel=1e-3)
    spectrum = np.abs(np.fft.rfft(noise.reshape(-1))) ** 2
    freqs = np.fft.rfftfreq(noise.size, 1 / 100)
    assert spectrum[freqs > 45].sum() < 0.01 * spectrum[(freqs > 1) & (freqs < 35)].sum()


def test_noise_depends_on_the_generator_only():
    signal = night_signal()
    draw = lambda seed: GaussianNoise(0.0)(signal, np.ones(6, bool), EEG_BAND, np.random.default_rng(seed))  # noqa: E731
    assert np.array_equal(draw(3), draw(3))
    assert not np.allclose(draw(3), draw(4))


def test_flat_line_is_flat_and_detected_absent():
    flat = FlatLine()(night_signal(), np.ones(6, bool), EEG_BAND, np.random.default_rng(0))
    assert np.ptp(flat) == 0
    assert constant_rows(flat).all()
    assert not constant_rows(night_signal()).any()


def test_blowup_scales_the_amplitude():
    signal = night_signal()
    np.testing.assert_allclose(corruption("blowup")(signal, np.ones(6, bool), EEG_BAND, None), 10 * signal)
    np.testing.assert_allclose(AmplitudeBlowup(2.5)(signal, np.ones(6, bool), EEG_BAND, None), 2.5 * signal, rtol=1e-6)


def test_dropped_segments_zero_whole_blocks():
    signal = night_signal(4 * BLOCK_EPOCHS)
    out = DroppedSegments(0.5)(signal, np.ones(len(signal), bool), EEG_BAND, np.random.default_rng(0))
    dropped = constant_rows(out)
    assert dropped.sum() == 2 * BLOCK_EPOCHS
    assert (dropped.reshape(4, BLOCK_EPOCHS).all(axis=1) | ~dropped.reshape(4, BLOCK_EPOCHS).any(axis=1)).all()
    np.testing.assert_array_equal(out[~dropped], signal[~dropped])
    assert (out[dropped] == 0).all()


def test_names_parse_to_parameters():
    assert corruption("gauss_snr-5").snr_db == -5.0
    assert corruption("gauss_snr2.5").snr_db == 2.5
    assert corruption("blowup_x3").factor == 3.0
    assert corruption("dropseg").fraction == pytest.approx(0.3)
    assert corruption("dropseg_p50").fraction == pytest.approx(0.5)
    assert isinstance(corruption("flat"), FlatLine)


@pytest.mark.parametrize("name, message", [
    ("hiss", "choose one of: blowup, dropseg, flat, gauss"),
    ("gauss", "gauss_snr<dB>"),
    ("gauss_10", "gauss_snr<dB>"),
    ("flat_x2", "takes no parameter"),
    ("dropseg_p150", "[0, 100]"),
])
def test_bad_corruption_names_raise(name, message):
    with pytest.raises(PolymodalError, match=message.replace("[", r"\[")):
        corruption(name)


def test_conditions():
    only = parse_condition("eeg_only", ("eeg", "eog"))
    assert only.removed == ("eog",) and not only.corrupted
    noisy = parse_condition("eog_gauss_snr0", ("eeg", "eog"))
    assert noisy.removed == () and noisy.corrupted["eog"].snr_db == 0.0
    assert parse_condition("eeg_dropseg", ("eeg", "eog")).erased == {"eeg"}
    assert parse_condition("eeg_gauss_snr0", ("eeg", "eog")).erased == set()
    assert [c.name for c in parse_conditions("both, eeg_only", ("eeg", "eog"))] == ["both", "eeg_only"]
    with pytest.raises(PolymodalError, match="unknown condition 'emg_only'"):
        parse_condition("emg_only", ("eeg", "eog"))
    with pytest.raises(PolymodalError, match="given twice"):
        parse_conditions("both,both", ("eeg", "eog"))


def test_snr_range_draws_each_level_uniformly_within_it():
    noise = corruption("gauss_snr-10to10")
    assert (noise.snr_db, noise.snr_high_db) == (-10.0, 10.0)
    signal = night_signal()
    rng = np.random.default_rng(0)
    levels = []
    for _ in range(20):
        added = noise(signal, np.ones(6, bool), EEG_BAND, rng).astype(np.float64) - signal
        levels.append(10 * np.log10(np.mean(signal.astype(np.float64) ** 2) / np.mean(added**2)))
    assert -10 <= min(levels) and max(levels) <= 10 and np.ptp(levels) > 5
    assert corruption("gauss_snr0").snr_high_db is None


def test_conditions_over_modality_names_with_underscores():
    modalities = ("eeg", "eeg_c4", "emg")
    assert parse_condition("eeg_c4_only", modalities).removed == ("eeg", "emg")
    assert parse_condition("eeg_only", modalities).removed == ("eeg_c4", "emg")
    noisy = parse_condition("eeg_c4_gauss_snr0", modalities)
    assert list(noisy.corrupted) == ["eeg_c4"] and noisy.corrupted["eeg_c4"].snr_db == 0.0
    with pytest.raises(PolymodalError, match="unknown condition 'eog_only'; use one of: both, eeg_only, eeg_c4_only"):
        parse_condition("eog_only", modalities)

import numpy as np
import pytest
from scipy import signal as sps

from polymodal.data.sleep.signal import (
    EEG_BAND, EOG_BAND, bandpass, bandpass_gain, check_rate, epoch_spectrograms, flat_epochs, resample, resampling_factors,
)
from polymodal.errors import PolymodalError


def test_epoch_spectrograms_match_scipy_stft_per_epoch():
    x = np.random.default_rng(0).normal(size=3 * 3000)
    ours = epoch_spectrograms(x, 3)
    assert ours.shape == (3, 29, 128) and ours.dtype == np.float32
    window = sps.get_window("hamming", 200)
    for e in range(3):
        _, _, z = sps.stft(x[e * 3000:(e + 1) * 3000], window=window, nperseg=200, noverlap=100, nfft=256,
                           boundary=None, padded=False)
        expected = 20 * np.log10(np.abs(z * window.sum()))[1:].T  # frames × bins, DC dropped
        np.testing.assert_allclose(ours[e], expected, atol=1e-3)


def test_sinusoid_peaks_in_its_bin():
    t = np.arange(3000) / 100
    spec = epoch_spectrograms(np.sin(2 * np.pi * 10.0 * t), 1)
    # bin k (after dropping DC) is at (k + 1) * 100 / 256 Hz; 10 Hz → k = 24.6 → 25 (nearest: 25.6 - 1)
    assert int(np.argmax(spec[0].mean(axis=0))) == 25


def test_bandpass_is_order_100_zero_phase_firwin():
    x = np.random.default_rng(1).normal(size=5000)
    taps = sps.firwin(101, EEG_BAND, pass_zero=False, fs=100)
    np.testing.assert_allclose(bandpass(x, EEG_BAND), sps.filtfilt(taps, [1.0], x))
    t = np.arange(5000) / 100
    assert np.std(bandpass(np.sin(2 * np.pi * 45 * t), EEG_BAND)[500:-500]) < 0.05  # above 40 Hz: removed
    assert np.std(bandpass(np.sin(2 * np.pi * 10 * t), EEG_BAND)[500:-500]) > 0.65  # in band: kept (0.707)


def test_low_frequency_response_of_the_bandpass_as_documented():
    """The README's numbers: the order-100 FIR keeps about half the amplitude below its 0.3 Hz edge."""
    np.testing.assert_allclose(bandpass_gain(EEG_BAND, [0.1, 0.5, 1.0]), [0.471, 0.548, 0.742], atol=6e-4)
    np.testing.assert_allclose(bandpass_gain(EOG_BAND, [0.1, 0.5, 1.0]), [0.470, 0.546, 0.738], atol=6e-4)
    t = np.arange(60_000) / 100
    for hz in (0.5, 1.0):  # measured on a sinusoid away from the edges
        out = bandpass(np.sin(2 * np.pi * hz * t), EEG_BAND)[10_000:-10_000]
        assert abs(np.sqrt(2) * np.std(out) - bandpass_gain(EEG_BAND, [hz])[0]) < 2e-3


def test_resampling_factors_and_lengths():
    assert resampling_factors(125, "x") == (4, 5)
    assert resampling_factors(50, "x") == (2, 1)
    assert resampling_factors(256, "x") == (25, 64)
    assert resample(np.zeros(1250), 125).shape == (1000,)
    assert resample(np.zeros(500), 50).shape == (1000,)


@pytest.mark.parametrize("rate, message", [(64.0, "too slow"), (127.3, "no polyphase ratio"), (100.0 + 1e-4, "whole number")])
def test_unusable_rates_are_rejected(rate, message):
    with pytest.raises(PolymodalError, match=message):
        check_rate(rate, EEG_BAND, "night.edf channel 'EEG'")


def test_flat_epochs_found_on_native_samples():
    x = np.random.default_rng(2).normal(size=3 * 50 * 30)
    x[50 * 30:2 * 50 * 30] = 7.0
    assert flat_epochs(x, 50, 3).tolist() == [False, True, False]

"""Channel units are converted to µV from the EDF physical dimension."""

import edfio
import numpy as np
import pytest

from polymodal.data.sleep.recording import ChannelSpec, microvolts_per_unit, read_recording
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights
from polymodal.errors import PolymodalError

SHHS = ChannelSpec("EEG", "EOG(L)", "EOG(R)")


def test_millivolt_and_volt_nights_give_the_same_microvolt_signal(tmp_path):
    for unit in ("uV", "mV", "V"):
        write_synthetic_nights(tmp_path / unit, 1, "nsrr", seed=7, minutes=15, unit=unit)
    reference = read_recording(tmp_path / "uV" / "synth-0000.edf", SHHS)
    assert 20 < np.std(reference.eeg) < 200  # µV scale
    for unit in ("mV", "V"):
        assert edfio.read_edf(tmp_path / unit / "synth-0000.edf").signals[0].physical_dimension == unit
        other = read_recording(tmp_path / unit / "synth-0000.edf", SHHS)
        for mine, theirs in ((other.eeg, reference.eeg), (other.eog, reference.eog)):
            step = np.ptp(theirs) / 65535  # one step of the 16-bit digitization
            np.testing.assert_allclose(mine, theirs, rtol=0, atol=1.01 * step)


@pytest.mark.parametrize("unit, scale", [("uV", 1.0), (" uV ", 1.0), ("\u00b5V", 1.0), ("\u03bcV", 1.0),
                                         ("\ufffdV", 1.0), ("\ufffd\ufffdV", 1.0), ("mV", 1e3), ("V", 1e6)])
def test_unit_spellings(unit, scale):
    assert microvolts_per_unit(unit, "x") == scale


@pytest.mark.parametrize("unit", ["", "degC", "uuV", "nV", "MV"])
def test_unknown_units_are_errors(unit):
    with pytest.raises(PolymodalError, match=f"night.edf channel 'EEG': unknown physical dimension {unit!r}"):
        microvolts_per_unit(unit, "night.edf channel 'EEG'")

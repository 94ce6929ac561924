import xml.etree.ElementTree as ET

import edfio
import numpy as np
import pytest

from polymodal.data.sleep.synthetic_psg import markov_hypnogram, write_synthetic_nights
from polymodal.errors import PolymodalError


def test_nsrr_files_look_like_shhs(nsrr_source):
    edf = edfio.read_edf(nsrr_source / "synth-0000.edf")
    rates = {s.label: s.sampling_frequency for s in edf.signals}
    assert rates == {"EEG": 125, "EOG(L)": 50, "EOG(R)": 50, "SaO2": 1}
    assert edf.duration == 40 * 60 + 17
    root = ET.parse(nsrr_source / "synth-0000-nsrr.xml").getroot()
    stages = [e for e in root.iter("ScoredEvent") if e.findtext("EventType") == "Stages|Stages"]
    assert sum(float(e.findtext("Duration")) for e in stages) == 40 * 60
    concepts = {e.findtext("EventConcept") for e in stages}
    assert {"Wake|0", "Stage 1 sleep|1", "Stage 2 sleep|2", "REM sleep|5"} <= concepts
    assert concepts & {"Stage 3 sleep|3", "Stage 4 sleep|4"}


def test_generation_is_seeded(tmp_path):
    a = write_synthetic_nights(tmp_path / "a", 1, "nsrr", seed=5, minutes=15)[0]
    b = write_synthetic_nights(tmp_path / "b", 1, "nsrr", seed=5, minutes=15)[0]
    c = write_synthetic_nights(tmp_path / "c", 1, "nsrr", seed=6, minutes=15)[0]
    assert a.read_bytes() == b.read_bytes() and a.read_bytes() != c.read_bytes()


def test_hypnogram_has_all_stages_and_edge_wake():
    stages = markov_hypnogram(np.random.default_rng(0), 120)
    assert set(stages.tolist()) == {0, 1, 2, 3, 4}
    assert stages[0] == 0 and stages[-1] == 0
    with pytest.raises(PolymodalError, match="at least 20 epochs"):
        markov_hypnogram(np.random.default_rng(0), 10)


def test_stage_rhythms_show_in_the_spectra(nsrr_cache):
    """EEG delta is highest in N3 and alpha in W; EOG slow power is highest in N1 (rolling movements)."""
    from polymodal.data.sleep.cache import open_night, prepared_nights

    nights = [open_night(nsrr_cache / f"{n}.npz") for n in prepared_nights(nsrr_cache)]
    y = np.concatenate([n["y"] for n in nights])
    hz = (np.arange(128) + 1) * 100 / 256

    def band_power(modality, low, high):
        x = np.concatenate([np.asarray(n[modality]) for n in nights])[..., (hz >= low) & (hz <= high)].mean(axis=(1, 2))
        return np.array([x[y == s].mean() for s in range(5)])

    assert np.argmax(band_power("eeg", 0.5, 2.0)) == 3
    assert np.argmax(band_power("eeg", 8.0, 12.0)) == 0
    assert np.argmax(band_power("eog", 0.3, 0.6)) == 1

"""Bad recordings are reported by file name and reason; the other nights are prepared; no partial files."""

import datetime
import xml.etree.ElementTree as ET

import edfio
import numpy as np
import pytest

from polymodal.data.sleep.cache import open_night, prepared_nights
from polymodal.data.sleep.cli import sleep_main
from polymodal.data.sleep.prepare import prepare_cache
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights
from polymodal.errors import PolymodalError


def _rewrite_signals(path, change):
    edf = edfio.read_edf(path)
    signals = change({s.label: s for s in edf.signals})
    edfio.Edf(list(signals.values()), data_record_duration=1.0, recording=edf.recording, starttime=edf.starttime).write(path)


def _uv(data, rate, label):
    return edfio.EdfSignal(data, rate, label=label, physical_dimension="uV")


def _reason(report, night):
    (result,) = [r for r in report.results if r.night_id == night]
    assert result.status == "skipped"
    return result.reason


def _assert_only_good_nights(cache, bad):
    assert prepared_nights(cache) == [n for n in ["synth-0000", "synth-0001", "synth-0002", "synth-0003"] if n not in bad]
    assert sorted(p.name for p in cache.iterdir() if p.name.startswith(".")) == []


def test_truncated_edf(source, tmp_path):
    data = (source / "synth-0001.edf").read_bytes()
    (source / "synth-0001.edf").write_bytes(data[: len(data) // 2 + 7])
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0001").startswith("synth-0001.edf: corrupt EDF (")
    _assert_only_good_nights(tmp_path / "cache", {"synth-0001"})


def test_garbage_edf_header(source, tmp_path):
    (source / "synth-0002.edf").write_bytes(b"not an edf" * 40)
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0002").startswith("synth-0002.edf: corrupt EDF")
    _assert_only_good_nights(tmp_path / "cache", {"synth-0002"})


def test_xml_running_past_the_recording_is_cut_and_noted(source, tmp_path):
    path = source / "synth-0000-nsrr.xml"
    tree = ET.parse(path)
    events = tree.getroot().find("ScoredEvents")
    last = [e for e in events if e.findtext("EventType") == "Stages|Stages"][-1]
    extra = ET.fromstring(ET.tostring(last))
    extra.find("Start").text = str(float(last.findtext("Start")) + float(last.findtext("Duration")))
    extra.find("Duration").text = "90.0"
    extra.find("EventConcept").text = "Stage 2 sleep|2"
    events.append(extra)
    tree.write(path)
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    (result,) = [r for r in report.results if r.night_id == "synth-0000"]
    assert result.status == "prepared" and result.counts["scored_past_end"] == 3
    assert result.notes == [
        "synth-0000-nsrr.xml: 3 scored epochs past the last complete 30-s epoch of synth-0000.edf (80 epochs) cut off"
    ]
    _assert_only_good_nights(tmp_path / "cache", set())


def test_missing_channel(source, tmp_path):
    _rewrite_signals(source / "synth-0003.edf", lambda s: {k: v for k, v in s.items() if k != "EOG(R)"})
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0003") == (
        "synth-0003.edf: no channel 'EOG(R)' (channels: 'EEG', 'EOG(L)', 'SaO2')"
    )
    _assert_only_good_nights(tmp_path / "cache", {"synth-0003"})


def test_mismatched_sampling_rates(source, tmp_path):
    def halve_right(signals):
        right = signals["EOG(R)"]
        signals["EOG(R)"] = _uv(right.data[::2], 25, "EOG(R)")
        return signals

    def slow_eeg(signals):
        signals["EEG"] = _uv(signals["EEG"].data[::5], 25, "EEG")
        return signals

    _rewrite_signals(source / "synth-0000.edf", halve_right)
    _rewrite_signals(source / "synth-0001.edf", slow_eeg)
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0000") == (
        "synth-0000.edf: EOG channels sampled at different rates ('EOG(L)' 50 Hz, 'EOG(R)' 25 Hz)"
    )
    assert _reason(report, "synth-0001").startswith("synth-0001.edf channel 'EEG': sampled at 25 Hz, too slow")
    _assert_only_good_nights(tmp_path / "cache", {"synth-0000", "synth-0001"})


def test_empty_nights(source, tmp_path):
    path = source / "synth-0002-nsrr.xml"
    tree = ET.parse(path)
    events = tree.getroot().find("ScoredEvents")
    for event in [e for e in events if e.findtext("EventType") == "Stages|Stages"]:
        events.remove(event)
    tree.write(path)
    header = bytearray((source / "synth-0003.edf").read_bytes()[:256 * 5])  # header of 4 signals, no data
    header[236:244] = b"0       "
    (source / "synth-0003.edf").write_bytes(bytes(header))
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0002") == "synth-0002-nsrr.xml: empty night (no scored sleep-stage epoch)"
    assert _reason(report, "synth-0003").startswith("synth-0003.edf:")
    _assert_only_good_nights(tmp_path / "cache", {"synth-0002", "synth-0003"})


def test_missing_partner_file_and_flat_channel(source, tmp_path):
    (source / "synth-0001-nsrr.xml").unlink()

    def flat_eog_left(signals):
        left = signals["EOG(L)"].data.copy()
        left[50 * 30 * 10:50 * 30 * 40] = 0.0  # epochs 10..39 flat in EOG(L) only: L - R is not flat
        signals["EOG(L)"] = _uv(left, 50, "EOG(L)")
        eeg = signals["EEG"].data.copy()
        eeg[125 * 30 * 10:125 * 30 * 40] = 3.0  # EEG flat on epochs 10..39
        signals["EEG"] = _uv(eeg, 125, "EEG")
        return signals

    _rewrite_signals(source / "synth-0002.edf", flat_eog_left)
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0001") == "no scoring file for night 'synth-0001'"
    arrays = open_night(tmp_path / "cache" / "synth-0002.npz")
    flat = (arrays["epoch"] >= 10) & (arrays["epoch"] < 40)
    assert flat.any()
    assert not arrays["present_eeg"][flat].any() and arrays["present_eeg"][~flat].all()
    assert arrays["present_eog"].all()
    assert np.all(arrays["eeg"][flat] == 0)


def test_cli_reports_skipped_nights_and_settings_change_is_an_error(source, tmp_path, capsys):
    (source / "synth-0002.edf").write_bytes(b"garbage" * 50)
    assert sleep_main(["prepare", str(source), "--layout", "nsrr", "--out", str(tmp_path / "c")]) == 0
    out = capsys.readouterr().out
    assert "synth-0002" in out and "corrupt EDF" in out and "skipped 1 nights" in out
    with pytest.raises(PolymodalError, match="prepared with other settings"):
        sleep_main(["prepare", str(source), "--layout", "nsrr", "--out", str(tmp_path / "c"), "--eeg", "EEG(sec)"])


def test_unknown_unit_skips_the_night_naming_file_and_channel(source, tmp_path):
    def degrees(signals):
        signals["EOG(L)"] = edfio.EdfSignal(signals["EOG(L)"].data, 50, label="EOG(L)", physical_dimension="degC")
        return signals

    _rewrite_signals(source / "synth-0001.edf", degrees)
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0001") == (
        "synth-0001.edf channel 'EOG(L)': unknown physical dimension 'degC' (expected uV, mV or V)")
    _assert_only_good_nights(tmp_path / "cache", {"synth-0001"})


def test_nsrr_start_mismatch_is_an_error_naming_both_files(source, tmp_path):
    path = source / "synth-0002-nsrr.xml"
    tree = ET.parse(path)
    next(e for e in tree.getroot().iter("ClockTime")).text = "00.00.00 23.00.00"
    tree.write(path)
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    assert _reason(report, "synth-0002") == (
        "synth-0002.edf starts at 1989-04-24 22:00:00 but synth-0002-nsrr.xml starts at 23:00:00")
    _assert_only_good_nights(tmp_path / "cache", {"synth-0002"})


def test_sleep_edf_start_mismatch_is_an_error_naming_both_files(tmp_path):
    write_synthetic_nights(tmp_path, 2, "sleep-edf", seed=1, minutes=15)
    path = tmp_path / "SY4002EC-Hypnogram.edf"
    hypnogram = edfio.read_edf(path)
    moved = datetime.date(1989, 4, 25)
    edfio.Edf([], recording=edfio.Recording(startdate=moved), starttime=hypnogram.starttime,
              annotations=hypnogram.annotations).write(path)
    report = prepare_cache(tmp_path, "sleep-edf", tmp_path / "cache", progress=False)
    assert _reason(report, "SY4002E0") == (
        "SY4002E0-PSG.edf starts at 1989-04-24 22:00:00 but SY4002EC-Hypnogram.edf starts at 1989-04-25 22:00:00")
    assert [r.night_id for r in report.with_status("prepared")] == ["SY4001E0"]

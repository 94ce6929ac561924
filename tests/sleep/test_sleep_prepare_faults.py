"""Faults met while preparing: malformed scoring values skip one night, concurrent runs, damaged cached nights."""

import os
import shutil
import time
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from polymodal.cli import main
from polymodal.data.sleep.cache import PARTIAL_MARK, STALE_PARTIAL_SECONDS, open_night, prepared_nights
from polymodal.data.sleep.prepare import prepare_cache

NIGHTS = ["synth-0000", "synth-0001", "synth-0002", "synth-0003"]


def _edit_xml(path, change):
    tree = ET.parse(path)
    change(tree.getroot())
    tree.write(path)


def _first_stage(root):
    return next(e for e in root.iter("ScoredEvent") if e.findtext("EventType") == "Stages|Stages")


def _set_stage(tag, text):
    def change(root):
        _first_stage(root).find(tag).text = text
    return change


def _set_epoch_length(text):
    def change(root):
        root.find("EpochLength").text = text
    return change


@pytest.mark.parametrize(("change", "reason"), [
    (_set_stage("Start", "nan"), "synth-0001-nsrr.xml: stage event 'Wake|0': invalid Start 'nan'"),
    (_set_stage("Start", "inf"), "synth-0001-nsrr.xml: stage event 'Wake|0': invalid Start 'inf'"),
    (_set_stage("Duration", "-30"), "synth-0001-nsrr.xml: stage event 'Wake|0': invalid Duration '-30'"),
    (_set_stage("Start", "-30.0"), "synth-0001-nsrr.xml: stage event 'Wake|0': invalid Start '-30.0'"),
    (_set_stage("Duration", "thirty"), "synth-0001-nsrr.xml: stage event 'Wake|0': invalid Duration 'thirty'"),
    (_set_epoch_length("thirty"), "synth-0001-nsrr.xml: invalid EpochLength 'thirty'"),
    (_set_epoch_length("nan"), "synth-0001-nsrr.xml: invalid EpochLength 'nan'"),
])
def test_malformed_scoring_value_skips_that_night_only(source, tmp_path, capsys, change, reason):
    _edit_xml(source / "synth-0001-nsrr.xml", change)
    assert main(["sleep", "prepare", str(source), "--layout", "nsrr", "--out", str(tmp_path / "cache")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "1 skipped nights" in out and "synth-0001" in out and "prepared 3," in out
    assert prepared_nights(tmp_path / "cache") == [n for n in NIGHTS if n != "synth-0001"]
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    (skipped,) = report.with_status("skipped")
    assert skipped.night_id == "synth-0001" and skipped.reason.startswith(reason)
    assert skipped.file == "synth-0001.edf, synth-0001-nsrr.xml"


def test_scored_event_far_past_the_end_is_cut_without_allocating_it(source, tmp_path):
    def far(root):
        event = ET.fromstring(ET.tostring(_first_stage(root)))
        event.find("Start").text = "3e12"
        event.find("Duration").text = "60"
        root.find("ScoredEvents").append(event)
    _edit_xml(source / "synth-0002-nsrr.xml", far)
    report = prepare_cache(source, "nsrr", tmp_path / "cache", progress=False)
    (result,) = [r for r in report.results if r.night_id == "synth-0002"]
    assert result.status == "prepared" and result.counts["scored_past_end"] == 2


def test_only_stale_temporary_files_are_removed(source, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    in_progress = cache / f".synth-0000{PARTIAL_MARK}4242.npz"
    left_over = cache / f".synth-0001{PARTIAL_MARK}4343.npz"
    for path in (in_progress, left_over):
        path.write_bytes(b"partial")
    old = time.time() - STALE_PARTIAL_SECONDS - 60
    os.utime(left_over, (old, old))
    prepare_cache(source, "nsrr", cache, progress=False)
    assert in_progress.exists() and not left_over.exists()
    assert prepared_nights(cache) == NIGHTS


@pytest.mark.parametrize("keep", [0.5, 0.999])
def test_truncated_cached_night_is_prepared_again(nsrr_source, nsrr_cache, tmp_path, keep):
    cache = tmp_path / "cache"
    shutil.copytree(nsrr_cache, cache)
    path = cache / "synth-0001.npz"
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])
    report = prepare_cache(nsrr_source, "nsrr", cache, progress=False)
    assert [r.night_id for r in report.with_status("prepared")] == ["synth-0001"]
    assert report.with_status("prepared")[0].notes[0] == (
        "prepared again: the cached synth-0001.npz was damaged (truncated or unreadable)")
    assert len(report.with_status("cached")) == 3
    assert path.read_bytes() == data
    assert np.array_equal(open_night(path)["eeg"], open_night(nsrr_cache / "synth-0001.npz")["eeg"])


def test_out_that_is_a_file_is_one_line(source, tmp_path, capsys):
    out = tmp_path / "taken.txt"
    out.write_text("mine")
    assert main(["sleep", "prepare", str(source), "--layout", "nsrr", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"polymodal: error: --out {out}: is a file, not a folder\n"
    assert out.read_text() == "mine"


def test_a_prepare_where_every_night_is_skipped_is_one_error_line(tmp_path, capsys):
    source = tmp_path / "src"
    source.mkdir()
    (source / "synth-0000.edf").write_bytes(b"garbage" * 50)
    (source / "synth-0000-nsrr.xml").write_text("<PSGAnnotation></PSGAnnotation>")
    assert main(["sleep", "prepare", str(source), "--layout", "nsrr", "--out", str(tmp_path / "cache")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"polymodal: error: no night of {source} could be prepared; the reasons are in")

"""``polymodal data prepare`` on releases in their published layouts: reports, splits, resume."""

import json
import os
import time

import numpy as np
import pytest

from polymodal.cli import main
from polymodal.data.benchmarks.prepare import prepare_release
from polymodal.data.sleep.cache import STALE_PARTIAL_SECONDS
from polymodal.errors import PolymodalError


def skipped(out):
    return {r["name"]: r["reason"] for r in json.loads((out / "report.json").read_text())["skipped"]}


def test_cremad_clips_report_and_official_split(prepared):
    out = prepared("cremad")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["classes"] == ["NEU", "HAP", "SAD", "FEA", "DIS", "ANG"] and len(manifest["clips"]) == 12
    assert manifest["clips"]["1001_DFA_NEU_XX"] == {"label": 0, "group": "1001", "audio": True}
    assert {k: len(v) for k, v in manifest["splits"]["official"].items()} == {"train": 9, "test": 3}
    reasons = skipped(out)
    assert "1090_IEO_ANG_HI.flv" in reasons["1090_IEO_ANG_HI"]  # corrupt video
    assert reasons["1091_TIE_SAD_XX"] == "no AudioWAV/1091_TIE_SAD_XX.wav"
    assert "label 'XYZ' is not in the class list" in reasons["1092_DFA_XYZ_XX"]
    assert reasons["1099_ITS_NEU_XX"] == "listed in test.csv but not in AudioWAV/ or VideoFlash/"
    with np.load(out / "clips" / "1001_DFA_NEU_XX.npz") as clip:
        assert clip["frames"].shape == (3, 16, 16, 3) and clip["spectrogram"].shape == (1, 257, 188)


def test_cremad_without_split_files_says_speaker_split(prepared):
    report = json.loads((prepared("cremad-nosplit") / "report.json").read_text())
    assert any("speaker-held-out split ('speaker') is the default" in note for note in report["notes"])


def test_ave_event_segments_and_annotation_problems(prepared):
    out = prepared("ave")
    manifest = json.loads((out / "manifest.json").read_text())
    assert {k: len(v) for k, v in manifest["splits"]["official"].items()} == {"train": 5, "val": 2, "test": 2}
    reasons = skipped(out)
    assert reasons["missingVideo1"] == "annotated in Annotations.txt but there is no AVE/missingVideo1.mp4"
    assert "label 'Goose' is not in the class list" in reasons["vid00-AbC_x"]
    assert reasons["emptySegment"] == "empty event segment (3-3 s)"
    with np.load(out / "clips" / "vid01-AbC_x.npz") as clip:  # event 1-4 s: seconds 1, 2, 3 (4 is past the end)
        assert clip["frames"].shape[0] == 3 and clip["spectrogram"].shape == (1, 257, 1007)


def test_kinetics_sounds_and_ucf101(prepared):
    ks = prepared("kinetics-sounds")
    assert "not in the class list class.txt" in skipped(ks)["ytstray_000000_000010"]
    assert any("lists 3 classes" in n for n in json.loads((ks / "report.json").read_text())["notes"])
    ucf = prepared("ucf101")
    manifest = json.loads((ucf / "manifest.json").read_text())
    assert sum(not c["audio"] for c in manifest["clips"].values()) == 4
    assert skipped(ucf)["v_Archery_g09_c01"].startswith("listed in trainlist01.txt")
    with np.load(ucf / "clips" / "v_Archery_g01_c01.npz") as clip:
        assert clip["flow"].shape == (3, 2, 16, 16) and clip["spectrogram"].shape == (1, 257, 136)


def test_resume_parallel_and_settings(make_release, tmp_path, capsys):
    src = make_release("cremad")
    out = tmp_path / "out"
    (out / "clips").mkdir(parents=True)
    left = out / "clips" / ".1001_DFA_NEU_XX.partial-1.npz"
    left.write_bytes(b"half")  # left by a killed run: untouched for longer than a writer could be busy
    os.utime(left, (time.time() - 2 * STALE_PARTIAL_SECONDS,) * 2)
    assert main(["data", "prepare", "cremad", str(src), "--out", str(out), "--jobs", "2", "--frame-size", "16"]) == 0
    printed = capsys.readouterr().out
    assert "4 skipped clips" in printed and "prepared 12" in printed
    assert not list((out / "clips").glob(".*partial*"))
    first = (out / "clips" / "1001_DFA_NEU_XX.npz").stat().st_mtime_ns
    report = prepare_release("cremad", src, out, frame_size=16, progress=False)
    assert len(report.with_status("cached")) == 12 and not report.with_status("prepared")
    assert (out / "clips" / "1001_DFA_NEU_XX.npz").stat().st_mtime_ns == first
    with pytest.raises(PolymodalError, match="prepared with other settings"):
        prepare_release("cremad", src, out, frame_size=32, progress=False)


def test_wrong_layouts_name_the_path(tmp_path):
    with pytest.raises(PolymodalError, match=r"AudioWAV: no such folder \(expected CREMA-D: AudioWAV/"):
        prepare_release("cremad", tmp_path, tmp_path / "out", progress=False)
    (tmp_path / "AVE").mkdir()
    with pytest.raises(PolymodalError, match=r"Annotations.txt: no such file \(expected AVE:"):
        prepare_release("ave", tmp_path, tmp_path / "out2", progress=False)
    assert main(["data", "prepare", "ucf101", str(tmp_path), "--out", str(tmp_path / "o")]) == 2

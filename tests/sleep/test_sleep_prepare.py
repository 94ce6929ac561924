import json
import re

import numpy as np

from polymodal.data.sleep.cache import open_night, prepared_nights
from polymodal.data.sleep.cli import sleep_main
from polymodal.data.sleep.prepare import REPORT_FILE, prepare_cache


def test_generated_nights_go_through_prepare(nsrr_cache):
    nights = prepared_nights(nsrr_cache)
    assert nights == ["synth-0000", "synth-0001", "synth-0002", "synth-0003"]
    for night in nights:
        arrays = open_night(nsrr_cache / f"{night}.npz")
        n = len(arrays["y"])
        assert n > 21
        assert arrays["eeg"].shape == (n, 29, 128) and arrays["eog"].shape == (n, 29, 128)
        assert set(np.unique(arrays["y"]).tolist()) == {0, 1, 2, 3, 4}
        assert np.isfinite(arrays["eeg"]).all() and np.isfinite(arrays["eog"]).all()
        assert np.all(np.diff(arrays["epoch"]) > 0)  # epochs in recording order
    report = json.loads((nsrr_cache / REPORT_FILE).read_text())
    counts = report["prepared"][0]["counts"]
    assert counts["kept"] + counts["unscored"] + counts["wake_trimmed"] + counts["non_finite"] + counts["no_signal"] \
        == counts["recording_epochs"]


def test_second_run_skips_finished_nights(nsrr_source, nsrr_cache):
    before = {p.name: p.stat().st_mtime_ns for p in nsrr_cache.glob("*.npz")}
    report = prepare_cache(nsrr_source, "nsrr", nsrr_cache, progress=False)
    assert [r.status for r in report.results] == ["cached"] * 4
    assert {p.name: p.stat().st_mtime_ns for p in nsrr_cache.glob("*.npz")} == before


def test_parallel_preparation_gives_the_same_epochs(nsrr_source, nsrr_cache, tmp_path):
    report = prepare_cache(nsrr_source, "nsrr", tmp_path, jobs=2, progress=False)
    assert len(report.with_status("prepared")) == 4
    for night in prepared_nights(tmp_path):
        a, b = open_night(tmp_path / f"{night}.npz"), open_night(nsrr_cache / f"{night}.npz")
        for key in ("eeg", "eog", "y", "epoch"):
            np.testing.assert_array_equal(a[key], b[key])


def test_cli_synth_and_prepare_sleep_edf_layout(tmp_path, capsys):
    assert sleep_main(["synth", str(tmp_path / "src"), "--nights", "5", "--layout", "sleep-edf", "--seed", "1",
                       "--minutes", "40"]) == 0
    assert sorted(p.name for p in (tmp_path / "src").iterdir())[:2] == ["SY4001E0-PSG.edf", "SY4001EC-Hypnogram.edf"]
    assert sleep_main(["prepare", str(tmp_path / "src"), "--layout", "sleep-edf", "--out", str(tmp_path / "cache")]) == 0
    out = capsys.readouterr().out
    assert "prepared 5, already cached 0, skipped 0 nights" in out
    # subjects SY400 (2 nights), SY401 (2), SY402 (1): one each for train, val, test
    assert re.search(r"z-score statistics of the [12] training nights: stats/[0-9a-f]{12}\.npz", out)
    arrays = open_night(tmp_path / "cache" / "SY4001E0.npz")
    assert arrays["eog"].shape[1:] == (29, 128) and arrays["present_eog"].all()

"""The field's conventions on sleep-edfx-format and SHHS-layout files: Wake window, tolerant scoring, all nights kept."""

import json
import shutil

import edfio
import numpy as np
import pytest

from polymodal.data.sleep.cache import open_night, prepared_nights
from polymodal.data.sleep.cli import sleep_main
from polymodal.data.sleep.datamodule import SleepDataModule
from polymodal.data.sleep.prepare import REPORT_FILE, prepare_cache
from polymodal.errors import PolymodalError

SLEEP_EDF_SLEEP_STAGES = {"Sleep stage 1", "Sleep stage 2", "Sleep stage 3", "Sleep stage 4", "Sleep stage R"}
SCORED = SLEEP_EDF_SLEEP_STAGES | {"Sleep stage W"}


@pytest.fixture(scope="module")
def sleep_edf(tmp_path_factory):
    """Two sleep-edfx-format nights with 45 min of extra Wake at each end, prepared by the CLI."""
    root = tmp_path_factory.mktemp("sleep_edf")
    assert sleep_main(["synth", str(root / "src"), "--nights", "2", "--layout", "sleep-edf", "--seed", "2",
                       "--minutes", "40", "--edge-wake-minutes", "45"]) == 0
    assert sleep_main(["prepare", str(root / "src"), "--layout", "sleep-edf", "--out", str(root / "cache")]) == 0
    return root


def _hypnogram_epochs(path, n_epochs):
    """Per-epoch annotation text of a Sleep-EDF hypnogram, read straight from the EDF+ annotations."""
    texts = np.full(n_epochs, "", dtype=object)
    for note in edfio.read_edf(path).annotations:
        if note.text in SCORED:
            first = int(note.onset // 30)
            texts[first:first + int(note.duration // 30)] = note.text
    return texts


def test_sleep_edf_keeps_exactly_30_minutes_of_wake_around_the_sleep_period(sleep_edf):
    for night in ("SY4001E0", "SY4002E0"):
        n_epochs = int(edfio.read_edf(sleep_edf / "src" / f"{night}-PSG.edf").duration // 30)
        texts = _hypnogram_epochs(sleep_edf / "src" / f"{night[:-2]}EC-Hypnogram.edf", n_epochs)
        sleep = np.flatnonzero(np.isin(texts, list(SLEEP_EDF_SLEEP_STAGES)))
        assert sleep[0] > 60 and sleep[-1] < n_epochs - 61  # more Wake than the window on both sides
        window = np.arange(sleep[0] - 60, sleep[-1] + 61)
        expected = window[np.isin(texts[window], list(SCORED))]
        arrays = open_night(sleep_edf / "cache" / f"{night}.npz")
        np.testing.assert_array_equal(arrays["epoch"], expected)
        wake_share = float(np.mean(np.asarray(arrays["y"]) == 0))
        print(f"{night}: kept {len(expected)} of {n_epochs} epochs, {wake_share:.1%} Wake")


def test_wake_options_on_the_command_line(sleep_edf):
    with pytest.raises(PolymodalError, match="--wake_minutes applies to the window rule only; --layout nsrr trims by "
                                             "'largest' \\(add --wake_trim window\\)"):
        sleep_main(["prepare", str(sleep_edf / "src"), "--layout", "nsrr", "--out", str(sleep_edf / "x"),
                    "--wake-minutes", "10"])
    out = sleep_edf / "window10"
    assert sleep_main(["prepare", str(sleep_edf / "src"), "--layout", "sleep-edf", "--out", str(out),
                       "--wake-minutes", "10"]) == 0
    assert json.loads((out / "prepare.json").read_text())["wake_trim"] == {"rule": "window", "minutes": 10.0}
    night = open_night(out / "SY4001E0.npz")
    sleep = np.asarray(night["epoch"])[np.asarray(night["y"]) != 0]
    assert night["epoch"][0] >= sleep[0] - 20 and night["epoch"][-1] <= sleep[-1] + 20


def test_unscored_tail_off_the_grid_and_scoring_overrun_are_prepared_and_noted(sleep_edf):
    hypnogram = edfio.read_edf(sleep_edf / "src" / "SY4001EC-Hypnogram.edf").annotations
    psg_seconds = edfio.read_edf(sleep_edf / "src" / "SY4001E0-PSG.edf").duration
    assert hypnogram[-1].text == "Sleep stage ?" and hypnogram[-1].duration % 30 != 0
    assert hypnogram[-2].text == "Sleep stage W" and hypnogram[-2].onset + hypnogram[-2].duration > psg_seconds
    assert psg_seconds % 30 != 0  # the PSG ends inside its last epoch
    report = json.loads((sleep_edf / "cache" / REPORT_FILE).read_text())
    assert [r["night_id"] for r in report["prepared"]] == ["SY4001E0", "SY4002E0"] and not report["skipped"]
    first = report["prepared"][0]
    assert first["counts"]["scored_past_end"] == 2
    assert first["notes"] == [f"SY4001EC-Hypnogram.edf: 2 scored epochs past the last complete 30-s epoch of "
                              f"SY4001E0-PSG.edf ({int(psg_seconds // 30)} epochs) cut off"]


@pytest.fixture(scope="module")
def mixed_nsrr(nsrr_source, tmp_path_factory):
    """The four shared SHHS-layout nights plus two nights without REM (``norem-0000``, ``norem-0001``)."""
    root = tmp_path_factory.mktemp("mixed")
    shutil.copytree(nsrr_source, root / "src")
    assert sleep_main(["synth", str(root / "norem"), "--nights", "2", "--layout", "nsrr", "--seed", "4",
                       "--minutes", "40", "--without-stages", "REM"]) == 0
    for path in (root / "norem").iterdir():
        shutil.move(path, root / "src" / path.name.replace("synth-", "norem-"))
    prepare_cache(root / "src", "nsrr", root / "cache", progress=False)
    return root


def test_night_without_rem_is_prepared(mixed_nsrr):
    assert prepared_nights(mixed_nsrr / "cache") == [
        "norem-0000", "norem-0001", "synth-0000", "synth-0001", "synth-0002", "synth-0003"]
    for night in ("norem-0000", "norem-0001"):
        y = np.asarray(open_night(mixed_nsrr / "cache" / f"{night}.npz")["y"])
        assert set(y.tolist()) == {0, 1, 2, 3}
    report = json.loads((mixed_nsrr / "cache" / REPORT_FILE).read_text())
    assert report["prepared"][0]["counts"]["kept_REM"] == 0 and not report["skipped"]


def test_require_all_stages_leaves_out_nights_lacking_a_stage(mixed_nsrr, tmp_path, capsys):
    cache = str(mixed_nsrr / "cache")
    everything = SleepDataModule(cache, val_fraction=0.2, test_fraction=0.2)
    assert sum(everything.night_splits().values(), []).count("norem-0000") == 1 and not everything.excluded_nights
    curated = SleepDataModule(cache, val_fraction=0.2, test_fraction=0.2, require_all_stages=True)
    splits = curated.night_splits()
    assert sorted(sum(splits.values(), [])) == ["synth-0000", "synth-0001", "synth-0002", "synth-0003"]
    assert curated.excluded_nights == {"norem-0000": ["REM"], "norem-0001": ["REM"]}
    split = tmp_path / "split.json"
    split.write_text(json.dumps({"train": ["synth-0000", "norem-0000"], "test": ["norem-0001"]}))
    from_file = SleepDataModule(cache, split_file=str(split), require_all_stages=True).night_splits()
    assert from_file == {"train": ["synth-0000"]}
    assert sleep_main(["prepare", str(mixed_nsrr / "src"), "--layout", "nsrr", "--out", cache, "--require_all_stages"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "require_all_stages: left out 2 of 6 nights: norem-0000 (no REM), norem-0001 (no REM)" in out
    assert "z-score statistics of the 2 training nights" in out  # 4 subjects: 2 train, 1 val, 1 test


def test_sleep_commands_read_a_config_and_name_bad_options(tmp_path, capsys):
    from polymodal.cli import main

    config = tmp_path / "synth.yaml"
    config.write_text("nights: 1\nlayout: nsrr\nminutes: 10\nunit: mV\n")
    assert main(["sleep", "synth", str(tmp_path / "src"), "--config", str(config), "--seed", "3"]) == 0
    assert len(list((tmp_path / "src").glob("*.edf"))) == 1
    assert main(["sleep", "synth", str(tmp_path / "x"), "--nights", "1", "--layout", "nsrr", "--unit", "kV"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == "polymodal: error: unknown unit 'kV'; choose one of: uV, mV, V"
    assert main(["sleep", "prepare", str(tmp_path / "src"), "--layout", "nsrr", "--out", str(tmp_path / "c"),
                 "--job", "2"]) == 2
    assert "--job" in capsys.readouterr().err

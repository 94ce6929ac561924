"""Every user error is one line naming the culprit, with a non-zero exit and no traceback."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from polymodal.cli import main


def save(path: Path, **arrays: np.ndarray) -> str:
    np.savez(path, **arrays)
    return str(path)


@pytest.fixture
def good(tmp_path) -> str:
    rng = np.random.default_rng(0)
    return save(tmp_path / "good.npz", a=rng.normal(size=(20, 3)), b=rng.normal(size=(20, 2)), y=rng.integers(0, 2, 20))


def run_fit(capsys, *args: str) -> str:
    code = main(["fit", "--max_epochs", "1", "--trainer.enable_progress_bar", "false", *args])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert "Traceback" not in "\n".join(err)
    return err[-1]


@pytest.mark.parametrize(
    ("option", "culprit"),
    [
        (["--method", "bogus"], "unknown method 'bogus'; choose one of:"),
        (["--fusion", "bogus"], "unknown fusion 'bogus'; choose one of:"),
        (["--encoder", "bogus"], "unknown encoder 'bogus'; choose one of:"),
        (["--data.modalities", "[a,zz]"], "modality 'zz' is not in the data; it has: a, b"),
        (["--model.bogus", "3"], "Option 'bogus' is not accepted"),
        (["--task", "bogus"], "unknown task 'bogus'"),
    ],
)
def test_unknown_names(capsys, good, tmp_path, option, culprit) -> None:
    line = run_fit(capsys, "--data.train", good, "--out", str(tmp_path / "o"), *option)
    assert culprit in line


def test_bad_files(capsys, tmp_path, good) -> None:
    rng = np.random.default_rng(1)
    cases = {
        "missing": (str(tmp_path / "missing.npz"), "missing.npz: no such file"),
        "corrupt": (str(tmp_path / "corrupt.npz"), "corrupt.npz: not a readable .npz file"),
        "nan": (save(tmp_path / "nan.npz", a=np.full((20, 3), np.nan), b=np.ones((20, 2)), y=np.zeros(20, int)),
                "modality 'a' contains NaN/Inf"),
        "shape": (save(tmp_path / "shape.npz", a=np.ones((19, 3)), b=np.ones((20, 2)), y=np.zeros(20, int)),
                  "modality 'a' has 19 samples but 'y' has 20"),
        "negative": (save(tmp_path / "neg.npz", a=np.ones((20, 3)), b=np.ones((20, 2)), y=-np.ones(20, int)),
                     "label -1 is negative"),
        "no_y": (save(tmp_path / "noy.npz", a=np.ones((20, 3)), b=np.ones((20, 2))), "no 'y' array"),
    }
    (tmp_path / "corrupt.npz").write_bytes(b"not a zip file")
    for name, (path, culprit) in cases.items():
        line = run_fit(capsys, "--data.train", path, "--out", str(tmp_path / name))
        assert culprit in line, (name, line)
    del rng


def test_label_out_of_range_in_test_split(capsys, tmp_path, good) -> None:
    bad = save(tmp_path / "bad_test.npz", a=np.ones((5, 3)), b=np.ones((5, 2)), y=np.full(5, 7))
    line = run_fit(capsys, "--data.train", good, "--data.test", bad, "--out", str(tmp_path / "o"))
    assert "label 7 is out of range for 2 classes" in line


def test_split_with_other_modalities(capsys, tmp_path, good) -> None:
    other = save(tmp_path / "other.npz", a=np.ones((5, 3)), c=np.ones((5, 2)), y=np.zeros(5, int))
    line = run_fit(capsys, "--data.train", good, "--data.val", other, "--out", str(tmp_path / "o"))
    assert "splits disagree on modalities" in line


def test_evaluating_with_mismatched_shapes(capsys, tmp_path, good) -> None:
    out = tmp_path / "run"
    assert main(["fit", "--data.train", good, "--max_epochs", "1", "--out", str(out),
                 "--trainer.enable_progress_bar", "false"]) == 0
    capsys.readouterr()
    wrong = save(tmp_path / "wrong.npz", a=np.ones((5, 4)), b=np.ones((5, 2)), y=np.zeros(5, int))
    code = main(["test", "--ckpt", str(out / "checkpoints" / "best.ckpt"), "--data.test", wrong])
    assert code == 2
    assert "modality 'a': data has per-sample shape (4,), the model expects (3,)" in capsys.readouterr().err
    assert main(["test", "--ckpt", str(tmp_path / "nope.ckpt"), "--data.test", wrong]) == 2
    assert "nope.ckpt: no such checkpoint" in capsys.readouterr().err


def test_unknown_command(capsys) -> None:
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err


def test_dataset_short_form_expands_to_the_data_class() -> None:
    from polymodal.cli_args import expand_short_forms

    args = expand_short_forms(["--dataset", "synthetic-imbalance:m1", "--method", "mlb", "--method_options.alpha=2"])
    assert args == ["--data", "polymodal.data.synthetic_pid.SyntheticPIDDataModule", "--data.preset", "imbalance",
                    "--data.modalities", "[m1]", "--model.balancer", "polymodal.balance.mlb.MLB",
                    "--model.balancer.alpha=2"]


def test_unknown_dataset_name(capsys) -> None:
    assert main(["fit", "--dataset", "imagenet"]) == 2
    assert "unknown dataset 'imagenet'; choose one of:" in capsys.readouterr().err

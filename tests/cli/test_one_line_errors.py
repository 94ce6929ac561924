"""Bad options, files and data through ``polymodal fit|test``: exit 2, one line naming the culprit, no traceback."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml
from lightning.pytorch.accelerators import AcceleratorRegistry

from polymodal.cli import main
from polymodal.cli_checks import MAX_YAML_VALUES, LimitedYamlLoader
from polymodal.errors import PolymodalError

QUIET = ["--trainer.enable_progress_bar", "false", "--trainer.enable_model_summary", "false"]


def billion_laughs(levels: int = 9) -> str:
    """A YAML document of a few hundred bytes that expands to 9**levels strings."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, str]:
    """Good and bad inputs, and a checkpoint of one epoch on the good data."""
    root = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    a = rng.normal(size=(40, 4)).astype(np.float32)
    b = rng.normal(size=(40, 3)).astype(np.float32)
    y = np.arange(40) % 3
    paths: dict[str, Path] = {}

    def save(name: str, **arrays: np.ndarray) -> None:
        paths[name] = root / f"{name}.npz"
        np.savez(paths[name], **arrays)

    save("good", a=a, b=b, y=y)
    save("big", a=a.astype(np.float64) * 1e300, b=b, y=y)
    save("gap", a=a, b=b, y=np.where(np.arange(40) == 0, 99, y))
    save("single", a=a, b=b, y=np.zeros(40, int))
    save("huge", a=a, b=b, y=np.where(np.arange(40) == 0, 10_000_000, y))
    save("u64", a=a, b=b, y=np.full(40, 2**64 - 1, np.uint64))
    save("empty_modality", a=np.zeros((40, 0), np.float32), b=b, y=y)
    save("empty_test", a=a[:0], b=b[:0], y=y[:0])
    np.save(root / "array.npy", a)
    paths["renamed"] = root / "renamed.npz"
    shutil.copy(root / "array.npy", paths["renamed"])
    paths["corrupt"] = root / "corrupt.npz"
    np.savez_compressed(paths["corrupt"], a=a, b=b, y=y)
    data = bytearray(paths["corrupt"].read_bytes())
    data[len(data) // 3: len(data) // 3 + 64] = bytes(64)
    paths["corrupt"].write_bytes(bytes(data))
    paths["binary"] = root / "binary.yaml"
    paths["binary"].write_bytes(bytes(range(256)) * 4)
    paths["bomb"] = root / "bomb.yaml"
    paths["bomb"].write_text(billion_laughs())
    paths["a_file"] = root / "a_file"
    paths["a_file"].write_text("not a directory\n")
    run = root / "run"
    assert main(["fit", "--data.train", str(paths["good"]), "--max_epochs", "1", "--out", str(run), *QUIET]) == 0
    paths["ckpt"] = run / "checkpoints" / "best.ckpt"
    paths["truncated"] = root / "truncated.ckpt"
    paths["truncated"].write_bytes(paths["ckpt"].read_bytes()[:1000])
    return {name: str(path) for name, path in paths.items()} | {"out": str(root / "out")}


def fit_on(train: str, *extra: str) -> Callable[[dict[str, str]], list[str]]:
    """The arguments of a one-epoch fit on the file named ``train``."""
    return lambda f: ["fit", "--data.train", f[train], "--max_epochs", "1", "--out", f["out"], "--overwrite",
                      *QUIET, *extra]


GPU_AVAILABLE = any(AcceleratorRegistry[name]["accelerator"].is_available() for name in ("cuda", "mps"))

CASES: dict[str, tuple[Callable[[dict[str, str]], list[str]], str]] = {
    "no arguments": (lambda f: ["fit"],
                     "no data given: pass --data.train FILE (--data.val, --data.test FILE), --dataset NAME or"),
    "npy renamed npz": (fit_on("renamed"), "renamed.npz: not a readable .npz file"),
    "corrupt compressed npz": (fit_on("corrupt"), "corrupt.npz: not a readable .npz file"),
    "negative max_epochs": (fit_on("good", "--max_epochs", "-5"),
                            "max_epochs must be >= 0, or -1 for no limit; got -5"),
    "negative num_workers": (fit_on("good", "--data.num_workers", "-1"), "num_workers must be >= 0"),
    "encoder depth 0": (fit_on("good", "--encoder_options.depth", "0"),
                        "encoder 'mlp' of modality 'a': depth must be >= 1 (hidden layers), got 0"),
    "negative lr": (fit_on("good", "--model.lr", "-1"), "lr must be > 0, got -1"),
    "negative lr of the contrastive task": (fit_on("good", "--task", "contrastive", "--model.lr", "-1"),
                                            "lr must be > 0, got -1"),
    "binary config": (lambda f: ["fit", "--config", f["binary"]], "binary.yaml: not a text config file"),
    "unknown accelerator": (fit_on("good", "--trainer.accelerator", "abacus"), "unknown accelerator 'abacus'"),
    "gpu without a gpu": (fit_on("good", "--trainer.accelerator", "gpu"),
                          "accelerator 'gpu' is not available on this machine"),
    "misspelt fusion option": (fit_on("good", "--fusion", "mid_mlp", "--fusion_options.hiden", "3"),
                               "fusion 'mid_mlp': unknown option 'hiden'; valid options: hidden_dim, depth, dropout"),
    "option of a fusion without options": (fit_on("good", "--fusion_options.hiden", "3"),
                                           "fusion 'late': unknown option 'hiden'; it takes no options"),
    "misspelt encoder option": (fit_on("good", "--encoder_options.hiden", "3"),
                                "encoder 'mlp' of modality 'a': unknown option 'hiden'; valid options: hidden_dim"),
    "YAML alias bomb": (lambda f: ["fit", "--config", f["bomb"]],
                        f"bomb.yaml: YAML expands to more than {MAX_YAML_VALUES:,} values"),
    "out is a file": (lambda f: ["fit", "--data.train", f["good"], "--out", f["a_file"], *QUIET], "a_file"),
    "test without test data": (lambda f: ["test", "--ckpt", f["ckpt"]], "--data.test FILE"),
    "missing checkpoint": (lambda f: ["test", "--ckpt", f["out"] + "/none.ckpt", "--data.test", f["good"]],
                           "none.ckpt: no such checkpoint"),
    "truncated checkpoint": (lambda f: ["test", "--ckpt", f["truncated"], "--data.test", f["good"]],
                             "truncated.ckpt: not a readable checkpoint"),
    "float64 beyond float32": (fit_on("big"),
                               "big.npz: modality 'a' has values of magnitude up to 2.4e+300, beyond float32's range"),
    "labels with a gap": (fit_on("gap"), "gap.npz: labels must be 0..C-1 with every class present, but 96 of 0..99"),
    "a single class": (fit_on("single"), "single.npz: every label is 0; classification needs at least 2 classes"),
    "label of ten million": (fit_on("huge"), "huge.npz: labels must be 0..C-1 with every class present"),
    "uint64 label": (fit_on("u64"), "u64.npz: label 18446744073709551615 is too large"),
    "modality without features": (fit_on("empty_modality"), "empty_modality.npz: modality 'a' has shape (40, 0)"),
    "empty test split": (lambda f: fit_on("good", "--data.test", f["empty_test"])(f), "empty_test.npz: no samples"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_line_error(files, capsys, case: str) -> None:
    if case == "gpu without a gpu" and GPU_AVAILABLE:
        pytest.skip("this machine has a GPU")
    arguments, culprit = CASES[case]
    capsys.readouterr()
    code = main(arguments(files))
    err = capsys.readouterr().err.strip()
    assert code == 2, err
    assert "Traceback" not in err
    assert len(err.splitlines()) == 1 and err.startswith("polymodal: error: "), err
    assert culprit in err


def test_yaml_aliases_load_within_the_limit() -> None:
    load = LimitedYamlLoader(yaml.safe_load)
    assert load("a: &x [1, 2]\nb: *x\n") == {"a": [1, 2], "b": [1, 2]}
    assert load("") is None


def test_yaml_alias_inside_its_own_node_is_refused() -> None:
    with pytest.raises(PolymodalError, match="cfg.yaml: a YAML alias refers to the node that contains it"):
        LimitedYamlLoader(yaml.safe_load)("a: &x [1, *x]\n", path="cfg.yaml")

"""The command line prints results, not library banners; help is fast and survives a closed pipe."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

import polymodal
from polymodal.cli import main
from polymodal.console import LIGHTNING_LOGGERS

SRC = str(Path(polymodal.__file__).resolve().parents[1])
NOISE = ("GPU available", "TPU available", "💡 Tip", "litlogger", "litmodels", "deprecated")


def python(*args: str, **kwargs) -> subprocess.Popen:
    """``python ARGS`` with this source tree first on the path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen([sys.executable, *args], env=env, text=True, **kwargs)


@pytest.fixture
def lightning_as_installed() -> Iterator[None]:
    """Lightning's loggers at their own level (INFO), as outside the test suite's quiet set-up."""
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.INFO)
    yield
    for logger, level in zip(loggers, levels):
        logger.setLevel(level)


def test_fit_prints_no_banners_tips_or_deprecations(tmp_path, capfd, caplog, lightning_as_installed) -> None:
    rng = np.random.default_rng(0)
    paths = {}
    for split, n in (("train", 24), ("val", 12)):
        y = rng.integers(0, 2, n)
        paths[split] = tmp_path / f"{split}.npz"
        np.savez(paths[split], a=rng.normal(size=(n, 3)).astype(np.float32) + y[:, None],
                 b=rng.normal(size=(n, 2)).astype(np.float32), y=y)
    caplog.set_level(logging.INFO)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        code = main(["fit", "--data.train", str(paths["train"]), "--data.val", str(paths["val"]), "--max_epochs", "1",
                     "--out", str(tmp_path / "run"), "--trainer.enable_progress_bar", "false",
                     "--trainer.enable_model_summary", "false"])
    out, err = capfd.readouterr()
    assert code == 0, err
    assert "polymodal results" in out or "metrics:" in out
    shown = "\n".join([out, err, caplog.text])
    for noise in NOISE:
        assert noise not in shown, noise
    deprecations = [w for w in caught if issubclass(w.category, (DeprecationWarning, FutureWarning))]
    assert not deprecations, [str(w.message) for w in deprecations]


def test_help_does_not_import_torch() -> None:
    script = ("import sys, contextlib, io\nimport polymodal.cli\n"
              "with contextlib.redirect_stdout(io.StringIO()) as out:\n    polymodal.cli.main(['--help'])\n"
              "assert 'usage: polymodal' in out.getvalue()\n"
              "print(sorted(m for m in ('torch', 'lightning', 'jsonargparse', 'numpy') if m in sys.modules))")
    proc = python("-c", script, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert out.strip() == "[]"


def test_help_into_a_closed_pipe_is_quiet() -> None:
    proc = python("-m", "polymodal", "--help", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    proc.stdout.close()  # the reader went away before the help is written, as `polymodal --help | head -0`
    err = proc.stderr.read()
    proc.wait(timeout=60)
    assert "BrokenPipeError" not in err
    assert "Traceback" not in err and "Exception ignored" not in err, err

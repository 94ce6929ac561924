"""``polymodal demo`` and ``polymodal data`` read typed options: from the command line or a YAML config."""

from __future__ import annotations

from typing import get_args

import pytest

from polymodal.cli import main
from polymodal.data.benchmarks import cli as prepare_cli
from polymodal.data.benchmarks.prepare import RELEASES, PrepareReport


@pytest.fixture
def bench_calls(monkeypatch) -> list[list[str]]:
    """The arguments ``polymodal demo`` hands to ``polymodal bench``, which does not run."""
    import polymodal.bench.cli

    calls: list[list[str]] = []
    monkeypatch.setattr(polymodal.bench.cli, "bench_main", lambda argv: calls.append(list(argv)) or 0)
    return calls


def test_demo_reads_a_config_and_the_command_line_overrides_it(tmp_path, bench_calls) -> None:
    config = tmp_path / "demo.yaml"
    config.write_text("methods: [joint, mlb]\nseeds: 2\noptimizer: adamw\n")
    assert main(["demo", "--config", str(config), "--seeds", "1", "--out", str(tmp_path / "out")]) == 0
    assert bench_calls == [["balance", "--datasets", "mfeat:fou+kar+mor", "--methods", "joint,mlb", "--seeds", "1",
                            "--max_epochs", "30", "--optimizer", "adamw", "--lr", "0.02", "--out", str(tmp_path / "out")]]


def test_demo_keeps_the_comma_separated_methods(bench_calls) -> None:
    assert main(["demo", "--methods", "unimodal,ensemble", "--max_epochs", "2"]) == 0
    assert bench_calls[0][bench_calls[0].index("--methods") + 1] == "unimodal,ensemble"


def test_demo_bad_option_is_one_line(capsys, bench_calls) -> None:
    assert main(["demo", "--optimizer", "adam"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("polymodal: error:") and "optimizer" in err[0]
    assert not bench_calls


@pytest.fixture
def prepare_calls(monkeypatch) -> list[dict]:
    """The arguments ``polymodal data prepare`` hands to ``prepare_release``, which finds no clip."""
    calls: list[dict] = []

    def record(name, src, out, **options) -> PrepareReport:
        calls.append({"name": name, "src": str(src), "out": str(out), **options})
        return PrepareReport(results=[])

    monkeypatch.setattr(prepare_cli, "prepare_release", record)
    return calls


def test_data_prepare_reads_a_config(tmp_path, prepare_calls) -> None:
    config = tmp_path / "prepare.yaml"
    config.write_text(f"out: {tmp_path / 'out'}\njobs: 3\nframe_size: 32\n")
    assert main(["data", "prepare", "cremad", str(tmp_path), "--config", str(config), "--frame-size", "16"]) == 1
    assert prepare_calls == [{"name": "cremad", "src": str(tmp_path), "out": str(tmp_path / "out"), "jobs": 3,
                              "frame_size": 16, "flow": None}]


def test_data_prepare_defaults_and_bad_values(tmp_path, prepare_calls, capsys) -> None:
    assert main(["data", "prepare", "ave", str(tmp_path), "--out", str(tmp_path / "o")]) == 1
    assert prepare_calls[0]["frame_size"] == 224 and prepare_calls[0]["jobs"] == 1
    assert main(["data", "prepare", "cremad", str(tmp_path), "--out", str(tmp_path), "--frame-size", "big"]) == 2
    assert main(["data", "prepare", "bogus", str(tmp_path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert "frame_size" in err[0] and "big" in err[0] and "bogus" in err[1]


def test_the_release_choices_are_the_known_releases() -> None:
    assert set(get_args(prepare_cli.ReleaseName)) == set(RELEASES)


def test_data_download_options_and_missing_folder(capsys) -> None:
    assert main(["data", "download", "fsdd"]) == 2
    assert "to" in capsys.readouterr().err

"""The bench grid runner (resume, progress lines), the per-dataset tables and the ``bench`` front end."""

from __future__ import annotations

import io
import re

import lightning as L
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from polymodal.bench.contrastive import ContrastiveProtocol
from polymodal.bench.grid import Cell, Fit, Outcome, run_grid
from polymodal.bench.report import dataset_tables, format_markdown
from polymodal.cli import main


class TinyTask(L.LightningModule):
    """A linear classifier on 4 features that logs val/loss and test/acc."""

    monitor = ("val/loss", "min")

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Linear(4, 2)

    def step(self, batch: tuple[torch.Tensor, torch.Tensor], stage: str) -> torch.Tensor:
        x, y = batch
        logits = self.net(x)
        loss = nn.functional.cross_entropy(logits, y)
        self.log(f"{stage}/loss", loss)
        self.log(f"{stage}/acc", (logits.argmax(1) == y).float().mean())
        return loss

    def training_step(self, batch, batch_idx):
        return self.step(batch, "train")

    def validation_step(self, batch, batch_idx):
        self.step(batch, "val")

    def test_step(self, batch, batch_idx):
        self.step(batch, "test")

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.1)


class TinyData(L.LightningDataModule):
    def __init__(self, seed: int) -> None:
        super().__init__()
        generator = torch.Generator().manual_seed(seed)
        x = torch.randn(32, 4, generator=generator)
        self.data = TensorDataset(x, (x[:, 0] > 0).long())

    def train_dataloader(self):
        return DataLoader(self.data, batch_size=16)

    val_dataloader = test_dataloader = train_dataloader


def cells(tmp_path) -> list[Cell]:
    return [Cell({"dataset": "toy", "method": m, "seed": 0}, tmp_path / m, f"toy {m} seed 0") for m in ("a", "b", "c")]


def build(cell: Cell) -> Fit:
    if cell.key["method"] == "b":
        raise ValueError("no such method 'b'")
    return Fit(TinyTask(), TinyData(cell.seed), max_epochs=1)


def summarise(cell: Cell, outcome: Outcome) -> dict:
    return {"acc": outcome.metrics["test/acc"], "wall_s": round(outcome.wall_s, 2)}


def test_progress_lines_name_each_run_with_its_result_and_an_eta(tmp_path) -> None:
    stream = io.StringIO()  # not a terminal
    rows = run_grid("toy", cells(tmp_path), build, summarise, headline="acc", stream=stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == 3
    assert re.fullmatch(r"\[1/3\] toy a seed 0: acc \d\.\d{3} \(\d+ s, ETA \d+ s\)", lines[0]), lines[0]
    assert re.fullmatch(r"\[2/3\] toy b seed 0: failed: ValueError: no such method 'b' \(\d+ s, ETA \d+ s\)",
                        lines[1]), lines[1]
    assert re.fullmatch(r"\[3/3\] toy c seed 0: acc \d\.\d{3} \(\d+ s\)", lines[2]), lines[2]  # nothing left
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert "Epoch" not in stream.getvalue() and "━" not in stream.getvalue()  # no Lightning progress bar


def test_a_resumed_grid_skips_finished_cells_and_reruns_failed_ones(tmp_path) -> None:
    first = run_grid("toy", cells(tmp_path), build, summarise, headline="acc", stream=io.StringIO())
    built: list[str] = []

    def counting_build(cell: Cell) -> Fit:
        built.append(cell.key["method"])
        return build(cell)

    stream = io.StringIO()
    again = run_grid("toy", cells(tmp_path), counting_build, summarise, headline="acc", stream=stream)
    assert built == ["b"]  # only the failed cell runs again
    assert again[0] == first[0] and again[2] == first[2]
    assert stream.getvalue().splitlines()[0].endswith("(finished earlier)")


SUMMARY = [
    {"dataset": "mfeat:kar+mor", "method": "joint", "acc": (0.90, 0.01), "acc/kar": (0.80, 0.0), "acc/mor": None,
     "acc/a": None, "wall_s": (10.0, 1.0), "runs": "2/2"},
    {"dataset": "mfeat:kar+mor", "method": "mlb", "acc": (0.95, 0.02), "acc/kar": (0.70, 0.0), "acc/mor": (0.6, 0.0),
     "acc/a": None, "wall_s": (99.0, 1.0), "runs": "2/2"},
    {"dataset": "toy", "method": "joint", "acc": (0.50, 0.0), "acc/kar": None, "acc/mor": None, "acc/a": (0.4, 0.0),
     "wall_s": (5.0, 0.0), "runs": "1/1"},
]
METRICS = ["acc", "acc/kar", "acc/mor", "acc/a", "wall_s"]


def test_one_table_per_dataset_without_other_datasets_columns() -> None:
    text = dataset_tables(SUMMARY, ["method"], METRICS, ranked=METRICS[:-1])
    mfeat, toy = text.split("## toy")
    assert mfeat.startswith("## mfeat:kar+mor\n")
    assert "| method | acc | acc/kar | acc/mor | wall_s | runs |" in mfeat and "acc/a" not in mfeat
    assert "| method | acc | acc/a | wall_s | runs |" in toy and "kar" not in toy
    assert "| joint | 0.500 ± 0.000 | 0.400 ± 0.000 | 5.000 ± 0.000 | 1/1 |" in toy  # one row: nothing to rank


def test_bold_marks_the_best_quality_and_never_the_wall_time() -> None:
    table = format_markdown(SUMMARY[:2], ["method"], METRICS[:3] + ["wall_s"], ranked=METRICS[:3])
    joint, mlb = table.splitlines()[2:]
    assert "**0.950 ± 0.020**" in mlb and "**0.800 ± 0.000**" in joint  # higher is better, per column
    assert "**" not in joint.split("|")[-3] and "**" not in mlb.split("|")[-3]  # wall_s: 99 s is not "best"


def test_bench_help_lists_the_suites_and_bad_input_is_one_line(tmp_path, capsys) -> None:
    assert main(["bench", "--help"]) == 0
    listing = capsys.readouterr().out
    assert all(re.search(rf"^  {suite} +\S", listing, re.MULTILINE) for suite in ("balance", "contrastive", "sleep"))
    assert main(["bench", "balanse"]) == 2
    assert capsys.readouterr().err == ("polymodal: error: unknown bench suite 'balanse'; "
                                       "choose one of: balance, contrastive, sleep\n")
    assert main(["bench", "balance", "--out", str(tmp_path), "--seed", "1"]) == 2  # not taken for --seeds
    assert capsys.readouterr().err == ("polymodal: error: polymodal bench balance: "
                                       "unrecognized arguments: --seed 1\n")
    with pytest.raises(SystemExit) as stop:
        main(["bench", "balance", "--help"])
    assert stop.value.code == 0 and "--method_options" in capsys.readouterr().out


def test_bench_options_come_from_a_yaml_config(tmp_path, capsys) -> None:
    config = tmp_path / "bench.yaml"
    config.write_text(f"out: {tmp_path / 'out'}\nmethods: [joint, nope]\nmax_epochs: 1\n")
    assert main(["bench", "balance", "--config", str(config), "--datasets", "synthetic-imbalance"]) == 2
    assert "unknown method 'nope'" in capsys.readouterr().err  # the list reached the suite from the file


def test_contrastive_encoder_options_follow_the_encoder() -> None:
    mlp = {"hidden_dim": 64, "depth": 2, "dropout": 0.0}
    assert ContrastiveProtocol().task_options()["encoder_options"] == mlp
    assert ContrastiveProtocol(encoder="resnet18").task_options()["encoder_options"] == {}
    chosen = ContrastiveProtocol(encoder="resnet18", encoder_options={"width": 8}).task_options()
    assert chosen["encoder"] == "resnet18" and chosen["encoder_options"] == {"width": 8}
    mixed = ContrastiveProtocol(encoder={"audio": "resnet18", "tag": "mlp"}).task_options()
    assert mixed["encoder_options"] == {"tag": mlp}

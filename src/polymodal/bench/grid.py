"""The grid runner of every benchmark suite.

A suite lists its grid as :class:`Cell` s (dataset × model × seed, or what
its runs vary) and supplies two functions: a *task factory*
(cell → :class:`Fit`: the task, its DataModule and the trainer options) and
a *row summariser* (cell + :class:`Outcome` → the fields of the run's table
row). The runner seeds each cell, fits it through Lightning, tests the best
validation checkpoint and stores the row in ``<run_dir>/result.json``. A
grid resumes: a cell whose result file exists is not run again. A run that
raises is reported as a row with ``status: failed`` and its error (the
traceback in ``<run_dir>/error.txt``), and is run again next time.
"""

from __future__ import annotations

import json
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import lightning as L
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import CSVLogger

from polymodal.bench.progress import GridProgress
from polymodal.bench.report import Row
from polymodal.callbacks import BestCheckpoint, PatientEarlyStopping
from polymodal.console import configure_output
from polymodal.eval.metrics import as_floats

RESULT_FILE = "result.json"


@dataclass(frozen=True)
class Cell:
    """One run of a grid: the fields naming it (the start of its row, ``seed`` among them),
    where it is stored, and how progress lines name it."""

    key: Row
    run_dir: Path
    label: str

    @property
    def seed(self) -> int:
        return int(self.key["seed"])


@dataclass
class Fit:
    """What a suite's task factory hands the runner for one cell."""

    task: L.LightningModule
    data: L.LightningDataModule
    max_epochs: int
    accelerator: str = "cpu"
    patience: int | None = None
    """Early-stopping patience (epochs) on the task's ``monitor``; None: no early stopping."""
    callbacks: Sequence[Callback] = field(default_factory=tuple)


@dataclass
class Outcome:
    """A fitted cell: the best checkpoint's test metrics, the fit's wall time, and the fit itself."""

    metrics: dict[str, float]
    wall_s: float
    trainer: L.Trainer
    best_path: str | None
    fit: Fit


TaskFactory = Callable[[Cell], Fit]
RowSummariser = Callable[[Cell, Outcome], Row]


def bench_trainer(fit: Fit, run_dir: Path) -> tuple[L.Trainer, BestCheckpoint]:
    """The Trainer of one run and its best-checkpoint callback.

    The checkpoint follows the task's ``monitor``; ``fit.patience`` adds early
    stopping on the same metric; logs go to ``run_dir/metrics.csv``; no
    progress bar and no model summary.
    """
    metric, mode = fit.task.monitor
    checkpoint = BestCheckpoint(dirpath=run_dir / "checkpoints", filename="best", monitor=metric, mode=mode)
    stopping = [PatientEarlyStopping(metric, mode=mode, patience=fit.patience)] if fit.patience is not None else []
    trainer = L.Trainer(
        max_epochs=fit.max_epochs,
        accelerator=fit.accelerator,
        devices=1,
        callbacks=[checkpoint, *stopping, *fit.callbacks],
        logger=CSVLogger(run_dir, name="", version=""),
        default_root_dir=run_dir,
        enable_progress_bar=False,
        enable_model_summary=False,
        log_every_n_steps=10,
    )
    return trainer, checkpoint


def fit_and_test(fit: Fit, run_dir: Path) -> Outcome:
    """Fit, then test the best validation checkpoint (the last weights when none was kept)."""
    trainer, checkpoint = bench_trainer(fit, run_dir)
    start = time.perf_counter()
    trainer.fit(fit.task, datamodule=fit.data)
    wall = time.perf_counter() - start
    best = checkpoint.best_model_path or None
    metrics = as_floats(trainer.test(fit.task, datamodule=fit.data, ckpt_path=best, verbose=False)[0])
    return Outcome(metrics, wall, trainer, best, fit)


def run_cell(cell: Cell, build: TaskFactory, summarise: RowSummariser) -> Row:
    """Seed, build, fit, test and summarise one cell; store its row when it succeeds."""
    cell.run_dir.mkdir(parents=True, exist_ok=True)
    try:
        L.seed_everything(cell.seed, verbose=False)
        outcome = fit_and_test(build(cell), cell.run_dir)
        row = {**cell.key, **summarise(cell, outcome), "status": "ok"}
    except Exception as err:  # noqa: BLE001 (a failed run is reported in the table, not a crash of the bench)
        (cell.run_dir / "error.txt").write_text(traceback.format_exc())
        return {**cell.key, "status": "failed", "error": f"{type(err).__name__}: {err}".splitlines()[0]}
    (cell.run_dir / RESULT_FILE).write_text(json.dumps(row, indent=2))
    return row


def finished_row(cell: Cell) -> Row | None:
    """The stored row of a cell an earlier invocation finished, else None."""
    path = cell.run_dir / RESULT_FILE
    return json.loads(path.read_text()) if path.is_file() else None


def run_grid(name: str, cells: Sequence[Cell], build: TaskFactory, summarise: RowSummariser, headline: str,
             stream: IO[str] | None = None) -> list[Row]:
    """Run every cell in order (skipping finished ones) and return one row per cell.

    ``headline`` is the row field shown in the progress line of each finished
    run; progress goes to ``stream`` (stdout by default).
    """
    configure_output()
    to_train = sum(finished_row(cell) is None for cell in cells)
    rows: list[Row] = []
    with GridProgress(name, len(cells), to_train, headline, stream) as progress:
        for cell in cells:
            row = finished_row(cell)
            trained = row is None
            if trained:
                progress.start(cell.label)
                row = run_cell(cell, build, summarise)
            progress.finish(cell.label, row, trained)
            rows.append(row)
    return rows

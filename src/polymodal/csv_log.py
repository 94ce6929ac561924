"""``metrics.csv`` that a resumed fit continues instead of replacing.

Lightning's :class:`~lightning.pytorch.loggers.CSVLogger` deletes an existing
``metrics.csv`` when it starts writing, so a fit resumed from ``last.ckpt``
would lose the rows of the epochs before the checkpoint.
:class:`ResumableCSVLogger` keeps them: told where the fit resumes
(:meth:`ResumableCSVLogger.resume_after`, called by
:class:`polymodal.resume.ExactResume`), it keeps the rows up to the
checkpoint and drops those written after it (a test of the earlier run, or
part of an epoch that the resumed fit trains again), so no epoch is logged
twice. A fit that does not resume starts a new file, as Lightning's does.
"""

from __future__ import annotations

import csv

from lightning.fabric.loggers.logger import rank_zero_experiment
from lightning.pytorch.loggers import CSVLogger
from lightning.pytorch.loggers.csv_logs import ExperimentWriter


class ContinuingWriter(ExperimentWriter):
    """Lightning's CSV writer that, before its first write, starts a new file or continues a resumed run's.

    Attributes:
        resumed_at: ``(epoch, step)`` of the checkpoint a fit resumes from;
            None for a new run.
    """

    def __init__(self, log_dir: str, resumed_at: tuple[int, int] | None = None) -> None:
        self.resumed_at = resumed_at
        self._started = False
        super().__init__(log_dir)

    def _check_log_dir_exists(self) -> None:
        """Nothing at creation: the first :meth:`save` decides between a new file and the resumed one."""

    def save(self) -> None:
        if not self._started:
            self._started = True
            self._start_file()
        super().save()

    def _start_file(self) -> None:
        if not self._fs.isfile(self.metrics_file_path):
            return
        if self.resumed_at is None:
            self._fs.rm_file(self.metrics_file_path)
            return
        with self._fs.open(self.metrics_file_path, "r", newline="") as file:
            reader = csv.DictReader(file)
            rows = [row for row in reader if self._before_resume(row)]
            header = list(reader.fieldnames or [])
        with self._fs.open(self.metrics_file_path, "w", newline="") as file:
            writer = csv.DictWriter(file, fieldnames=header)
            writer.writeheader()
            writer.writerows(rows)
        self.metrics_keys = header

    def _before_resume(self, row: dict[str, str]) -> bool:
        """Whether a row was logged before the checkpoint: by its epoch, or by its step when it has no epoch."""
        epoch, step = self.resumed_at
        if row.get("epoch"):
            return int(float(row["epoch"])) <= epoch
        return bool(row.get("step")) and int(float(row["step"])) < step


class ResumableCSVLogger(CSVLogger):
    """:class:`~lightning.pytorch.loggers.CSVLogger` whose ``metrics.csv`` a resumed fit continues."""

    _resumed_at: tuple[int, int] | None = None

    def resume_after(self, epoch: int, step: int) -> None:
        """The fit resumes from a checkpoint of ``epoch`` at global ``step``: keep the rows logged before it."""
        self._resumed_at = (epoch, step)
        if self._experiment is not None:
            self._experiment.resumed_at = self._resumed_at

    @property
    @rank_zero_experiment
    def experiment(self) -> ContinuingWriter:
        """The writer of ``metrics.csv`` (and ``hparams.yaml``)."""
        if self._experiment is None:
            self._fs.makedirs(self.root_dir, exist_ok=True)
            self._experiment = ContinuingWriter(self.log_dir, self._resumed_at)
        return self._experiment

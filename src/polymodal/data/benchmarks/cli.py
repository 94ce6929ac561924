"""``polymodal data prepare NAME SRC --out DIR``: prepare a raw audio-visual release (see :mod:`polymodal.data.cli`).

::

    polymodal data prepare {ave,cremad,kinetics-sounds,ucf101} SRC --out DIR
                           [--jobs N] [--frame_size 224] [--flow FLOW_DIR] [--config FILE.yaml]

Then ``polymodal fit --dataset NAME --data.root DIR``. CMU-MOSEI / MOSI and
AV-MNIST ship preprocessed and need no preparation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from rich.console import Console
from rich.table import Table

from polymodal.data.benchmarks.prepare import REPORT_FILE, PrepareReport, prepare_release

ReleaseName = Literal["ave", "cremad", "kinetics-sounds", "ucf101"]
"""The releases :func:`~polymodal.data.benchmarks.prepare.prepare_release` knows."""

PREPARE_ALIASES = {"--frame-size": "frame_size"}
"""Spellings of ``prepare``'s options kept from earlier releases."""


def prepare(name: ReleaseName, src: Path, *, out: Path, jobs: int = 1, frame_size: int = 224,
            flow: Path | None = None) -> int:
    """Prepare a raw audio-visual release into model-ready clips.

    Prints the notes, the skipped clips and the counts; the exit status is 1
    when no clip is ready.

    Args:
        name: the release
        src: the release folder, in its published layout
        out: output folder (resumable)
        jobs: parallel worker processes
        frame_size: side of the stored square frames
        flow: optical-flow frames u/<video>/*.jpg, v/<video>/*.jpg (ucf101)
    """
    report = prepare_release(name, src, out, jobs=jobs, frame_size=frame_size, flow=flow)
    print_report(Console(), report, out)
    return 0 if report.with_status("prepared") or report.with_status("cached") else 1


def print_report(console: Console, report: PrepareReport, out: Path) -> None:
    """The notes, a table of the skipped clips and their reasons, and the counts."""
    for note in report.notes:
        console.print(f"note: {note}")
    skipped = report.with_status("skipped")
    if skipped:
        table = Table(title=f"{len(skipped)} skipped clips")
        for column in ("clip", "files", "reason"):
            table.add_column(column)
        for result in skipped:
            table.add_row(result.name, result.files, result.reason)
        console.print(table)
    console.print(f"prepared {len(report.with_status('prepared'))}, already there {len(report.with_status('cached'))}, "
                  f"skipped {len(skipped)} clips; report: {out / REPORT_FILE}")

"""``polymodal data prepare NAME SRC --out DIR``: prepare a raw audio-visual release (see :mod:`polymodal.data.cli`).

::

    polymodal data prepare {cremad,ave,kinetics-sounds,ucf101} SRC --out DIR
                           [--jobs N] [--frame-size 224] [--flow FLOW_DIR]

Then ``polymodal fit --dataset NAME --data.root DIR``. CMU-MOSEI / MOSI and
AV-MNIST ship preprocessed and need no preparation.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from polymodal.data.benchmarks.prepare import REPORT_FILE, RELEASES, PrepareReport, prepare_release


def add_prepare_parser(commands: argparse._SubParsersAction) -> None:
    """The ``prepare`` subcommand of ``polymodal data``."""
    prepare = commands.add_parser("prepare", help="prepare a raw audio-visual release into model-ready clips")
    prepare.add_argument("name", choices=sorted(RELEASES))
    prepare.add_argument("src", type=Path, help="the release folder, in its published layout")
    prepare.add_argument("--out", required=True, type=Path, help="output folder (resumable)")
    prepare.add_argument("--jobs", type=int, default=1, help="parallel worker processes")
    prepare.add_argument("--frame-size", type=int, default=224, help="side of the stored square frames")
    prepare.add_argument("--flow", type=Path, help="optical-flow frames u/<video>/*.jpg, v/<video>/*.jpg (ucf101)")


def run_prepare(args: argparse.Namespace) -> int:
    """Prepare the release and print the report; the exit status is 1 when no clip is ready."""
    report = prepare_release(args.name, args.src, args.out, jobs=args.jobs, frame_size=args.frame_size, flow=args.flow)
    print_report(Console(), report, args.out)
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

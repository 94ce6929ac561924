"""The summary table printed at the end of every command."""

from __future__ import annotations

from collections.abc import Mapping

from rich.console import Console
from rich.table import Table


def print_summary(metrics: Mapping[str, float], *notes: str, title: str = "polymodal results") -> None:
    """Print ``metrics`` as a two-column table, then each note on its own line."""
    table = Table(title=title)
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key in sorted(metrics):
        table.add_row(key, f"{metrics[key]:.4f}")
    console = Console()
    console.print(table)
    for note in notes:
        console.print(note)

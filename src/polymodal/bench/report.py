"""Benchmark tables: ``results.csv`` (a row per run) and ``results.md`` (mean ± std)."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from statistics import mean, stdev
from typing import Any

Row = dict[str, Any]


def write_csv(rows: Sequence[Row], path: Path) -> None:
    """All rows with the union of their keys as columns (first-seen order)."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def aggregate(rows: Sequence[Row], group: Sequence[str], metrics: Sequence[str]) -> list[Row]:
    """Mean, std and count of each metric over the finished runs of each group."""
    groups: dict[tuple, list[Row]] = defaultdict(list)
    for row in rows:
        groups[tuple(row[k] for k in group)].append(row)
    out = []
    for key, members in groups.items():
        done = [r for r in members if r.get("status") == "ok"]
        summary: Row = dict(zip(group, key, strict=True))
        summary["runs"] = f"{len(done)}/{len(members)}"
        for metric in metrics:
            values = [float(r[metric]) for r in done if r.get(metric) not in (None, "")]
            summary[metric] = (mean(values), stdev(values) if len(values) > 1 else 0.0) if values else None
        out.append(summary)
    return out


def format_markdown(summary: Sequence[Row], group: Sequence[str], metrics: Sequence[str],
                    ranked: Collection[str] = (), headers: Mapping[str, str] | None = None) -> str:
    """A markdown table of ``mean ± std``.

    In each column of ``ranked`` (qualities where higher is better) the best
    mean is bold when at least two rows have a value; other columns (wall
    time, throughput) are never bold. ``headers`` renames columns.
    """
    best: dict[str, float] = {}
    for metric in ranked:
        values = [row[metric][0] for row in summary if row.get(metric) is not None]
        if len(values) > 1:
            best[metric] = max(values)
    names = dict(headers or {})
    header = [names.get(k, k) for k in (*group, *metrics)] + ["runs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in summary:
        cells = [str(row[k]) for k in group]
        for metric in metrics:
            if row.get(metric) is None:
                cells.append("–")
                continue
            m, s = row[metric]
            text = f"{m:.3f} ± {s:.3f}"
            cells.append(f"**{text}**" if metric in best and math.isclose(m, best[metric]) else text)
        cells.append(row["runs"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def dataset_tables(summary: Sequence[Row], group: Sequence[str], metrics: Sequence[str],
                   ranked: Collection[str] = (),
                   headers: Callable[[str], Mapping[str, str]] | None = None) -> str:
    """One :func:`format_markdown` table per dataset, under a ``## <dataset>`` heading.

    A table holds only the metrics some run of its dataset reports (no columns
    for other datasets' modalities); ``group`` names the row columns besides
    the dataset; ``headers(dataset)`` renames a dataset's columns.
    """
    sections = []
    for dataset in dict.fromkeys(row["dataset"] for row in summary):
        rows = [row for row in summary if row["dataset"] == dataset]
        present = [m for m in metrics if any(row.get(m) is not None for row in rows)]
        table = format_markdown(rows, group, present, ranked, headers(dataset) if headers else None)
        sections.append(f"## {dataset}\n\n{table}")
    return "\n".join(sections)


def failures_markdown(rows: Sequence[Row], label: str = "method") -> str:
    """A list of failed runs with their errors (empty string if none failed);
    ``label`` is the column naming what each run trained."""
    failed = [r for r in rows if r.get("status") != "ok"]
    if not failed:
        return ""
    lines = ["", "## Failed runs", ""]
    lines += [f"- {r['dataset']} / {r[label]} / seed {r['seed']}: {r.get('error', '')}" for r in failed]
    return "\n".join(lines) + "\n"


def show_report(paths: dict[str, Path]) -> None:
    """Print ``results.md`` and where every output went."""
    print(paths["md"].read_text())
    for name, path in paths.items():
        print(f"{name}: {path}")

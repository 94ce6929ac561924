"""Benchmark tables: ``results.csv`` (a row per run) and ``results.md`` (mean ± std)."""

from __future__ import annotations

import csv
import math
from collections import defaultdict
from collections.abc import Sequence
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
                    best_within: str, higher_is_better: bool = True) -> str:
    """A markdown table of ``mean ± std``; the best mean per ``best_within`` group in bold."""
    best: dict[Any, dict[str, float]] = defaultdict(dict)
    for row in summary:
        for metric in metrics:
            if row[metric] is not None:
                current = best[row[best_within]].get(metric)
                value = row[metric][0]
                better = current is None or (value > current if higher_is_better else value < current)
                best[row[best_within]][metric] = value if better else current
    header = [*group, *metrics, "runs"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in summary:
        cells = [str(row[k]) for k in group]
        for metric in metrics:
            if row[metric] is None:
                cells.append("–")
                continue
            m, s = row[metric]
            text = f"{m:.3f} ± {s:.3f}"
            is_best = math.isclose(m, best[row[best_within]].get(metric, math.nan))
            cells.append(f"**{text}**" if is_best else text)
        cells.append(row["runs"])
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def failures_markdown(rows: Sequence[Row], label: str = "method") -> str:
    """A list of failed runs with their errors (empty string if none failed);
    ``label`` is the column naming what each run trained."""
    failed = [r for r in rows if r.get("status") != "ok"]
    if not failed:
        return ""
    lines = ["", "## Failed runs", ""]
    lines += [f"- {r['dataset']} / {r[label]} / seed {r['seed']}: {r.get('error', '')}" for r in failed]
    return "\n".join(lines) + "\n"

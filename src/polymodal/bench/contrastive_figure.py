"""The XOR figure of ConFu (arXiv 2511.21331, Sec. 5.1): 2→1 top-1 accuracy against p̂.

The task of Symile (arXiv 2411.01053, Sec. 5.1): given ``m0`` and ``m2``,
pick ``m1`` among all ``2^d`` values. Chance is ``1/2^d`` and the optimum
``p̂ + (1 − p̂)/2^d``: when ``m2 ≠ m0`` the sample must be an XOR one and
``m1 = m0 XOR m2``; when ``m2 = m0`` nothing is known about ``m1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from polymodal.bench.report import Row  # noqa: E402

XOR_METRIC = "13->2/R@1"
"""The bench column holding ``m0+m2->m1`` top-1 (``m0+m2->m1 R@1`` in the XOR tables)."""


def xor_optimum(xor_probability: np.ndarray | float, bits: int) -> np.ndarray | float:
    """The best achievable ``m0+m2->m1`` top-1 accuracy ``p̂ + (1 − p̂)/2^d``."""
    return xor_probability + (1 - xor_probability) / 2**bits


def xor_figure(summary: Sequence[Row], bits: int, path: Path) -> bool:
    """Mean ± std of ``m0+m2->m1`` top-1 per objective against p̂, with the optimum
    and chance lines; False (no file) when the summary has no XOR rows."""
    rows = [r for r in summary if r.get("xor_probability") is not None and r.get(XOR_METRIC)]
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(5.5, 4))
    grid = np.linspace(0.0, 1.0, 101)
    ax.plot(grid, xor_optimum(grid, bits), color="black", ls="--", lw=1, label="optimum p̂ + (1−p̂)/2^d")
    ax.axhline(1 / 2**bits, color="gray", ls=":", lw=1, label="chance 1/2^d")
    for objective in dict.fromkeys(r["objective"] for r in rows):
        points = sorted((r["xor_probability"], *r[XOR_METRIC]) for r in rows if r["objective"] == objective)
        p, mean, std = (np.array(column) for column in zip(*points, strict=True))
        ax.errorbar(p, mean, yerr=std, marker="o", capsize=3, label=objective)
    ax.set_xlabel("p̂ (probability that m2 = m0 XOR m1)")
    ax.set_ylabel("m0+m2->m1 R@1 (top-1 accuracy)")
    ax.set_title(f"XOR, d = {bits}")
    ax.set_xlim(-0.03, 1.03)
    ax.set_ylim(0, 1.05)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return True

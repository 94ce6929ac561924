"""Speed of the ConFu loss: forward + backward against plain symmetric InfoNCE calls.

ConFu with three modalities computes six symmetric InfoNCE terms (three
unimodal pairs, three fused pairs against the third modality); the target is
at most 1.1× the time of six separate ``symmetric_infonce`` calls on the same
tensors. For M = 4 and 5 modalities it reports how the time grows with the
number of terms (M(M−1)/2 pairwise + M(M−1)(M−2)/2 fused).

Run: ``python benchmarks/contrastive_speed.py [--batch 512] [--dim 256] [--repeats 20]``
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from itertools import combinations

import torch
import torch.nn.functional as F

from polymodal.contrastive.base import Embeddings
from polymodal.contrastive.confu import ConFu
from polymodal.contrastive.infonce import symmetric_infonce


def random_embeddings(modalities: list[str], batch: int, dim: int) -> Embeddings:
    def leaf() -> torch.Tensor:
        return F.normalize(torch.randn(batch, dim), dim=-1).requires_grad_()

    return Embeddings({m: leaf() for m in modalities}, {pair: leaf() for pair in combinations(modalities, 2)})


def median_seconds(step: Callable[[], torch.Tensor], repeats: int) -> float:
    """Median wall time of ``step().backward()`` after two warm-up runs."""
    times = []
    for index in range(repeats + 2):
        start = time.perf_counter()
        step().backward()
        if index >= 2:
            times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def confu_seconds(modalities: list[str], batch: int, dim: int, repeats: int) -> tuple[float, int]:
    objective = ConFu(modalities)
    embeddings = random_embeddings(modalities, batch, dim)
    terms = len(objective.loss(embeddings))
    return median_seconds(lambda: torch.stack(list(objective.loss(embeddings).values())).sum(), repeats), terms


def plain_infonce_seconds(calls: int, batch: int, dim: int, repeats: int) -> float:
    """``calls`` separate plain symmetric InfoNCE calls on independent pairs, summed."""
    pairs = [(F.normalize(torch.randn(batch, dim), dim=-1).requires_grad_(),
              F.normalize(torch.randn(batch, dim), dim=-1).requires_grad_()) for _ in range(calls)]
    scale = torch.tensor(1 / 0.07)
    return median_seconds(lambda: sum(symmetric_infonce(a, b, scale) for a, b in pairs), repeats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--dim", type=int, default=256)
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(args.threads)

    print(f"batch {args.batch}, embedding {args.dim}, {args.threads} thread(s), median of {args.repeats}")
    base = plain_infonce_seconds(6, args.batch, args.dim, args.repeats)
    confu, _ = confu_seconds(["m0", "m1", "m2"], args.batch, args.dim, args.repeats)
    print(f"M=3: ConFu loss+backward {confu * 1e3:.1f} ms; six plain InfoNCE calls {base * 1e3:.1f} ms; "
          f"ratio {confu / base:.2f} (target <= 1.10)")
    for count in (4, 5):
        seconds, terms = confu_seconds([f"m{i}" for i in range(count)], args.batch, args.dim, args.repeats)
        plain = plain_infonce_seconds(terms, args.batch, args.dim, args.repeats)
        print(f"M={count}: ConFu {terms} terms {seconds * 1e3:.1f} ms ({seconds / confu:.2f}x M=3); "
              f"{terms} plain calls {plain * 1e3:.1f} ms; ratio {seconds / plain:.2f}")


if __name__ == "__main__":
    main()

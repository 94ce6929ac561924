"""``polymodal bench SUITE``: benchmark suites writing results.csv, results.md and plots.

Each suite is a module with a ``run_<suite>(argv)`` entry point; it is
imported only when chosen, so ``polymodal bench --help`` stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import import_module

from polymodal.errors import PolymodalError

SUITES = {
    "balance": "balancing methods × datasets × seeds (supervised fusion)",
    "contrastive": "contrastive objectives × datasets × seeds (retrieval)",
    "sleep": "CoRe-Sleep and its baselines × robustness conditions (sleep staging)",
}


def bench_usage() -> str:
    lines = ["usage: polymodal bench SUITE [--help] [--config FILE.yaml] [OPTIONS]", "", "suites:"]
    lines += [f"  {name:<12} {description}" for name, description in SUITES.items()]
    lines += ["", "polymodal bench SUITE --help lists the suite's options."]
    return "\n".join(lines)


def bench_main(argv: Sequence[str]) -> int:
    """Dispatch ``polymodal bench SUITE ...``."""
    if not argv:
        raise PolymodalError(f"bench needs a suite: {', '.join(SUITES)} (see polymodal bench --help)")
    if argv[0] in {"-h", "--help"}:
        print(bench_usage())
        return 0
    suite, rest = argv[0], list(argv[1:])
    if suite not in SUITES:
        raise PolymodalError(f"unknown bench suite {suite!r}; choose one of: {', '.join(SUITES)}")
    module = import_module(f"polymodal.bench.{suite}")
    return getattr(module, f"run_{suite}")(rest)

"""``polymodal bench SUITE``: benchmark suites writing results.csv, results.md and plots."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from pathlib import Path

from polymodal.bench.protocol import Protocol
from polymodal.errors import PolymodalError

SUITES = ("balance", "contrastive", "sleep")


def comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def protocol_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Protocol()
    parser.add_argument("--max_epochs", type=int, default=defaults.max_epochs)
    parser.add_argument("--patience", type=int, default=defaults.patience, help="early-stopping patience (epochs)")
    parser.add_argument("--batch_size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--optimizer", default=defaults.optimizer, choices=("adamw", "sgd"))
    parser.add_argument("--encoder", default=defaults.encoder)
    parser.add_argument("--hidden_dim", type=int, default=defaults.hidden_dim, help="width of the MLP encoder")
    parser.add_argument("--encoder_options", type=json.loads, default=None,
                        help='JSON options of the encoder instead of --hidden_dim, e.g. \'{"width": 8}\' for resnet18')
    parser.add_argument("--fusion", default=defaults.fusion)
    parser.add_argument("--accelerator", default=defaults.accelerator)


def quiet_lightning() -> None:
    """Keep Lightning's per-run banners out of a benchmark's output (warnings still show)."""
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(logging.WARNING)


def balance_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="polymodal bench balance",
                                     description="Compare balancing methods under one protocol.")
    parser.add_argument("--datasets", type=comma_list, default=[],
                        help="built-in datasets, NAME or NAME:m1+m2 (e.g. synthetic-imbalance,mfeat:kar+mor)")
    parser.add_argument("--data.train", dest="train", help="a user dataset: training .npz")
    parser.add_argument("--data.val", dest="val")
    parser.add_argument("--data.test", dest="test")
    parser.add_argument("--methods", type=comma_list, default=["joint", "multiloss", "unimodal", "ensemble"])
    parser.add_argument("--method_options", type=json.loads, default={},
                        help='JSON: method → options, e.g. \'{"mlb": {"alpha": 1.0}}\'')
    parser.add_argument("--seeds", type=int, default=3, help="number of seeds (0..N-1)")
    parser.add_argument("--out", required=True, type=Path)
    protocol_arguments(parser)
    return parser


def run_balance(argv: Sequence[str]) -> int:
    from polymodal.balance import BALANCERS
    from polymodal.bench.balance import ENSEMBLE, PRETRAINED, UNIMODAL, run_balance_grid, write_balance_report
    from polymodal.bench.datasets import builtin_spec, npz_spec

    args = balance_parser().parse_args(argv)
    quiet_lightning()
    for method in args.methods:
        if method not in (UNIMODAL, ENSEMBLE, PRETRAINED):
            BALANCERS.get(method)
    specs = [builtin_spec(name) for name in args.datasets]
    if args.train:
        specs.append(npz_spec(args.train, args.val, args.test))
    if not specs:
        raise PolymodalError("give --datasets and/or --data.train FILE")
    protocol = Protocol(max_epochs=args.max_epochs, patience=args.patience, batch_size=args.batch_size, lr=args.lr,
                        optimizer=args.optimizer, encoder=args.encoder, hidden_dim=args.hidden_dim,
                        encoder_options=args.encoder_options,
                        fusion=args.fusion, accelerator=args.accelerator)
    rows = run_balance_grid(specs, args.methods, list(range(args.seeds)), args.out, protocol, args.method_options)
    data = {s.name: s.build(0, protocol.batch_size) for s in specs}
    modalities = {name: list(dm.info.modalities) for name, dm in data.items()}
    bayes = {name: dm.bayes_accuracy for name, dm in data.items() if hasattr(dm, "bayes_accuracy")}
    paths = write_balance_report(rows, args.out, modalities, bayes)
    print(paths["md"].read_text())
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def bench_main(argv: Sequence[str]) -> int:
    """Dispatch ``polymodal bench SUITE ...``."""
    if not argv or argv[0] in {"-h", "--help"}:
        print(f"usage: polymodal bench {{{','.join(SUITES)}}} [--help] ...")
        return 0 if argv else 2
    suite, rest = argv[0], list(argv[1:])
    if suite == "balance":
        return run_balance(rest)
    if suite == "sleep":
        from polymodal.bench.sleep import run_sleep

        return run_sleep(rest)
    if suite == "contrastive":
        from polymodal.bench.contrastive import run_contrastive

        return run_contrastive(rest)
    if suite in SUITES:
        raise PolymodalError(f"bench suite {suite!r} is not available yet")
    raise PolymodalError(f"unknown bench suite {suite!r}; choose one of: {', '.join(SUITES)}")

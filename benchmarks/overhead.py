"""Training-step time of polymodal's fit against a plain PyTorch loop.

Both train the same MultimodalClassifier (MLP encoders, late fusion,
multi-loss objective) on the same data with the same batch size and
optimizer, side by side in one process, alternating repeats. polymodal runs
through ``lightning.Trainer`` with ``SupervisedTask`` as ``polymodal fit``
does (CSV logger, checkpointing), validation off for both.

    python benchmarks/overhead.py [--epochs 5] [--repeats 3] [--hidden 256] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import CSVLogger

from polymodal import ArrayDataModule, SupervisedTask
from polymodal.balance.multiloss import multiloss_terms
from polymodal.data.contract import collate_items


def make_data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    return {"a": rng.normal(size=(n, 76)) + y[:, None] * 0.1, "b": rng.normal(size=(n, 64)),
            "c": rng.normal(size=(n, 6)), "y": y}


def time_polymodal(data: ArrayDataModule, hidden: int, epochs: int, out: str) -> tuple[float, int]:
    task = SupervisedTask(balancer="multiloss", data_info=data.info.to_dict(), encoder_options={"hidden_dim": hidden})
    trainer = L.Trainer(max_epochs=epochs, logger=CSVLogger(out), default_root_dir=out, limit_val_batches=0,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    start = time.perf_counter()
    trainer.fit(task, train_dataloaders=data.train_dataloader())
    return time.perf_counter() - start, trainer.global_step


def time_plain(data: ArrayDataModule, hidden: int, epochs: int) -> tuple[float, int]:
    task = SupervisedTask(balancer="multiloss", data_info=data.info.to_dict(), encoder_options={"hidden_dim": hidden})
    model = task.model
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(data.splits["train"], batch_size=data.batch_size, shuffle=True,
                                         collate_fn=collate_items)
    steps = 0
    start = time.perf_counter()
    for _ in range(epochs):
        model.train()
        for batch in loader:
            output = model(batch["inputs"], batch["present"])
            loss = torch.stack(list(multiloss_terms(output, batch).values())).sum()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
    return time.perf_counter() - start, steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--samples", type=int, default=4096)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = ArrayDataModule(train=make_data(args.samples), batch_size=args.batch_size, val_fraction=0)
    ours, plain = [], []
    with tempfile.TemporaryDirectory() as out:
        time_plain(data, args.hidden, 1)  # warm-up
        for _ in range(args.repeats):
            seconds, steps = time_plain(data, args.hidden, args.epochs)
            plain.append(seconds / steps * 1e3)
            seconds, steps = time_polymodal(data, args.hidden, args.epochs, out)
            ours.append(seconds / steps * 1e3)
    p, o = statistics.median(plain), statistics.median(ours)
    print(f"batch {args.batch_size}, hidden {args.hidden}, {args.threads} thread(s), {steps} steps per run")
    print(f"plain PyTorch loop : {p:.3f} ms/step (median of {args.repeats})")
    print(f"polymodal fit      : {o:.3f} ms/step (median of {args.repeats})")
    print(f"ratio polymodal / plain = {o / p:.3f}")


if __name__ == "__main__":
    main()

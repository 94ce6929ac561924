"""Training-step time of balancing methods through Lightning, against joint training and a plain PyTorch loop.

Every run trains the same ``SupervisedTask`` model (MLP encoders, late
fusion, SGD) on the same data through ``lightning.Trainer`` as ``polymodal
fit`` does, validation off; the plain loop trains the same model with the
joint loss by hand. Runs alternate within one process (rotating the order)
so that machine load affects them alike, timed in CPU seconds of the process (one thread, so a busy machine
slows the clock less than the wall); medians are reported as ratios to
``joint`` and to the plain loop. The script uses only the task's public
options, so it also runs against earlier versions of polymodal (to compare
the balancer hooks before and after a change).

    python benchmarks/method_step_time.py [--methods joint,multiloss,mlb,ogm_ge] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F

from polymodal import ArrayDataModule, SupervisedTask
from polymodal.data.contract import collate_items


def make_data(n: int, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    return {"a": rng.normal(size=(n, 256)) + y[:, None] * 0.1, "b": rng.normal(size=(n, 128)), "y": y}


def task(method: str, data: ArrayDataModule, hidden: int) -> SupervisedTask:
    torch.manual_seed(0)
    return SupervisedTask(balancer=method, optimizer="sgd", lr=0.01, data_info=data.info.to_dict(),
                          encoder_options={"hidden_dim": hidden, "dropout": 0.0})


def time_method(method: str, data: ArrayDataModule, hidden: int, epochs: int) -> float:
    trainer = L.Trainer(max_epochs=epochs, logger=False, enable_checkpointing=False, limit_val_batches=0,
                        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    start = time.process_time()
    trainer.fit(task(method, data, hidden), train_dataloaders=data.train_dataloader())
    return (time.process_time() - start) / trainer.global_step


def time_plain(data: ArrayDataModule, hidden: int, epochs: int) -> float:
    model = task("joint", data, hidden).model
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
    loader = torch.utils.data.DataLoader(data.splits["train"], batch_size=data.batch_size, shuffle=True,
                                         collate_fn=collate_items)
    steps, start = 0, time.process_time()
    for _ in range(epochs):
        for batch in loader:
            loss = F.cross_entropy(model(batch["inputs"], batch["present"]).logits, batch["target"])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            steps += 1
    return (time.process_time() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", default="joint,multiloss,mlb,ogm_ge")
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    data = ArrayDataModule(train=make_data(args.samples), batch_size=args.batch_size, val_fraction=0)
    labels = ["plain", *args.methods.split(",")]
    times: dict[str, list[float]] = {label: [] for label in labels}
    time_plain(data, args.hidden, 1)  # warm-up
    for repeat in range(args.repeats):
        shift = repeat % len(labels)
        for label in labels[shift:] + labels[:shift]:
            seconds = (time_plain(data, args.hidden, args.epochs) if label == "plain"
                       else time_method(label, data, args.hidden, args.epochs))
            times[label].append(seconds * 1e3)
    median = {label: statistics.median(values) for label, values in times.items()}
    print(f"batch {args.batch_size}, MLP 256/128 -> {args.hidden}x2, SGD, {args.threads} thread(s), "
          f"median of {args.repeats} runs of {args.epochs} epochs")
    print(f"{'run':<10} {'ms/step':>8} {'× joint':>8} {'× plain':>8}")
    for label in labels:
        print(f"{label:<10} {median[label]:8.3f} {median[label] / median.get('joint', median[label]):8.3f} "
              f"{median[label] / median['plain']:8.3f}")


if __name__ == "__main__":
    main()

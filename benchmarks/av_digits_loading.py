"""Is data loading the bottleneck on av-digits? Loader time per batch against the model's training step.

The av-digits loader computes spectrograms batch-wise on the fly (one
``torch.stft`` call per batch from the decoded waves held in memory); the
model step is one training step of the balancing configs' model (ResNet-18
width 8 per modality, late fusion, multi-loss, AdamW) on the same batch.
Both are timed in CPU seconds of one thread, interleaved, median of N.

    python benchmarks/av_digits_loading.py --root ../shared/data/fsdd [--batches 20]
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

from polymodal.balance import ModelView, StepContext, build_balancer
from polymodal.data.av_digits import AvDigitsDataModule
from polymodal.models.classifier import MultimodalClassifier


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", required=True)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--width", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = AvDigitsDataModule(root=args.root, batch_size=args.batch_size)
    loader = data.train_dataloader()
    model = MultimodalClassifier.from_info(data.info, encoder="resnet18", encoder_options={
        "audio": {"width": args.width}, "image": {"width": args.width, "downsample_stem": False}})
    balancer = build_balancer("multiloss")
    view = ModelView(model)
    balancer.setup(view)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    load, step = [], []
    batches = iter(loader)
    for _ in range(args.batches):
        start = time.process_time()
        batch = next(batches)
        load.append(time.process_time() - start)
        start = time.process_time()
        optimizer.zero_grad()
        output = model(batch["inputs"], batch["present"])
        balancer.loss(output, batch, view, StepContext()).total.backward()
        optimizer.step()
        step.append(time.process_time() - start)
    load_ms, step_ms = 1e3 * statistics.median(load), 1e3 * statistics.median(step)
    print(f"batch {args.batch_size}, ResNet-18 width {args.width}, 1 thread, median of {args.batches} batches")
    print(f"loading (spectrograms on the fly): {load_ms:.1f} ms/batch")
    print(f"model step:                        {step_ms:.1f} ms/batch")
    print(f"loading / step = {load_ms / step_ms:.3f}")


if __name__ == "__main__":
    main()

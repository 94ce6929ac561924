"""Benchmark-dataset speed: ``polymodal data prepare`` throughput and the CREMA-D reference training step.

``prepare`` writes a CREMA-D-format source at the release's own format
(``VideoFlash/*.flv``: FLV1 video 480 × 360 at 30 fps with an MP3 track;
``AudioWAV/*.wav``: 16 kHz PCM; clip lengths drawn from 1.5-4 s, the
release's range), then times ``prepare_release("cremad", ...)`` with each
``--jobs`` value in a fresh process and reads its peak memory (the main
process and the largest worker).

``step`` times training steps of the reference CREMA-D model (MLB; ResNet-18
width 64 on the ``[1, 257, 188]`` log spectrogram and on 3 frames of
224 × 224, frames folded into the batch; late linear fusion; AdamW) through
``Trainer.fit`` on a batch from the prepared folder, and the time the
DataLoader takes to build that batch::

    python benchmarks/paper_datasets.py prepare --clips 300 --jobs 1 2 --work /tmp/paper_bench
    python benchmarks/paper_datasets.py step --work /tmp/paper_bench --batch 32 --steps 4
    python benchmarks/paper_datasets.py load --work /tmp/paper_bench --threads 2
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np


def write_source(root: Path, clips: int, seed: int = 0) -> Path:
    """A CREMA-D-format folder of ``clips`` clips (91 actors' naming, six emotions)."""
    import av
    import soundfile

    rng = np.random.default_rng(seed)
    emotions = ["NEU", "HAP", "SAD", "FEA", "DIS", "ANG"]
    sentences = ["IEO", "TIE", "IOM", "IWW", "TAI", "MTI", "IWL", "ITH", "DFA", "ITS", "TSI", "WSI"]
    (root / "AudioWAV").mkdir(parents=True, exist_ok=True)
    (root / "VideoFlash").mkdir(parents=True, exist_ok=True)
    for i in range(clips):
        name = f"{1001 + i % 91}_{sentences[i // 91 % 12]}_{emotions[i % 6]}_XX"
        seconds = float(rng.uniform(1.5, 4.0))
        t = np.arange(int(seconds * 16000)) / 16000
        soundfile.write(root / "AudioWAV" / f"{name}.wav", 0.3 * np.sin(2 * np.pi * (200 + 50 * (i % 6)) * t), 16000)
        with av.open(str(root / "VideoFlash" / f"{name}.flv"), "w") as container:
            video = container.add_stream("flv", rate=30)
            video.width, video.height, video.pix_fmt = 480, 360, "yuv420p"
            sound = container.add_stream("mp3", rate=44100)
            sound.layout = "mono"
            base = rng.integers(0, 256, (360, 480, 3), dtype=np.uint8)
            for k in range(int(seconds * 30)):
                frame = av.VideoFrame.from_ndarray(np.roll(base, 4 * k, axis=1), format="rgb24")
                frame.pts = k
                container.mux(video.encode(frame))
            container.mux(video.encode())
            wave = (0.3 * np.sin(2 * np.pi * 220 * np.arange(int(seconds * 44100)) / 44100)).astype(np.float32)
            for start in range(0, len(wave), 1152):
                chunk = av.AudioFrame.from_ndarray(wave[None, start:start + 1152], format="flt", layout="mono")
                chunk.sample_rate, chunk.pts = 44100, start
                container.mux(sound.encode(chunk))
            container.mux(sound.encode())
    return root


def timed_prepare(src: str, out: str, jobs: int) -> None:
    """(Child process) prepare and print wall time and peak memory as JSON."""
    from polymodal.data.benchmarks.prepare import prepare_release

    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    report = prepare_release("cremad", src, out, jobs=jobs, progress=False)
    seconds = time.perf_counter() - start
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime - cpu_before
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "prepared": len(report.with_status("prepared")),
                      "skipped": len(report.with_status("skipped")),
                      "main_peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "worker_peak_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))


def run_prepare(args: argparse.Namespace) -> None:
    src = args.work / "src"
    if not (src / "VideoFlash").is_dir():
        start = time.perf_counter()
        write_source(src, args.clips)
        print(f"wrote {args.clips} CREMA-D-format clips in {time.perf_counter() - start:.0f} s")
    print("| jobs | clips | wall time | clips / minute | CPU time | clips / CPU-minute | peak memory (main, worker) |")
    print("|---|---|---|---|---|---|---|")
    for jobs in args.jobs:
        out = args.work / f"prepared-jobs{jobs}"
        result = json.loads(subprocess.run([sys.executable, __file__, "_prepare", str(src), str(out), str(jobs)],
                                           check=True, capture_output=True, text=True).stdout.splitlines()[-1])
        rate = result["prepared"] / result["seconds"] * 60
        per_cpu = result["prepared"] / result["cpu_seconds"] * 60
        print(f"| {jobs} | {result['prepared']} | {result['seconds']:.1f} s | {rate:.0f} | {result['cpu_seconds']:.1f} s | "
              f"{per_cpu:.0f} | {result['main_peak_mib']:.0f} MiB, {result['worker_peak_mib']:.0f} MiB |")


def run_step(args: argparse.Namespace) -> None:
    import lightning as L
    import torch

    from polymodal.data.benchmarks.av_datamodules import CremadDataModule
    from polymodal.balance import MLB
    from polymodal.tasks import SupervisedTask

    root = args.work / "prepared-jobs1"
    data = CremadDataModule(str(root), split="speaker", batch_size=args.batch, seed=109)
    start = time.perf_counter()
    batch = next(iter(data.train_dataloader()))
    load = time.perf_counter() - start
    task = SupervisedTask(balancer=MLB(alpha=0.5, beta_max=10.0), fusion="late", encoder="resnet18",
                          encoder_options={"width": 64}, data_info=data.info.to_dict())
    times: list[float] = []
    cpu: list[float] = []

    class Clock(L.Callback):
        def on_train_batch_start(self, *_):
            self.start, self.cpu = time.perf_counter(), time.process_time()

        def on_train_batch_end(self, *_):
            times.append(time.perf_counter() - self.start)
            cpu.append(time.process_time() - self.cpu)

    loader = torch.utils.data.DataLoader([batch] * args.steps, batch_size=None)
    trainer = L.Trainer(max_steps=args.steps, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[Clock()], limit_val_batches=0)
    trainer.fit(task, train_dataloaders=loader)
    params = sum(p.numel() for p in task.parameters()) / 1e6
    print(f"threads {torch.get_num_threads()}, batch {args.batch}: audio {tuple(batch['inputs']['audio'].shape)}, "
          f"video {tuple(batch['inputs']['video'].shape)}; {params:.1f} M parameters")
    print(f"DataLoader batch: {load:.2f} s; training steps, wall (s): {', '.join(f'{t:.2f}' for t in times)}; "
          f"median after the first: {np.median(times[1:]):.2f} s wall, {np.median(cpu[1:]):.2f} s CPU (all threads); "
          f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


def run_load(args: argparse.Namespace) -> None:
    """Time building training items (crops, flips, normalization) in this process."""
    import torch

    from polymodal.data.benchmarks.av_datamodules import CremadDataModule

    torch.set_num_threads(args.threads)
    train = CremadDataModule(str(args.work / "prepared-jobs1"), split="speaker", seed=109).splits["train"]
    start, cpu = time.perf_counter(), time.process_time()
    for index in range(args.items):
        train[index]
    wall, cpu = (time.perf_counter() - start) / args.items, (time.process_time() - cpu) / args.items
    print(f"{args.threads} torch threads: {wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU per training clip")


def main() -> None:
    if sys.argv[1:2] == ["_prepare"]:
        timed_prepare(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    prepare = commands.add_parser("prepare")
    prepare.add_argument("--clips", type=int, default=300)
    prepare.add_argument("--jobs", type=int, nargs="+", default=[1, 2])
    prepare.add_argument("--work", type=Path, required=True)
    step = commands.add_parser("step")
    step.add_argument("--work", type=Path, required=True)
    step.add_argument("--batch", type=int, default=32)
    step.add_argument("--steps", type=int, default=4)
    load = commands.add_parser("load")
    load.add_argument("--work", type=Path, required=True)
    load.add_argument("--items", type=int, default=64)
    load.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    {"prepare": run_prepare, "step": run_step, "load": run_load}[args.command](args)


if __name__ == "__main__":
    main()

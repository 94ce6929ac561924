"""Prepared audio-visual clips (``polymodal data prepare``) as a Dataset and DataModule.

A prepared folder holds ``manifest.json`` and one ``clips/<name>.npz`` per
clip (:mod:`polymodal.data.benchmarks.prepare`). Each item samples
``num_frames`` of the clip's 1 fps frames (random in training, evenly spaced
in evaluation, :func:`~polymodal.data.benchmarks.frames.sample_frames`),
augments them in training (random resized crop and flip) and normalizes them
(:func:`~polymodal.data.benchmarks.frames.frames_to_input`): ``video``
(or ``rgb``) ``[num_frames, 3, S, S]``; ``audio`` is the stored log
spectrogram ``[1, F, T]``, optionally a window of ``audio_steps`` steps
(random in training, centred in evaluation); ``flow`` ``[num_frames, 2, S, S]``
in ``[-1, 1]`` (u, v; 128 is no motion), only resized: flow gets no crops or
flips, whose sign handling the reference loaders do not specify.

Splits come from the manifest (a release's own lists) or, for datasets with
speakers, a seeded speaker-held-out split; a split without a validation part
gets one held out from train (by group where groups share a source video,
else stratified by class), seeded by ``seed``. When ``audio`` is used, clips
without sound are left out, and classes without any clip are dropped (UCF101:
the 51 classes with sound).
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from polymodal.data.benchmarks.frames import SAMPLINGS, frames_to_input, resize_frames, sample_frames
from polymodal.data.contract import Item
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.sleep.datamodule import split_by_subject
from polymodal.data.stratify import stratified_split
from polymodal.errors import PolymodalError

CLIPS_DIR = "clips"
MANIFEST_FILE = "manifest.json"
SPEAKER_SPLIT = "speaker"
SPEAKER_HELD_OUT = 0.1
"""Share of speakers in each of the test and validation parts of the speaker split."""


def read_manifest(root: Path, dataset: str) -> dict:
    """The manifest of a prepared folder, checked to belong to ``dataset``."""
    path = root / MANIFEST_FILE
    if not path.is_file():
        raise PolymodalError(f"{path}: no such file (expected a folder written by "
                             f"`polymodal data prepare {dataset} SRC --out {root}`: manifest.json, clips/*.npz)")
    try:
        manifest = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as err:
        raise PolymodalError(f"{path}: unreadable manifest ({err})") from None
    if manifest.get("dataset") != dataset:
        raise PolymodalError(f"{path}: prepared for {manifest.get('dataset')!r}, not {dataset!r}")
    return manifest


def has_array(path: Path, key: str) -> bool:
    """Whether the ``.npz`` at ``path`` holds array ``key`` (reads only the archive's index)."""
    with np.load(path, allow_pickle=False) as data:
        return key in data.files


class ClipDataset(Dataset):
    """Prepared clips as items ``{"inputs": {modality: Tensor}, "target": label}``.

    Args:
        root: the prepared folder.
        names: clip names.
        labels: class index of each clip.
        modalities: which of ``audio``, the frames (``video_name``) and ``flow`` to return.
        video_name: name of the frames modality (``video``, or ``rgb`` for UCF101).
        num_frames: frames per clip.
        sampling: frame sampling (``random``, ``uniform``, ``first``).
        frame_size: side of the frames given to the model.
        audio_steps: spectrogram window in steps (``None``: all).
        train: augment (random crops and flips, random audio window).
    """

    def __init__(self, root: Path, names: list[str], labels: list[int], modalities: tuple[str, ...],
                 video_name: str, num_frames: int, sampling: str, frame_size: int, audio_steps: int | None,
                 train: bool, class_names: tuple[str, ...]) -> None:
        self.root, self.names, self.labels = root, names, labels
        self.modalities, self.video_name = modalities, video_name
        self.num_frames, self.sampling, self.frame_size = num_frames, sampling, frame_size
        self.audio_steps, self.train, self.class_names = audio_steps, train, class_names

    def __len__(self) -> int:
        return len(self.names)

    def _load(self, index: int) -> dict[str, np.ndarray]:
        path = self.root / CLIPS_DIR / f"{self.names[index]}.npz"
        try:
            with np.load(path, allow_pickle=False) as data:
                return {key: data[key] for key in data.files}
        except (OSError, ValueError) as err:
            raise PolymodalError(f"{path}: unreadable prepared clip ({err})") from None

    def _audio(self, spectrogram: np.ndarray) -> Tensor:
        steps = spectrogram.shape[-1]
        if self.audio_steps is None or self.audio_steps >= steps:
            return torch.from_numpy(spectrogram)
        start = int(torch.randint(steps - self.audio_steps + 1, ())) if self.train else (steps - self.audio_steps) // 2
        return torch.from_numpy(spectrogram[..., start:start + self.audio_steps].copy())

    def __getitem__(self, index: int) -> Item:
        clip = self._load(index)
        chosen = sample_frames(len(clip["frames"]), self.num_frames, self.sampling)
        inputs = {}
        if "audio" in self.modalities:
            inputs["audio"] = self._audio(clip["spectrogram"])
        if self.video_name in self.modalities:
            inputs[self.video_name] = frames_to_input(clip["frames"][chosen], self.frame_size, self.train)
        if "flow" in self.modalities:
            flow = np.stack([resize_frames(plane, self.frame_size) for plane in clip["flow"][chosen].transpose(1, 0, 2, 3)], 1)
            inputs["flow"] = torch.from_numpy(flow.astype(np.float32) / 127.5 - 1.0)
        return {"inputs": inputs, "target": torch.tensor(self.labels[index])}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        item = self[0] if self.names else None
        if item is None:
            raise PolymodalError(f"{self.root}: a split without clips")
        return {m: tuple(x.shape) for m, x in item["inputs"].items()}

    def num_classes(self) -> int:
        return len(self.class_names)


class ClipDataModule(MultimodalDataModule):
    """A prepared audio-visual release (``polymodal data prepare NAME SRC --out ROOT``).

    Args:
        root: the prepared folder.
        split: a split of the manifest (``official``, ``split1``..``split3``) or ``speaker``
            (seeded speaker-held-out; CREMA-D); default: the dataset's.
        num_frames: frames per clip (3 for CREMA-D, 4 for AVE and UCF101 in the reference runs).
        train_sampling: frame sampling in training (``random``, ``uniform``, ``first``).
        eval_sampling: frame sampling in validation and test.
        frame_size: side of the frames given to the model (the prepared frames are resized).
        audio_steps: spectrogram window in steps (``None``: the whole prepared spectrogram).
        val_fraction: share of train held out for validation when the split has none.
        batch_size, num_workers, modalities, seed: see :class:`MultimodalDataModule`.
    """

    dataset = ""
    video_name = "video"
    default_split = "official"
    default_frames = 3
    default_audio_steps: int | None = None
    val_by_group = False

    def __init__(self, root: str, split: str | None = None, num_frames: int | None = None,
                 train_sampling: str = "random", eval_sampling: str = "uniform", frame_size: int = 224,
                 audio_steps: int | None = None, val_fraction: float = 0.1, batch_size: int = 32,
                 num_workers: int = 0, modalities: list[str] | None = None, seed: int = 0) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction=0.0, seed=seed)
        for sampling in (train_sampling, eval_sampling):
            if sampling not in SAMPLINGS:
                raise PolymodalError(f"unknown frame sampling {sampling!r}; choose one of: {', '.join(SAMPLINGS)}")
        self.root = Path(root)
        self.split = split
        self.num_frames = num_frames or self.default_frames
        self.samplings = {"train": train_sampling, "val": eval_sampling, "test": eval_sampling}
        self.frame_size = frame_size
        self.audio_steps = audio_steps or self.default_audio_steps
        self.held_out = val_fraction

    def describe(self) -> str:
        return f"{self.dataset} ({self.chosen_split} split) from {self.root}"

    @cached_property
    def manifest(self) -> dict:
        return read_manifest(self.root, self.dataset)

    @property
    def chosen_split(self) -> str:
        return self.split or self.default_split

    def available_modalities(self) -> tuple[str, ...]:
        clip = next(iter(self.manifest["clips"]), None)
        flow = clip is not None and has_array(self.root / CLIPS_DIR / f"{clip}.npz", "flow")
        return ("audio", self.video_name) + (("flow",) if flow else ())

    def split_names(self, clips: dict[str, dict]) -> dict[str, list[str]]:
        """Clip names of train / val / test (only clips in ``clips``)."""
        split = self.chosen_split
        if split == SPEAKER_SPLIT:
            return split_by_subject({c: info["group"] for c, info in clips.items()}, SPEAKER_HELD_OUT,
                                    SPEAKER_HELD_OUT, self.seed)
        if split not in self.manifest["splits"]:
            choices = ", ".join(list(self.manifest["splits"]) + ([SPEAKER_SPLIT] if self.dataset == "cremad" else []))
            raise PolymodalError(f"{self.root}: no split {split!r}; this folder has: {choices or 'none'}")
        parts = {part: [c for c in names if c in clips] for part, names in self.manifest["splits"][split].items()}
        if "val" not in parts and self.held_out > 0:
            parts["train"], parts["val"] = self.hold_out(parts["train"], clips)
            if not parts["val"] or not parts["train"]:
                raise PolymodalError(f"{self.root}: holding out val_fraction={self.held_out} of the "
                                     f"{len(parts['train']) + len(parts['val'])} training clips leaves an empty part")
        return parts

    def hold_out(self, names: list[str], clips: dict[str, dict]) -> tuple[list[str], list[str]]:
        """Split training clips into (train, val): whole groups, or stratified by class."""
        if self.val_by_group:
            parts = split_by_subject({c: clips[c]["group"] for c in names}, self.held_out, 0.0, self.seed)
            return parts["train"], parts.get("val", [])
        labels = np.array([clips[c]["label"] for c in names])
        val, train = stratified_split(labels, [self.held_out], self.seed)
        return [names[i] for i in train], [names[i] for i in val]

    def build_splits(self) -> dict[str, ClipDataset]:
        available = self.available_modalities()
        modalities = tuple(self.requested_modalities or available)
        for m in modalities:
            if m not in available:
                raise PolymodalError(f"modality {m!r} is not in the data; it has: {', '.join(available)}")
        clips = {c: info for c, info in self.manifest["clips"].items() if info["audio"] or "audio" not in modalities}
        parts = self.split_names(clips)
        present = sorted({clips[c]["label"] for names in parts.values() for c in names})
        if not present:
            raise PolymodalError(f"{self.root}: no prepared clips in the {self.chosen_split!r} split")
        remap = {label: i for i, label in enumerate(present)}
        class_names = tuple(self.manifest["classes"][label] for label in present)
        return {part: ClipDataset(self.root, names, [remap[clips[c]["label"]] for c in names], modalities,
                                  self.video_name, self.num_frames, self.samplings[part], self.frame_size,
                                  self.audio_steps, part == "train", class_names)
                for part, names in parts.items() if names}

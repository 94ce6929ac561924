"""``SleepDataModule``: prepared nights split by subject into L-epoch sequence datasets.

Splits are by subject (CoRe-Sleep, arXiv 2304.06485: SHHS-1 fold 0 holds
3,724 / 100 / 1,639 subjects), drawn with a seed or read from a JSON file
``{"train": [night ids], "val": [...], "test": [...]}``. The modalities are
those of the prepared nights (``eeg`` and ``eog`` unless prepared from other
channels). Training nights can be made to miss one modality entirely (a
chosen fraction of nights per modality, disjoint nights) to train one model
on incomplete data, and a share of the training
sequences can have one modality corrupted (noise, modality still present;
:mod:`polymodal.data.sleep.augment`). Spectrograms are z-scored with
statistics of the training nights (saved in the cache). With
``require_all_stages`` the nights lacking a stage are left out before the
split (the SHHS benchmark's cohort; :mod:`polymodal.data.sleep.curation`)
and named in a message.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from lightning.pytorch.utilities import rank_zero_info

from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.sleep.augment import CorruptedTrainingDataset, training_corruptions
from polymodal.data.sleep.cache import night_path, prepared_nights, read_texts
from polymodal.data.sleep.curation import describe_excluded, missing_stages
from polymodal.data.sleep.dataset import SleepSequenceDataset
from polymodal.data.sleep.stats import training_stats
from polymodal.errors import PolymodalError

DEFAULT_VAL_FRACTION = 0.1
DEFAULT_TEST_FRACTION = 0.3


def split_by_subject(subjects: dict[str, str], val_fraction: float, test_fraction: float, seed: int) -> dict[str, list[str]]:
    """Night ids of each split, with all nights of a subject in the same split.

    ``round(fraction × subjects)`` subjects (at least one when the fraction
    is positive) go to test and to validation, the rest to train.
    """
    names = sorted(set(subjects.values()))
    order = np.random.default_rng(seed).permutation(len(names))
    n_test = max(1, round(len(names) * test_fraction)) if test_fraction > 0 else 0
    n_val = max(1, round(len(names) * val_fraction)) if val_fraction > 0 else 0
    if n_test + n_val >= len(names):
        raise PolymodalError(f"{len(names)} subjects cannot fill train, val ({val_fraction}) and test ({test_fraction}) splits")
    split_of = {}
    for rank, position in enumerate(order):
        split_of[names[position]] = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
    splits = {split: sorted(n for n, s in subjects.items() if split_of[s] == split) for split in ("train", "val", "test")}
    return {split: nights for split, nights in splits.items() if nights}


def read_split_file(path: Path, available: list[str]) -> dict[str, list[str]]:
    """Night ids per split from a JSON file; unknown or repeated nights are errors."""
    try:
        splits = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise PolymodalError(f"{path}: cannot read the split file ({exc})") from exc
    if not isinstance(splits, dict) or "train" not in splits or not set(splits) <= {"train", "val", "test"}:
        raise PolymodalError(f"{path}: expected a JSON object with 'train' and optional 'val' / 'test' lists of night ids")
    seen: set[str] = set()
    for split, nights in splits.items():
        for night in nights:
            if night not in available:
                raise PolymodalError(f"{path}: night {night!r} ({split}) is not in the cache")
            if night in seen:
                raise PolymodalError(f"{path}: night {night!r} is in two splits")
            seen.add(night)
    return {split: list(nights) for split, nights in splits.items() if nights}


class SleepDataModule(MultimodalDataModule):
    """Sleep-staging sequences from a cache written by ``polymodal sleep prepare``.

    Args:
        cache_dir: the prepared cache.
        seq_len: epochs per sequence (L).
        train_stride: epochs between training windows.
        eval_stride: epochs between validation/test windows (1: sliding evaluation).
        test_fraction: share of subjects held out for testing.
        split_file: JSON ``{"train": [...], "val": [...], "test": [...]}`` of night
            ids, used instead of the seeded split (``val_fraction`` is then unused).
        missing_fractions: modality → share of training nights without it, e.g.
            ``{"eeg": 0.3, "eog": 0.3}`` (disjoint nights; the shares sum to at most 1).
        missing_eeg_fraction: alias of ``missing_fractions={"eeg": ...}``.
        missing_eog_fraction: alias of ``missing_fractions={"eog": ...}``.
        train_corruption_probability: share of training sequences given one corruption
            (drawn anew each time a sequence is served).
        train_corruptions: ``<modality>_<corruption>`` names drawn from uniformly (among
            those whose modality the sequence holds), e.g. ``["eeg_gauss_snr-5to10",
            "eog_gauss_snr-5to10"]``; see :mod:`polymodal.data.sleep.corruptions`.
        batch_size, num_workers, modalities, val_fraction, seed: as in
            :class:`~polymodal.data.datamodule.MultimodalDataModule`; the
            validation split is drawn by subject.
        require_all_stages: leave out the nights whose prepared epochs lack one
            of the five stages (SleepTransformer / CoRe-Sleep SHHS cohort), also
            from a split file's lists; ``excluded_nights`` maps each to the
            stages it lacks.
    """

    def __init__(
        self,
        cache_dir: str,
        seq_len: int = 21,
        train_stride: int = 21,
        eval_stride: int = 21,
        test_fraction: float = DEFAULT_TEST_FRACTION,
        split_file: str | None = None,
        missing_fractions: dict[str, float] | None = None,
        missing_eeg_fraction: float | None = None,
        missing_eog_fraction: float | None = None,
        train_corruption_probability: float = 0.0,
        train_corruptions: list[str] | None = None,
        batch_size: int = 16,
        num_workers: int = 0,
        modalities: list[str] | None = None,
        val_fraction: float = DEFAULT_VAL_FRACTION,
        seed: int = 0,
        require_all_stages: bool = False,
    ) -> None:
        super().__init__(batch_size=batch_size, num_workers=num_workers, modalities=modalities,
                         val_fraction=0.0 if split_file else val_fraction, seed=seed)
        self.missing_fractions = _missing_fractions(missing_fractions, {"eeg": missing_eeg_fraction,
                                                                        "eog": missing_eog_fraction})
        for name, fraction in (("test_fraction", test_fraction), ("val_fraction", val_fraction),
                               ("train_corruption_probability", train_corruption_probability)):
            if not 0.0 <= fraction <= 1.0:
                raise PolymodalError(f"{name} must lie in [0, 1], got {fraction}")
        self.cache_dir = Path(cache_dir)
        self.seq_len = seq_len
        self.train_stride = train_stride
        self.eval_stride = eval_stride
        self.test_fraction = test_fraction
        self.split_file = split_file
        self.train_corruption_probability = train_corruption_probability
        self.require_all_stages = require_all_stages
        self.excluded_nights: dict[str, list[str]] = {}
        self.train_corruptions = list(train_corruptions or [])
        if train_corruption_probability > 0 and not self.train_corruptions:
            raise PolymodalError("train_corruption_probability > 0 needs train_corruptions, e.g. ['eeg_gauss_snr-5to10']")

    def describe(self) -> str:
        return f"sleep cache {self.cache_dir}"

    def night_splits(self) -> dict[str, list[str]]:
        """Night ids of each split."""
        available = prepared_nights(self.cache_dir) if self.cache_dir.is_dir() else []
        if not available:
            raise PolymodalError(f"{self.cache_dir}: no prepared nights (run `polymodal sleep prepare` first)")
        if self.split_file:
            splits = read_split_file(Path(self.split_file), available)
            available = [night for nights in splits.values() for night in nights]
        if self.require_all_stages:
            self.excluded_nights = missing_stages(self.cache_dir, available)
            rank_zero_info(describe_excluded(self.excluded_nights, len(available)))
            available = [night for night in available if night not in self.excluded_nights]
        if self.split_file:
            kept = {split: [n for n in nights if n in available] for split, nights in splits.items()}
            return {split: nights for split, nights in kept.items() if nights}
        subjects = {night: read_texts(night_path(self.cache_dir, night))["subject"] for night in available}
        return split_by_subject(subjects, self.val_fraction, self.test_fraction, self.seed)

    def missing_nights(self, train_nights: list[str]) -> dict[str, str]:
        """Training night id → the modality it is made to miss (seeded, disjoint nights)."""
        order = [train_nights[i] for i in np.random.default_rng(self.seed + 1).permutation(len(train_nights))]
        missing, start = {}, 0
        for modality, fraction in self.missing_fractions.items():
            count = round(len(order) * fraction)
            missing.update({night: modality for night in order[start:start + count]})
            start += count
        return missing

    def build_splits(self) -> dict[str, SleepSequenceDataset | CorruptedTrainingDataset]:
        nights = self.night_splits()
        stats = training_stats(self.cache_dir, nights["train"])
        unknown = [m for m in self.missing_fractions if m not in stats.modalities]
        if unknown:
            raise PolymodalError(f"missing_fractions: the data has no modality {unknown[0]!r}; it has: "
                                 f"{', '.join(stats.modalities)}")
        corruptions = training_corruptions(self.train_corruptions, stats.modalities)
        datasets = {}
        for split, ids in nights.items():
            train = split == "train"
            datasets[split] = SleepSequenceDataset(
                self.cache_dir, ids, stats, self.seq_len, self.train_stride if train else self.eval_stride,
                missing=self.missing_nights(ids) if train else None, source=f"{self.cache_dir.name}/{split}",
            )
        if self.train_corruption_probability > 0 and "train" in datasets:
            datasets["train"] = CorruptedTrainingDataset(datasets["train"], corruptions,
                                                         self.train_corruption_probability)
        return datasets


def _missing_fractions(fractions: dict[str, float] | None, aliases: dict[str, float | None]) -> dict[str, float]:
    """The modality → fraction mapping, with the ``missing_<m>_fraction`` aliases merged in; checked."""
    merged = dict(fractions or {})
    for modality, fraction in aliases.items():
        if fraction is None:
            continue
        if merged.get(modality, fraction) != fraction:
            raise PolymodalError(f"missing_{modality}_fraction={fraction} disagrees with "
                                 f"missing_fractions[{modality!r}]={merged[modality]}")
        merged[modality] = fraction
    for modality, fraction in merged.items():
        if not 0.0 <= fraction <= 1.0:
            raise PolymodalError(f"missing_fractions[{modality!r}] must lie in [0, 1], got {fraction}")
    if sum(merged.values()) > 1.0:
        raise PolymodalError(f"missing fractions {merged} must not exceed 1 in sum (a night keeps one modality)")
    return {modality: fraction for modality, fraction in merged.items() if fraction > 0}

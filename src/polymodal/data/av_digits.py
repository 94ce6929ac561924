"""``av-digits``: spoken digits (FSDD) paired with handwritten digits, an offline AV-MNIST.

AV-MNIST (Vielzeuf et al., CentralNet, arXiv 1808.07275; MultiBench) pairs
spoken digits with MNIST images of the same class. Here the audio is the
real FSDD speech (:mod:`polymodal.data.fsdd`), turned into the OGM-GE / MLB
input — a ``1 × 257 × T`` linear log spectrogram (n_fft 512) or a log-mel
one (:mod:`polymodal.data.audio`) — and every recording is paired with one
image of the same digit from scikit-learn's 8 × 8 digits, or from MNIST when
``mnist`` names a folder of IDX files (:mod:`polymodal.data.digit_images`).
Image pools are disjoint across splits.

Modalities: ``audio`` ``[1, F, T]``, ``image`` ``[1, H, W]`` and, on
request only, ``caption`` — "an image of a {digit}" as one-hot tokens
``[5, V]``, the third modality of the ConFu AV-MNIST experiment
(arXiv 2511.21331). A caption names the label, so it is left out unless asked
for (``modalities: [audio, image, caption]``). Every modality carries the
digit as its retrieval content key.

Splits: FSDD's official split (takes 0–4 test) or a held-out speaker;
validation is a seeded stratified share of the training recordings.
Degradations of the AV-MNIST recipe: image energy removal by PCA
(``image_energy``) and white noise on the audio at an SNR (``audio_snr_db``),
both fixed at build time from the seed; on-the-fly training augmentation is a
random circular time shift and noise at an SNR.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

from polymodal.data.audio import FrontEnd, add_noise, time_shift
from polymodal.data.captions import digit_captions
from polymodal.data.contract import Batch, Item
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.digit_images import image_pools, pair_by_class, remove_energy, within_class_rank
from polymodal.data.fsdd import SAMPLE_RATE, fsdd_root, held_out_for_test, list_recordings, load_waves
from polymodal.data.stratify import stratified_split
from polymodal.errors import PolymodalError

MODALITIES = ("audio", "image", "caption")
DEFAULT_MODALITIES = ("audio", "image")
CLASS_NAMES = tuple(str(d) for d in range(10))


@dataclass(frozen=True)
class Augmentation:
    """Training-time audio augmentation: circular shift up to ``max_shift`` samples, noise at ``snr_db``."""

    max_shift: int = 0
    snr_db: float | None = None

    def __call__(self, waves: Tensor) -> Tensor:
        """Draws from torch's global generator: seeded by ``--seed``, and per DataLoader worker."""
        if self.max_shift:
            waves = time_shift(waves, self.max_shift)
        if self.snr_db is not None:
            waves = add_noise(waves, self.snr_db)
        return waves


class AvDigitsDataset(Dataset):
    """One split: waves turned into spectrograms per batch, paired images, optional captions.

    Args:
        waves: ``[N, L]`` fixed-length waves.
        images: ``[N, 1, H, W]`` paired images.
        digits: ``[N]`` labels.
        modalities: the modalities to return, among ``audio``, ``image``, ``caption``.
        front_end: the spectrogram recipe.
        audio_stats: ``(mean, std)`` of the training spectrograms (scalar z-scoring).
        augmentation: applied to the waves of every fetched batch (training split), or None.
    """

    def __init__(self, waves: Tensor, images: Tensor, digits: np.ndarray, modalities: tuple[str, ...],
                 front_end: FrontEnd, audio_stats: tuple[float, float], augmentation: Augmentation | None = None,
                 source: str = "av-digits") -> None:
        self.waves, self.images = waves, images
        self.targets = torch.as_tensor(digits, dtype=torch.long)
        self.captions = torch.from_numpy(digit_captions(digits)[1]) if "caption" in modalities else None
        self.modalities = modalities
        self.front_end, self.audio_stats = front_end, audio_stats
        self.augmentation = augmentation
        self.source = source
        self.class_names = CLASS_NAMES

    def __len__(self) -> int:
        return len(self.targets)

    def spectrograms(self, index: Tensor) -> Tensor:
        waves = self.waves[index]
        if self.augmentation is not None:
            waves = self.augmentation(waves)
        mean, std = self.audio_stats
        return (self.front_end(waves) - mean) / std

    def __getitems__(self, indices: list[int]) -> Batch:
        index = torch.as_tensor(indices, dtype=torch.long)
        sources = {"audio": lambda: self.spectrograms(index), "image": lambda: self.images[index],
                   "caption": lambda: self.captions[index]}
        targets = self.targets[index]
        return {
            "inputs": {m: sources[m]() for m in self.modalities},
            "target": targets,
            "present": {m: torch.ones(len(index), dtype=torch.bool) for m in self.modalities},
            "keys": {m: targets for m in self.modalities},
        }

    def __getitem__(self, index: int) -> Item:
        batch = self.__getitems__([index])
        return {key: ({m: v[0] for m, v in value.items()} if isinstance(value, dict) else value[0])
                for key, value in batch.items()}

    def shapes(self) -> dict[str, tuple[int, ...]]:
        shapes = {"audio": self.front_end.shape, "image": tuple(self.images.shape[1:])}
        if self.captions is not None:
            shapes["caption"] = tuple(self.captions.shape[1:])
        return {m: shapes[m] for m in self.modalities}

    def num_classes(self) -> int:
        return len(CLASS_NAMES)


class AvDigitsDataModule(MultimodalDataModule):
    """Spoken digits (FSDD) + handwritten digits (scikit-learn or MNIST) + optional captions.

    Args:
        root: the FSDD folder holding ``recordings/`` (default ``$POLYMODAL_DATA/fsdd``).
        mnist: a folder of MNIST IDX files to use instead of the 8 × 8 digits.
        test_speaker: hold out this speaker as the test set (default: FSDD's
            official split, takes 0–4 of everyone).
        val_fraction: share of every digit's training recordings held out for validation.
        max_per_class: keep at most this many recordings per digit in each
            split (a seeded subset for quick runs); None keeps all.
        seconds: audio length after zero padding or cropping (FSDD clips are 0.1–2.3 s).
        features: ``linear`` (``1 × (n_fft/2+1) × T`` log spectrogram) or ``mel``.
        n_fft: STFT size (512: the reference 257 frequency bins).
        hop: STFT hop in samples.
        n_mels: mel bands when ``features = mel``.
        image_energy: share of the image variance kept by PCA energy removal (1: none).
        audio_snr_db: white noise added to every recording at this SNR (None: none).
        augment_shift: training-time random circular shift, at most this many seconds.
        augment_snr_db: training-time white noise at this SNR (None: none).
        cache_dir: keep the decoded waves in an ``.npz`` there (None: read the WAVs every time).
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        modalities: among ``audio``, ``image``, ``caption`` (default ``[audio, image]``).
        seed: fixes the validation split, image pools and pairing, and the degradations
            (augmentation draws from torch's generator, which `--seed` seeds).
    """

    def __init__(
        self,
        root: str | None = None,
        mnist: str | None = None,
        test_speaker: str | None = None,
        val_fraction: float = 0.1,
        max_per_class: int | None = None,
        seconds: float = 1.0,
        features: Literal["linear", "mel"] = "linear",
        n_fft: int = 512,
        hop: int = 128,
        n_mels: int = 64,
        image_energy: float = 1.0,
        audio_snr_db: float | None = None,
        augment_shift: float = 0.0,
        augment_snr_db: float | None = None,
        cache_dir: str | None = None,
        batch_size: int = 32,
        num_workers: int = 0,
        modalities: list[str] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, modalities or list(DEFAULT_MODALITIES), val_fraction=0.0, seed=seed)
        if not 0 < val_fraction < 1:
            raise PolymodalError(f"val_fraction must be in (0, 1), got {val_fraction}")
        if max_per_class is not None and max_per_class < 1:
            raise PolymodalError(f"max_per_class must be >= 1, got {max_per_class}")
        unknown = [m for m in self.requested_modalities if m not in MODALITIES]
        if unknown:
            raise PolymodalError(f"modality {unknown[0]!r} is not in the data; it has: {', '.join(MODALITIES)}")
        self.root, self.mnist, self.test_speaker = root, mnist, test_speaker
        self.held_out_share, self.max_per_class = val_fraction, max_per_class
        self.front_end = FrontEnd(SAMPLE_RATE, seconds, features, n_fft, hop, n_mels)
        self.image_energy, self.audio_snr_db = image_energy, audio_snr_db
        self.cache_dir = cache_dir
        self.augmentation = Augmentation(int(round(augment_shift * SAMPLE_RATE)), augment_snr_db)

    def describe(self) -> str:
        split = f"test speaker {self.test_speaker}" if self.test_speaker else "official split"
        return f"av-digits ({'+'.join(self.requested_modalities)}; {split}; seed {self.seed})"

    def split_indices(self, digits: np.ndarray, is_test: np.ndarray) -> dict[str, np.ndarray]:
        """Recording indices per split: test as given, val a stratified share of the rest, then the subset cap."""
        rest = np.flatnonzero(~is_test)
        val, train = stratified_split(digits[rest], (self.held_out_share,), self.seed)
        if not len(val):
            raise PolymodalError(f"val_fraction {self.held_out_share} holds out no recording of {len(rest)}")
        parts = {"train": rest[train], "val": rest[val], "test": np.flatnonzero(is_test)}
        if self.max_per_class is None:
            return parts
        rng = np.random.default_rng(self.seed)
        shuffled = {split: rng.permutation(index) for split, index in parts.items()}
        return {split: np.sort(index[within_class_rank(digits[index]) < self.max_per_class])
                for split, index in shuffled.items()}

    def build_splits(self) -> dict[str, AvDigitsDataset]:
        recordings = list_recordings(fsdd_root(self.root))
        parts = self.split_indices(recordings.digits, held_out_for_test(recordings, self.test_speaker))
        sizes = np.array([len(parts[s]) for s in ("train", "val", "test")], dtype=np.float64)
        pools = image_pools(self.mnist, tuple(sizes / sizes.sum()), self.seed)
        paired = {split: pair_by_class(recordings.digits[index], pools[split][1], self.seed + offset,
                                       f"{split} image pool")
                  for offset, (split, index) in enumerate(parts.items())}
        images = np.concatenate([pools[split][0][paired[split]] for split in parts])
        images = remove_energy(images, pools["train"][0], self.image_energy)
        images = dict(zip(parts, np.split(images, np.cumsum([len(i) for i in parts.values()])[:-1]), strict=True))
        used = recordings.select(np.concatenate(list(parts.values())))
        waves = torch.from_numpy(load_waves(used, self.front_end.seconds, self.cache_dir))
        waves = dict(zip(parts, waves.split([len(index) for index in parts.values()]), strict=True))
        if self.audio_snr_db is not None:
            generator = torch.Generator().manual_seed(self.seed)
            waves = {split: add_noise(w, self.audio_snr_db, generator) for split, w in waves.items()}
        stats = self.audio_statistics(waves["train"])
        return {
            split: AvDigitsDataset(waves[split], torch.from_numpy(images[split]), recordings.digits[index],
                                   tuple(self.requested_modalities), self.front_end, stats,
                                   self.augmentation if split == "train" else None, f"av-digits {split}")
            for split, index in parts.items()
        }

    def audio_statistics(self, waves: Tensor, chunk: int = 256) -> tuple[float, float]:
        """Mean and std of all training spectrogram values (computed in chunks of ``chunk`` waves)."""
        total = total_sq = count = 0.0
        for part in waves.split(chunk):
            spectrograms = self.front_end(part).double()
            total += float(spectrograms.sum())
            total_sq += float(spectrograms.square().sum())
            count += spectrograms.numel()
        mean = total / count
        return mean, max(total_sq / count - mean**2, 1e-12) ** 0.5

"""The Free Spoken Digit Dataset (FSDD): locating, listing and splitting its recordings.

FSDD (Jackson et al., github.com/Jakobovski/free-spoken-digit-dataset,
CC BY-SA 4.0) holds mono 8 kHz WAV recordings named
``recordings/{digit}_{speaker}_{take}.wav``: 6 speakers × 10 digits × 50
takes. Its README's official split puts takes 0–4 of every speaker and digit
in the test set and takes 5–49 in the training set; holding out whole
speakers is the harder alternative.

Waves can be cached once per set of recordings (``cache_dir``): an
``.npz`` named by a digest of the file names, sizes, modification times and
the clip length, so a changed folder or length is read afresh.

The data folder is ``--data.root`` (the folder holding ``recordings/``) or,
when that is not given, ``$POLYMODAL_DATA/fsdd``. ``polymodal data download
fsdd --to DIR`` fetches it (see :mod:`polymodal.data.download`).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from polymodal.data.audio import fix_length, read_wav
from polymodal.data.feature_cache import cached_arrays
from polymodal.errors import PolymodalError

DATA_ENV = "POLYMODAL_DATA"
SAMPLE_RATE = 8000
OFFICIAL_TEST_TAKES = 5
"""Takes ``0 .. 4`` of every speaker and digit form the official test set."""
NAME_PATTERN = re.compile(r"^(\d)_([a-z]+)_(\d+)\.wav$")
HOW_TO_GET = "get it with `polymodal data download fsdd --to DIR` and pass --data.root DIR"


def fsdd_root(root: str | Path | None) -> Path:
    """The FSDD folder: ``root``, else ``$POLYMODAL_DATA/fsdd``; it must hold ``recordings/*.wav``."""
    if root is None:
        base = os.environ.get(DATA_ENV)
        if not base:
            raise PolymodalError(f"no FSDD folder given: pass --data.root DIR or set {DATA_ENV}; {HOW_TO_GET}")
        root = Path(base) / "fsdd"
    root = Path(root).expanduser()
    recordings = root / "recordings"
    if not recordings.is_dir() or not any(recordings.glob("*.wav")):
        raise PolymodalError(f"{recordings}: no FSDD recordings (*.wav) there; {HOW_TO_GET}")
    return root


@dataclass(frozen=True)
class Recordings:
    """The listing of an FSDD folder: one entry per WAV file, sorted by name."""

    paths: tuple[Path, ...]
    digits: np.ndarray
    speakers: tuple[str, ...]
    takes: np.ndarray

    def __len__(self) -> int:
        return len(self.paths)

    def select(self, index: np.ndarray) -> Recordings:
        return Recordings(tuple(self.paths[i] for i in index), self.digits[index],
                          tuple(self.speakers[i] for i in index), self.takes[index])


def list_recordings(root: Path) -> Recordings:
    """Every ``{digit}_{speaker}_{take}.wav`` of ``root/recordings``; other names are an error."""
    paths = sorted((root / "recordings").glob("*.wav"))
    parsed = [NAME_PATTERN.match(p.name) for p in paths]
    bad = next((p for p, match in zip(paths, parsed, strict=True) if match is None), None)
    if bad is not None:
        raise PolymodalError(f"{bad}: not an FSDD recording name ({{digit}}_{{speaker}}_{{take}}.wav)")
    return Recordings(
        paths=tuple(paths),
        digits=np.array([int(m.group(1)) for m in parsed], dtype=np.int64),
        speakers=tuple(m.group(2) for m in parsed),
        takes=np.array([int(m.group(3)) for m in parsed], dtype=np.int64),
    )


def held_out_for_test(recordings: Recordings, test_speaker: str | None) -> np.ndarray:
    """Boolean ``[N]``: the official test takes (0–4), or all recordings of ``test_speaker``."""
    if test_speaker is None:
        return recordings.takes < OFFICIAL_TEST_TAKES
    speakers = np.asarray(recordings.speakers)
    if test_speaker not in set(recordings.speakers):
        raise PolymodalError(
            f"test_speaker {test_speaker!r} is not in the recordings; speakers: {', '.join(sorted(set(speakers)))}"
        )
    return speakers == test_speaker


def read_waves(recordings: Recordings, seconds: float) -> np.ndarray:
    """All recordings as ``[N, seconds · 8000]`` float32 waves, cropped or zero-padded at the end."""
    length = int(round(seconds * SAMPLE_RATE))
    waves = np.zeros((len(recordings), length), dtype=np.float32)
    for row, path in zip(waves, recordings.paths, strict=True):
        row[:] = fix_length(read_wav(path, SAMPLE_RATE), length)
    return waves


def load_waves(recordings: Recordings, seconds: float, cache_dir: str | Path | None = None) -> np.ndarray:
    """:func:`read_waves`, through an ``.npz`` cache in ``cache_dir`` when one is given."""
    if cache_dir is None:
        return read_waves(recordings, seconds)
    lines = [f"seconds {seconds!r} rate {SAMPLE_RATE}"]
    lines += [f"{p.resolve()} {p.stat().st_size} {p.stat().st_mtime_ns}" for p in recordings.paths]
    recipe = hashlib.sha256("\n".join(lines).encode()).hexdigest()
    path = Path(cache_dir).expanduser() / f"fsdd-waves-{recipe[:16]}.npz"
    return cached_arrays(path, recipe, lambda: {"waves": read_waves(recordings, seconds)})["waves"]

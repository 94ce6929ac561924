"""CREMA-D (Cao et al., IEEE TAC 2014): 7,442 clips of 91 actors, six emotions.

The release (``github.com/CheyneyComputerScience/CREMA-D``) holds
``AudioWAV/<name>.wav`` (16 kHz) and ``VideoFlash/<name>.flv``; a name
``1001_DFA_ANG_XX`` is actor, sentence, emotion, intensity. Classes are in
the order of OGM-GE's loader (``dataset/CramedDataset.py``): NEU, HAP, SAD,
FEA, DIS, ANG.

Splits: OGM-GE's split files (``data/CREMAD/train.csv`` / ``test.csv``,
lines ``<name>,<EMO>``; 6,698 / 744 clips) are used when ``train.csv`` and
``test.csv`` lie in the source folder, as the ``official`` split; the
DataModule also offers a seeded speaker-held-out split (``speaker``), which
is the default when the source has no split files.

Inputs (OGM-GE / MLB): 1 fps frames; audio at 22.05 kHz tiled to 3 s, STFT
``n_fft`` 512, hop 353, ``log(|X| + 1e-7)`` → ``[1, 257, 188]``.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from polymodal.data.benchmarks.sources import ClipSource, Discovery, Problem, Recipe, require_dir

CLASSES = ["NEU", "HAP", "SAD", "FEA", "DIS", "ANG"]
RECIPE = Recipe(sample_rate=22050, seconds=3.0, n_fft=512, hop=353)
LAYOUT = "CREMA-D: AudioWAV/<actor>_<sentence>_<EMO>_<level>.wav, VideoFlash/<same>.flv, optional train.csv/test.csv"
NAME = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
SPLIT_FILES = {"train": "train.csv", "test": "test.csv"}


def read_split_csv(path: Path) -> list[tuple[str, str]]:
    """``(name, emotion)`` rows of an OGM-GE split file (a BOM is tolerated)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return [(row[0].strip(), row[1].strip()) for row in csv.reader(handle) if len(row) >= 2]


def discover(src: Path) -> Discovery:
    """Clips of a CREMA-D folder, with OGM-GE's split when its files are there."""
    wavs = {p.stem: p for p in require_dir(src / "AudioWAV", LAYOUT).glob("*.wav")}
    videos = {p.stem: p for p in require_dir(src / "VideoFlash", LAYOUT).glob("*.flv")}
    found = Discovery(list(CLASSES), [])
    for name in sorted(set(wavs) | set(videos)):
        files = ", ".join(p.name for p in (wavs.get(name), videos.get(name)) if p)
        match = NAME.match(name)
        if match is None:
            found.problems.append(Problem(name, files, "name is not <actor>_<sentence>_<EMO>_<level>"))
        elif match.group(3) not in CLASSES:
            found.problems.append(Problem(name, files, f"label {match.group(3)!r} is not in the class list {', '.join(CLASSES)}"))
        elif name not in wavs:
            found.problems.append(Problem(name, files, f"no AudioWAV/{name}.wav"))
        elif name not in videos:
            found.problems.append(Problem(name, files, f"no VideoFlash/{name}.flv"))
        else:
            found.items.append(ClipSource(name, CLASSES.index(match.group(3)), videos[name], wavs[name],
                                          group=match.group(1)))
    paths = {split: src / file for split, file in SPLIT_FILES.items()}
    if all(p.is_file() for p in paths.values()):
        usable = {item.clip_id for item in found.items}
        found.splits["official"] = {}
        for split, path in paths.items():
            rows = read_split_csv(path)
            found.splits["official"][split] = [name for name, _ in rows if name in usable]
            missing = [name for name, _ in rows if name not in usable and name not in wavs and name not in videos]
            found.problems += [Problem(name, path.name, f"listed in {path.name} but not in AudioWAV/ or VideoFlash/")
                               for name in missing]
        found.notes.append("split 'official': OGM-GE's train.csv / test.csv from the source folder")
    else:
        found.notes.append("no train.csv / test.csv (OGM-GE's split files) in the source folder: "
                           "the seeded speaker-held-out split ('speaker') is the default")
    return found

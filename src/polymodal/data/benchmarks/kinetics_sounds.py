"""Kinetics-Sounds: the audio-visual classes of Kinetics (Arandjelović & Zisserman, ICCV 2017).

The 31-class version of the balancing papers (OGM-GE, PMR, MMPareto) reads a
class-list file (``class.txt``: class names separated by commas, as those
loaders' ``KSDataset``; one name per line works too) and Kinetics clips in
the crawler's folder layout, one folder per class with spaces written as
``_``::

    class.txt
    train/<class_name>/<youtube_id>_<start>_<end>.mp4
    test/<class_name>/...          (and/or val/)

Inputs (``KSDataset``): 1 fps frames (up to 10); audio at 16 kHz tiled to
10 s, STFT ``n_fft`` 256, hop 128, log magnitude ``[1, 129, 1251]``; the
DataModule takes a 5-s window (626 steps), random in training.
"""

from __future__ import annotations

from pathlib import Path

from polymodal.data.benchmarks.sources import ClipSource, Discovery, Problem, Recipe, require_file
from polymodal.errors import PolymodalError

RECIPE = Recipe(sample_rate=16000, seconds=10.0, n_fft=256, hop=128, max_frames=10)
LAYOUT = "Kinetics-Sounds: class.txt, train/<class_name>/<clip>.mp4, test/ (or val/)/<class_name>/<clip>.mp4"
CLASS_FILES = ("class.txt", "classes.txt")
SPLITS = ("train", "val", "test")
VIDEO_SUFFIXES = (".mp4", ".mkv", ".webm", ".avi")
EXPECTED_CLASSES = 31


def read_class_list(path: Path) -> list[str]:
    """Class names (folder spelling: spaces as ``_``) from a comma- or line-separated file."""
    text = path.read_text(encoding="utf-8").replace("\n", ",")
    names = ["_".join(name.split()) for name in text.split(",") if name.strip()]
    if len(set(names)) != len(names) or not names:
        raise PolymodalError(f"{path}: the class list is empty or names a class twice")
    return names


def discover(src: Path) -> Discovery:
    """Clips of a Kinetics-Sounds folder; each split folder is the ``official`` split."""
    class_file = next((src / name for name in CLASS_FILES if (src / name).is_file()), src / CLASS_FILES[0])
    classes = read_class_list(require_file(class_file, LAYOUT))
    splits = [split for split in SPLITS if (src / split).is_dir()]
    if "train" not in splits or len(splits) < 2:
        raise PolymodalError(f"{src}: needs train/ and test/ or val/ folders (expected {LAYOUT})")
    found = Discovery(classes, [], {"official": {}})
    for split in splits:
        names = []
        for video in sorted(p for p in (src / split).glob("*/*") if p.suffix.lower() in VIDEO_SUFFIXES):
            label = video.parent.name
            if label not in classes:
                found.problems.append(Problem(video.stem, video.name, f"label {label!r} is not in the class list {class_file.name}"))
            elif any(item.clip_id == video.stem for item in found.items):
                found.problems.append(Problem(video.stem, video.name, "the same clip name appears twice"))
            else:
                found.items.append(ClipSource(video.stem, classes.index(label), video, group=video.stem.rsplit("_", 2)[0]))
                names.append(video.stem)
        found.splits["official"][split] = names
    found.notes.append(f"split 'official': the {', '.join(splits)} folders")
    if len(classes) != EXPECTED_CLASSES:
        found.notes.append(f"{class_file.name} lists {len(classes)} classes (the papers' Kinetics-Sounds has {EXPECTED_CLASSES})")
    return found

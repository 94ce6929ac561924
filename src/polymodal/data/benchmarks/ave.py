"""AVE, the Audio-Visual Event dataset (Tian et al., ECCV 2018): 4,143 ten-second clips, 28 events.

The release (``github.com/YapengTian/AVE-ECCV18``) holds ``AVE/<VideoID>.mp4``
and ``Annotations.txt`` with lines ``Category&VideoID&Quality&StartTime&EndTime``
(a header line first), and the official ``trainSet.txt`` / ``valSet.txt`` /
``testSet.txt`` in the same format. Classes are in the order of MLB / MCR's
loader (``datasets/AVE/AVE_Dataset.py``).

Inputs (MCR ``Video_Preprocessesing.py``, the ``_SE`` variants): the 1 fps
frames of the annotated event seconds; the sound of the event at 16 kHz
tiled to 10 s, STFT ``n_fft`` 512 with hop 159 (``noverlap`` 353), log
magnitude → ``[1, 257, 1007]``. An annotation whose event is empty
(``EndTime <= StartTime``) is reported, as the reference skips it.
"""

from __future__ import annotations

from pathlib import Path

from polymodal.data.benchmarks.sources import ClipSource, Discovery, Problem, Recipe, require_dir, require_file

CLASSES = [
    "Church bell", "Male speech, man speaking", "Bark", "Fixed-wing aircraft, airplane", "Race car, auto racing",
    "Female speech, woman speaking", "Helicopter", "Violin, fiddle", "Flute", "Ukulele", "Frying (food)", "Truck",
    "Shofar", "Motorcycle", "Acoustic guitar", "Train horn", "Clock", "Banjo", "Goat", "Baby cry, infant cry", "Bus",
    "Chainsaw", "Cat", "Horse", "Toilet flush", "Rodents, rats, mice", "Accordion", "Mandolin",
]
RECIPE = Recipe(sample_rate=16000, seconds=10.0, n_fft=512, hop=159)
LAYOUT = "AVE: AVE/<VideoID>.mp4, Annotations.txt, trainSet.txt, valSet.txt, testSet.txt (Category&VideoID&Quality&Start&End)"
SPLIT_FILES = {"train": "trainSet.txt", "val": "valSet.txt", "test": "testSet.txt"}


def read_annotations(path: Path) -> list[list[str]]:
    """The ``&``-separated fields of every annotation line (the header is skipped)."""
    rows = [line.rstrip("\r\n").split("&") for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [row for row in rows if row[0] != "Category"]


def discover(src: Path) -> Discovery:
    """Clips of an AVE folder and its official train / val / test lists."""
    videos = require_dir(src / "AVE", LAYOUT)
    found = Discovery(list(CLASSES), [])
    seen: set[str] = set()
    for row in read_annotations(require_file(src / "Annotations.txt", LAYOUT)):
        name = row[1] if len(row) > 1 else "&".join(row)
        video = videos / f"{name}.mp4"
        problem = None
        if len(row) != 5 or not row[3].strip().isdigit() or not row[4].strip().isdigit():
            problem = "annotation is not Category&VideoID&Quality&StartTime&EndTime"
        elif row[0] not in CLASSES:
            problem = f"label {row[0]!r} is not in the class list of the 28 AVE events"
        elif name in seen:
            problem = "annotated twice in Annotations.txt"
        elif not video.is_file():
            problem = f"annotated in Annotations.txt but there is no AVE/{name}.mp4"
        elif int(row[4]) <= int(row[3]):
            problem = f"empty event segment ({row[3]}-{row[4]} s)"
        if problem:
            found.problems.append(Problem(name, video.name, problem))
            continue
        seen.add(name)
        found.items.append(ClipSource(name, CLASSES.index(row[0]), video, segment=(float(row[3]), float(row[4])),
                                      group=name))
    found.splits["official"] = {
        split: [row[1] for row in read_annotations(require_file(src / file, LAYOUT)) if len(row) > 1 and row[1] in seen]
        for split, file in SPLIT_FILES.items()
    }
    found.notes.append("split 'official': trainSet.txt / valSet.txt / testSet.txt")
    return found

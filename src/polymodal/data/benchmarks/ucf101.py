"""UCF101 (Soomro et al., arXiv 1212.0402): 13,320 clips of 101 actions, three official splits.

The release holds ``UCF-101/<Class>/v_<Class>_g<gg>_c<cc>.avi`` and
``ucfTrainTestlist/`` with ``classInd.txt`` (``<index> <Class>``),
``trainlist0{1,2,3}.txt`` (``<Class>/<file>.avi <index>``) and
``testlist0{1,2,3}.txt`` (``<Class>/<file>.avi``). Optical flow, when given,
is in the common TV-L1 frame layout ``u/<video>/frame000001.jpg`` and
``v/<video>/...`` (one frame per video frame).

Inputs (MLB / MCR ``datasets/UCF/``): 1 fps frames (up to 10); the sound
track at 16 kHz, its first 3 s (tiled when shorter), STFT ``n_fft`` 512, hop
353 → ``[1, 257, 136]``. Clips without a sound track are prepared and marked:
with the ``audio`` modality only the 51 classes with sound remain, as in
the reference. Validation is held out by group (``<Class>_g<gg>``), as the
reference's group-level split of the training list.
"""

from __future__ import annotations

import re
from pathlib import Path

from polymodal.data.benchmarks.sources import ClipSource, Discovery, Problem, Recipe, require_dir, require_file

RECIPE = Recipe(sample_rate=16000, seconds=3.0, n_fft=512, hop=353, max_frames=10, require_audio=False)
LAYOUT = "UCF101: UCF-101/<Class>/v_<Class>_g<gg>_c<cc>.avi, ucfTrainTestlist/classInd.txt, trainlist0N.txt, testlist0N.txt"
NAME = re.compile(r"^v_(.+)_g(\d+)_c(\d+)$")
FOLDS = (1, 2, 3)


def read_lines(path: Path) -> list[list[str]]:
    """Whitespace-separated fields of the non-empty lines (the lists use CRLF line ends)."""
    return [line.split() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def discover(src: Path, flow: Path | None = None) -> Discovery:
    """Clips of a UCF101 folder and the official split lists (``split1`` .. ``split3``)."""
    videos_dir = require_dir(src / "UCF-101", LAYOUT)
    lists = require_dir(src / "ucfTrainTestlist", LAYOUT)
    classes = [fields[1] for fields in read_lines(require_file(lists / "classInd.txt", LAYOUT))]
    found = Discovery(classes, [])
    if flow is not None:
        for part in ("u", "v"):
            require_dir(flow / part, "optical flow frames u/<video>/*.jpg and v/<video>/*.jpg")
    for video in sorted(videos_dir.glob("*/*.avi")):
        match = NAME.match(video.stem)
        if video.parent.name not in classes:
            found.problems.append(Problem(video.stem, video.name, f"label {video.parent.name!r} is not in classInd.txt"))
        elif match is None:
            found.problems.append(Problem(video.stem, video.name, "name is not v_<Class>_g<gg>_c<cc>"))
        elif flow is not None and not ((flow / "u" / video.stem).is_dir() and (flow / "v" / video.stem).is_dir()):
            found.problems.append(Problem(video.stem, video.name, f"no flow frames u/{video.stem}/ and v/{video.stem}/"))
        else:
            flow_dirs = (flow / "u" / video.stem, flow / "v" / video.stem) if flow is not None else None
            found.items.append(ClipSource(video.stem, classes.index(video.parent.name), video,
                                          group=f"{match.group(1)}_g{match.group(2)}", flow=flow_dirs))
    usable = {item.clip_id for item in found.items}
    reported = usable | {problem.name for problem in found.problems}
    for fold in FOLDS:
        files = {"train": lists / f"trainlist0{fold}.txt", "test": lists / f"testlist0{fold}.txt"}
        if not all(path.is_file() for path in files.values()):
            continue
        found.splits[f"split{fold}"] = {}
        for split, path in files.items():
            stems = [Path(fields[0]).stem for fields in read_lines(path)]
            found.splits[f"split{fold}"][split] = [stem for stem in stems if stem in usable]
            for stem in (stem for stem in stems if stem not in reported):
                found.problems.append(Problem(stem, path.name, f"listed in {path.name} but there is no UCF-101 video of that name"))
                reported.add(stem)
    if not found.splits:
        found.notes.append("no trainlist0N.txt / testlist0N.txt pair in ucfTrainTestlist/: no official split")
    else:
        found.notes.append(f"splits {', '.join(found.splits)}: the official ucfTrainTestlist lists")
    return found

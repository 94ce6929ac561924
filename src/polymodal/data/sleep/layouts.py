"""Finding the nights of a dataset folder: recording + scoring file pairs per layout.

* ``nsrr`` (SHHS and other NSRR cohorts): ``<night>.edf`` and
  ``<night>-nsrr.xml`` anywhere under the folder (NSRR keeps them in
  ``edfs/`` and ``annotations-events-nsrr/``). One subject per night id.
* ``sleep-edf``: ``<id>-PSG.edf`` and ``<id'>-Hypnogram.edf``, where the
  hypnogram id equals the PSG id or differs only in its last character
  (``SC4001E0-PSG.edf`` ↔ ``SC4001EC-Hypnogram.edf``). The subject is the
  first five characters (``SC400``), as in the Sleep-EDF naming.

A file without its partner is reported as a skipped night. Each layout
trims edge Wake by its benchmark's rule (:mod:`polymodal.data.sleep.wake_trim`):
``nsrr`` by ``largest`` (SleepTransformer / CoRe-Sleep), ``sleep-edf`` by a
30-minute ``window`` (DeepSleepNet / TinySleepNet / MNE).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from polymodal.data.sleep.recording import ChannelSpec
from polymodal.data.sleep.scoring import Scoring, read_edf_hypnogram, read_nsrr_xml
from polymodal.data.sleep.wake_trim import WakeTrim
from polymodal.errors import PolymodalError
from polymodal.registry import Registry

NSRR_SCORING_SUFFIX = "-nsrr.xml"
PSG_SUFFIX = "-PSG.edf"
HYPNOGRAM_SUFFIX = "-Hypnogram.edf"


@dataclass(frozen=True)
class NightSource:
    """The files of one night. ``scoring`` is None when no partner was found."""

    night_id: str
    subject: str
    recording: Path | None
    scoring: Path | None


@dataclass(frozen=True)
class Layout:
    """How a dataset folder is organised: file discovery, scoring reader, default channels and Wake trimming."""

    name: str
    discover: Callable[[Path], list[NightSource]]
    read_scoring: Callable[[Path], Scoring]
    default_channels: ChannelSpec
    default_wake_trim: WakeTrim


def discover_nsrr(root: Path) -> list[NightSource]:
    """Pair ``<night>.edf`` with ``<night>-nsrr.xml`` under ``root`` (recursively)."""
    recordings = _unique_by(root.rglob("*.edf"), lambda p: p.stem, root)
    scorings = _unique_by(root.rglob(f"*{NSRR_SCORING_SUFFIX}"), lambda p: p.name[: -len(NSRR_SCORING_SUFFIX)], root)
    return [NightSource(night, night, recordings.get(night), scorings.get(night))
            for night in sorted(set(recordings) | set(scorings))]


def discover_sleep_edf(root: Path) -> list[NightSource]:
    """Pair ``<id>-PSG.edf`` with the hypnogram whose id matches (up to its last character)."""
    recordings = _unique_by(root.rglob(f"*{PSG_SUFFIX}"), lambda p: p.name[: -len(PSG_SUFFIX)], root)
    hypnograms = _unique_by(root.rglob(f"*{HYPNOGRAM_SUFFIX}"), lambda p: p.name[: -len(HYPNOGRAM_SUFFIX)], root)
    nights, used = [], set()
    for night, recording in sorted(recordings.items()):
        partner = night if night in hypnograms else None
        if partner is None:
            near = [h for h in hypnograms if h[:-1] == night[:-1] and h not in recordings]
            partner = near[0] if len(near) == 1 else None
        used.add(partner)
        nights.append(NightSource(night, night[:5], recording, hypnograms.get(partner)))
    nights += [NightSource(h, h[:5], None, path) for h, path in sorted(hypnograms.items()) if h not in used]
    return nights


def _unique_by(paths: Iterable[Path], key: Callable[[Path], str], root: Path) -> dict[str, Path]:
    found: dict[str, Path] = {}
    for path in sorted(paths):
        name = key(path)
        if name in found:
            raise PolymodalError(
                f"{root}: night {name!r} has two files ({found[name].relative_to(root)}, {path.relative_to(root)})"
            )
        found[name] = path
    return found


LAYOUTS: Registry[Layout] = Registry("sleep data layout")
LAYOUTS.register("nsrr")(
    Layout("nsrr", discover_nsrr, read_nsrr_xml, ChannelSpec("EEG", "EOG(L)", "EOG(R)"), WakeTrim("largest"))
)
LAYOUTS.register("sleep-edf")(
    Layout("sleep-edf", discover_sleep_edf, read_edf_hypnogram, ChannelSpec("EEG Fpz-Cz", "EOG horizontal"),
           WakeTrim("window"))
)

"""What a raw audio-visual release looks like once its layout is parsed.

Each layout module (``cremad``, ``ave``, ``kinetics_sounds``, ``ucf101``)
turns a source folder into a :class:`Discovery`: the class list, one
:class:`ClipSource` per usable clip, the split lists the release ships, and
the :class:`Problem` of every entry that cannot be used (a missing file, a
label outside the class list, an annotation without its video). A
:class:`Recipe` says how its clips become model inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class ClipSource:
    """One clip of a release.

    Attributes:
        clip_id: unique name (the file stem in the release).
        label: class index in the layout's class list.
        video: the video file.
        audio: a separate WAV file; ``None`` means the video's own sound track.
        segment: ``(start, end)`` seconds of the annotated event (AVE), or ``None`` for the whole clip.
        group: what clips of one source share (CREMA-D speaker, UCF101 class + group), for held-out splits.
        flow: ``(u_dir, v_dir)`` folders of optical-flow frames, or ``None``.
    """

    clip_id: str
    label: int
    video: Path
    audio: Path | None = None
    segment: tuple[float, float] | None = None
    group: str = ""
    flow: tuple[Path, Path] | None = None

    def files(self) -> str:
        return ", ".join(p.name for p in (self.video, self.audio) if p is not None)


@dataclass(frozen=True)
class Problem:
    """An entry of the release that is not prepared, and why."""

    name: str
    files: str
    reason: str


@dataclass(frozen=True)
class Recipe:
    """How a release's clips become inputs (the reference preprocessing of its dataset).

    Attributes:
        sample_rate: audio rate (Hz).
        seconds: audio length; shorter sound is tiled (``np.tile`` in the reference loaders).
        n_fft: FFT size of the log spectrogram (``n_fft // 2 + 1`` bins).
        hop: STFT hop in samples.
        max_frames: keep at most this many 1-fps frames per clip (``None``: all).
        require_audio: a clip without sound is skipped (otherwise kept and marked).
    """

    sample_rate: int
    seconds: float
    n_fft: int
    hop: int
    max_frames: int | None = None
    require_audio: bool = True


@dataclass
class Discovery:
    """A parsed source folder: classes, usable clips, shipped splits, unusable entries, notes."""

    classes: list[str]
    items: list[ClipSource]
    splits: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def require_dir(path: Path, layout: str) -> Path:
    """``path`` if it is a folder, else a one-line error naming it and the expected layout."""
    from polymodal.errors import PolymodalError

    if not path.is_dir():
        raise PolymodalError(f"{path}: no such folder (expected {layout})")
    return path


def require_file(path: Path, layout: str) -> Path:
    """``path`` if it is a file, else a one-line error naming it and the expected layout."""
    from polymodal.errors import PolymodalError

    if not path.is_file():
        raise PolymodalError(f"{path}: no such file (expected {layout})")
    return path

"""``polymodal data prepare``: a raw audio-visual release into model-ready clips, in parallel, resumable.

Per clip (the reference preprocessing of each dataset, see its layout
module): the 1 fps frames, resized to ``frame_size`` squares and stored as
uint8 ``frames [F, S, S, 3]``; the sound (a WAV, or the video's track)
cut to the event segment where there is one, clipped to ``[-1, 1]``, tiled
to the recipe's length and turned into ``spectrogram [1, n_fft/2+1, T]``
(:func:`polymodal.data.audio.log_spectrogram`); optical flow ``flow
[F, 2, S, S]`` (uint8 u, v) at the frames' indices when flow frames are
given. Each clip is one ``.npz`` written under a temporary name and moved
into place (:func:`polymodal.data.sleep.cache.write_night`), so a killed run
leaves no half-written clip and a rerun skips the clips already there.

Every unusable entry (found while parsing the layout, or while decoding:
a corrupt video, a missing WAV, an unknown label, an annotation without its
video) is reported by name with the reason, and the rest is prepared.
``manifest.json`` (classes, clips, splits) and ``report.json`` are written at
the end.
"""

from __future__ import annotations

import json
import multiprocessing
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from tqdm.auto import tqdm

from polymodal.data.audio import fix_length, log_spectrogram, read_wav
from polymodal.data.benchmarks import ave, cremad, kinetics_sounds, ucf101
from polymodal.data.benchmarks.clips import CLIPS_DIR, MANIFEST_FILE, has_array
from polymodal.data.benchmarks.frames import resize_frames
from polymodal.data.benchmarks.sources import ClipSource, Discovery, Recipe
from polymodal.data.benchmarks.video import read_audio_track, read_frames
from polymodal.data.sleep.cache import night_path, remove_partials, write_night
from polymodal.errors import PolymodalError

REPORT_FILE = "report.json"
SETTINGS_FILE = "prepare.json"


@dataclass(frozen=True)
class Release:
    """A raw release: how to parse its folder and how to prepare its clips."""

    discover: Callable[..., Discovery]
    recipe: Recipe


RELEASES = {
    "cremad": Release(cremad.discover, cremad.RECIPE),
    "ave": Release(ave.discover, ave.RECIPE),
    "kinetics-sounds": Release(kinetics_sounds.discover, kinetics_sounds.RECIPE),
    "ucf101": Release(ucf101.discover, ucf101.RECIPE),
}


@dataclass(frozen=True)
class ClipResult:
    """Outcome of one clip: ``prepared``, ``cached`` (done by an earlier run) or ``skipped``."""

    name: str
    status: str
    reason: str = ""
    files: str = ""
    audio: bool = True


@dataclass
class PrepareReport:
    results: list[ClipResult]
    notes: list[str] = field(default_factory=list)

    def with_status(self, status: str) -> list[ClipResult]:
        return [r for r in self.results if r.status == status]

    def to_dict(self) -> dict:
        out = {status: [asdict(r) for r in self.with_status(status)] for status in ("prepared", "cached", "skipped")}
        return {**out, "notes": self.notes}


def spectrogram(wave: np.ndarray, recipe: Recipe) -> np.ndarray:
    """``[1, n_fft/2+1, T]`` log spectrogram of ``wave`` clipped to [-1, 1] and tiled to the recipe's length."""
    length = int(round(recipe.seconds * recipe.sample_rate))
    tiled = fix_length(torch.from_numpy(np.clip(wave, -1.0, 1.0)), length, pad="tile")
    return log_spectrogram(tiled, recipe.n_fft, recipe.hop).numpy().astype(np.float32)


def read_flow(flow: tuple[Path, Path], indices: np.ndarray, size: int) -> np.ndarray:
    """uint8 ``[F, 2, size, size]``: the u and v flow images at the given video-frame indices."""
    planes = []
    for folder in flow:
        files = sorted(folder.glob("*.jpg"))
        if not files:
            raise PolymodalError(f"{folder}: no flow frames (*.jpg)")
        images = []
        for index in np.minimum(indices, len(files) - 1):
            try:
                with Image.open(files[index]) as image:
                    images.append(np.asarray(image.convert("L")))
            except OSError as err:
                raise PolymodalError(f"{files[index]}: unreadable flow frame ({err})") from None
        planes.append(resize_frames(np.stack(images), size))
    return np.stack(planes, axis=1)


def prepare_clip(source: ClipSource, recipe: Recipe, frame_size: int) -> dict[str, np.ndarray]:
    """The arrays stored for one clip (see the module docstring)."""
    frames, indices = read_frames(source.video, frame_size, segment=source.segment)
    frames, indices = frames[:recipe.max_frames], indices[:recipe.max_frames]
    arrays = {"frames": frames}
    wave = read_wav(source.audio, recipe.sample_rate) if source.audio else read_audio_track(source.video, recipe.sample_rate)
    if wave is not None and source.segment is not None:
        wave = wave[int(source.segment[0] * recipe.sample_rate):int(source.segment[1] * recipe.sample_rate)]
    if wave is not None and wave.size == 0:
        raise PolymodalError(f"{source.files()}: no sound in the clip{' segment' if source.segment else ''}")
    if wave is None and recipe.require_audio:
        raise PolymodalError(f"{source.video.name}: no audio stream")
    if wave is not None:
        arrays["spectrogram"] = spectrogram(wave, recipe)
    if source.flow is not None:
        arrays["flow"] = read_flow(source.flow, indices, frame_size)
    return arrays


def _prepare_one(job: tuple[ClipSource, Recipe, int, Path]) -> ClipResult:
    source, recipe, frame_size, clips_dir = job
    try:
        arrays = prepare_clip(source, recipe, frame_size)
    except PolymodalError as err:
        return ClipResult(source.clip_id, "skipped", str(err), source.files())
    write_night(clips_dir, source.clip_id, arrays, {})
    return ClipResult(source.clip_id, "prepared", "", source.files(), "spectrogram" in arrays)


def _run(jobs: list, workers: int) -> Iterator[ClipResult]:
    """Prepare the clips with one torch thread per process: a clip is too small a job for more
    (several threads per process made preparation 7 times slower on a busy 2-core machine)."""
    if workers == 1 or len(jobs) <= 1:
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield from map(_prepare_one, jobs)
        finally:
            torch.set_num_threads(threads)
        return
    with multiprocessing.Pool(workers, initializer=torch.set_num_threads, initargs=(1,), maxtasksperchild=64) as pool:
        yield from pool.imap_unordered(_prepare_one, jobs, chunksize=4)


def prepare_release(name: str, src: str | Path, out: str | Path, jobs: int = 1, frame_size: int = 224,
                    flow: str | Path | None = None, progress: bool = True) -> PrepareReport:
    """Prepare release ``name`` from ``src`` into ``out``; writes ``manifest.json`` and ``report.json``.

    Args:
        name: ``cremad``, ``ave``, ``kinetics-sounds`` or ``ucf101``.
        src: the release folder in its published layout.
        out: output folder; clips already there are kept (resume).
        jobs: worker processes.
        frame_size: side of the stored square frames.
        flow: folder of optical-flow frames (``u/`` and ``v/``; UCF101 only).
        progress: show a progress bar.
    """
    if name not in RELEASES:
        raise PolymodalError(f"unknown release {name!r}; choose one of: {', '.join(RELEASES)}")
    src, out = Path(src), Path(out)
    if not src.is_dir():
        raise PolymodalError(f"{src}: no such folder")
    if jobs < 1 or frame_size < 8:
        raise PolymodalError(f"need --jobs >= 1 and --frame-size >= 8, got {jobs} and {frame_size}")
    if flow is not None and name != "ucf101":
        raise PolymodalError("optical flow frames (--flow) are read for ucf101 only")
    release = RELEASES[name]
    found = release.discover(src, Path(flow)) if flow is not None else release.discover(src)
    clips_dir = out / CLIPS_DIR
    clips_dir.mkdir(parents=True, exist_ok=True)
    _check_settings(out, {"dataset": name, "frame_size": frame_size, "flow": flow is not None,
                          "recipe": asdict(release.recipe)})
    remove_partials(clips_dir)
    done = [s for s in found.items if night_path(clips_dir, s.clip_id).exists()]
    finished = {s.clip_id for s in done}
    todo = [(s, release.recipe, frame_size, clips_dir) for s in found.items if s.clip_id not in finished]
    results = [ClipResult(s.clip_id, "cached", "", s.files(), has_array(night_path(clips_dir, s.clip_id), "spectrogram")) for s in done]
    results += [ClipResult(p.name, "skipped", p.reason, p.files) for p in found.problems]
    with tqdm(total=len(todo), desc=f"prepare {name}", unit="clip", disable=not progress) as bar:
        for result in _run(todo, jobs):
            results.append(result)
            bar.update()
    silent = sum(1 for r in results if r.status != "skipped" and not r.audio)
    notes = found.notes + ([f"{silent} clips have no sound track: kept for the visual modalities, left out when "
                            "'audio' is used"] if silent else [])
    report = PrepareReport(sorted(results, key=lambda r: r.name), notes)
    write_manifest(out, name, found, report)
    _write_json(out / REPORT_FILE, report.to_dict())
    return report


def write_manifest(out: Path, name: str, found: Discovery, report: PrepareReport) -> None:
    """``manifest.json``: classes, the prepared clips (label, group, whether they have sound), the splits."""
    ready = {r.name: r.audio for r in report.results if r.status in ("prepared", "cached")}
    clips = {s.clip_id: {"label": s.label, "group": s.group, "audio": ready[s.clip_id]}
             for s in found.items if s.clip_id in ready}
    splits = {split_name: {part: [c for c in ids if c in clips] for part, ids in parts.items()}
              for split_name, parts in found.splits.items()}
    _write_json(out / MANIFEST_FILE, {"dataset": name, "classes": found.classes, "clips": clips, "splits": splits,
                                      "notes": found.notes})


def _write_json(path: Path, content: dict) -> None:
    partial = path.with_name(f".{path.name}.partial-{os.getpid()}")
    partial.write_text(json.dumps(content, indent=1))
    os.replace(partial, path)


def _check_settings(out: Path, settings: dict) -> None:
    """An output folder holds clips prepared one way only."""
    path = out / SETTINGS_FILE
    if path.exists():
        previous = json.loads(path.read_text())
        if previous != settings:
            raise PolymodalError(f"{out}: prepared with other settings ({previous}); use a new --out folder for {settings}")
    else:
        _write_json(path, settings)

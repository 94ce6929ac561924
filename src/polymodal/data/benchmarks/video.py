"""Decoding video containers with PyAV: frames at a fixed rate, and the sound track.

The audio-visual benchmarks of this line of work sample a clip's frames at
1 fps: the first frame of every second (OGM-GE, Peng et al., CVPR 2022,
``data/CREMAD/video_preprocessing.py``, and MLB / MCR's
``Video_Preprocessing.py``: keep frame ``i`` when ``i % fps == 0``), and for
AVE only the seconds of the annotated event (``video2frame_update_SE``).
:func:`read_frames` does the same from frame timestamps, so variable frame
rates and containers whose first timestamp is not zero give the same
seconds. :func:`read_audio_track` decodes a container's first audio stream
to mono ``float32`` at a given rate (AVE, Kinetics-Sounds and UCF101 ship
their sound inside the video file).
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from polymodal.errors import PolymodalError

DECODE_ERRORS = (av.error.FFmpegError, ValueError, IndexError, OSError)


def _open(path: Path) -> av.container.InputContainer:
    if not path.is_file():
        raise PolymodalError(f"{path.name}: no such video file")
    try:
        return av.open(str(path))
    except DECODE_ERRORS as err:
        raise PolymodalError(f"{path.name}: cannot open video ({err})") from None


def read_frames(path: str | Path, size: int, fps: float = 1.0,
                segment: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """RGB frames ``[F, size, size, 3]`` (uint8) at ``fps``, and their indices in the decoded stream.

    The first frame of each ``1 / fps`` interval is kept (times relative to
    the first frame). With ``segment = (start, end)`` seconds only the
    intervals from ``start`` to ``end`` inclusive are kept, as the AVE
    event-segment preprocessing. Frames are resized to a square.
    """
    path = Path(path)
    frames, indices, seen = [], [], set()
    with _open(path) as container:
        if not container.streams.video:
            raise PolymodalError(f"{path.name}: no video stream")
        stream = container.streams.video[0]
        rate = float(stream.average_rate or 25)
        first = None
        try:
            for index, frame in enumerate(container.decode(stream)):
                time = frame.time if frame.time is not None else index / rate
                first = time if first is None else first
                interval = int(np.floor((time - first) * fps + 1e-6))
                if interval in seen or (segment and not segment[0] * fps <= interval <= segment[1] * fps):
                    continue
                seen.add(interval)
                frames.append(frame.to_ndarray(format="rgb24", width=size, height=size))
                indices.append(index)
        except DECODE_ERRORS as err:
            raise PolymodalError(f"{path.name}: corrupt video stream ({err})") from None
    if not frames:
        where = f" in seconds {segment[0]:g}-{segment[1]:g}" if segment else ""
        raise PolymodalError(f"{path.name}: no decodable video frames{where}")
    return np.stack(frames), np.asarray(indices)


def read_audio_track(path: str | Path, sample_rate: int) -> np.ndarray | None:
    """The first audio stream as mono ``float32`` at ``sample_rate`` Hz; ``None`` without one."""
    path = Path(path)
    with _open(path) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks = []
        try:
            for frame in container.decode(container.streams.audio[0]):
                chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(frame)]
            chunks += [out.to_ndarray().reshape(-1) for out in resampler.resample(None)]
        except DECODE_ERRORS as err:
            raise PolymodalError(f"{path.name}: corrupt audio stream ({err})") from None
    wave = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if wave.size == 0:
        raise PolymodalError(f"{path.name}: empty audio stream")
    return wave.astype(np.float32)

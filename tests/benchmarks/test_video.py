"""PyAV decoding: frames at 1 fps (optionally in an event segment), sound tracks, frame sampling."""

import numpy as np
import pytest
import torch

from polymodal.data.benchmarks.frames import frames_to_input, sample_frames
from polymodal.data.benchmarks.video import read_audio_track, read_frames
from polymodal.errors import PolymodalError

from .conftest import write_video


@pytest.mark.parametrize("codec, suffix, audio", [("flv", ".flv", "mp3"), ("h264", ".mp4", "aac"), ("mpeg4", ".avi", "mp3")])
def test_one_frame_per_second_and_sound(tmp_path, codec, suffix, audio):
    path = write_video(tmp_path / f"clip{suffix}", 2, 3.5, codec, audio, rate=22050)
    frames, indices = read_frames(path, 16)
    assert frames.shape == (4, 16, 16, 3) and frames.dtype == np.uint8
    # the first frame of each second at 10 fps (AVI's mpeg4 decoder merges one early frame, hence 9..11 apart)
    assert indices[0] == 0 and len(indices) == 4 and set(np.diff(indices)) <= {9, 10, 11}
    wave = read_audio_track(path, 16000)
    assert wave.dtype == np.float32 and abs(len(wave) / 16000 - 3.5) < 0.15 and 0.2 < np.abs(wave).max() <= 0.35


def test_segment_and_silent_and_corrupt_videos(tmp_path):
    path = write_video(tmp_path / "clip.mp4", 0, 4.0, "h264")
    assert list(read_frames(path, 8, segment=(1, 2))[1]) == [10, 20]
    assert read_audio_track(path, 16000) is None
    with pytest.raises(PolymodalError, match="clip.mp4: no decodable video frames in seconds 6-9"):
        read_frames(path, 8, segment=(6, 9))
    bad = tmp_path / "bad.flv"
    bad.write_bytes(b"FLV\x01" + bytes(range(256)) * 4)
    with pytest.raises(PolymodalError, match="bad.flv: cannot open video|bad.flv: corrupt video"):
        read_frames(bad, 8)
    with pytest.raises(PolymodalError, match="absent.mp4: no such video file"):
        read_frames(tmp_path / "absent.mp4", 8)


def test_frame_sampling_modes():
    assert list(sample_frames(10, 3, "uniform")) == [0, 3, 6]
    assert list(sample_frames(2, 3, "uniform")) == [0, 0, 1]
    assert list(sample_frames(2, 3, "first")) == [0, 1, 1]
    draws = {tuple(sample_frames(6, 3, "random")) for _ in range(20)}
    assert len(draws) > 1 and all(list(d) == sorted(set(d)) for d in draws)
    assert len(sample_frames(2, 3, "random")) == 3
    with pytest.raises(PolymodalError, match="unknown frame sampling"):
        sample_frames(3, 3, "middle")


def test_frames_to_input_resizes_normalizes_and_augments():
    frames = np.random.default_rng(0).integers(0, 256, (3, 20, 30, 3), dtype=np.uint8)
    evaluation = frames_to_input(frames, 16, train=False)
    assert evaluation.shape == (3, 3, 16, 16)
    assert torch.equal(evaluation, frames_to_input(frames, 16, train=False))
    train = frames_to_input(frames, 16, train=True)
    assert train.shape == (3, 3, 16, 16) and not torch.allclose(train, evaluation)

"""Small releases written in the published layouts: real WAV (soundfile), real containers (PyAV).

Every clip is a few seconds of 10 fps video (48 × 32 px, its colour set by
the class) with a tone whose pitch is set by the class, so a model can learn
from either modality.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile

FPS = 10
SIZE = (48, 32)


def tone(label: int, seconds: float, rate: int) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * (300 + 80 * label) * t)).astype(np.float32)


def write_video(path: Path, label: int, seconds: float, codec: str, audio: str | None = None, rate: int = 16000) -> Path:
    """A video container with ``seconds`` of frames and optionally a sound track."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as container:
        video = container.add_stream(codec, rate=FPS)
        video.width, video.height, video.pix_fmt = SIZE[0], SIZE[1], "yuv420p"
        sound = container.add_stream(audio, rate=rate) if audio else None
        if sound is not None:
            sound.layout = "mono"
        colour = np.array([(37 * label) % 256, (91 * label) % 256, (53 * label + 90) % 256], np.uint8)
        for i in range(int(seconds * FPS)):
            image = np.broadcast_to(colour, (SIZE[1], SIZE[0], 3)).copy()
            image[:, : (i % SIZE[0])] //= 2
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode())
        if sound is not None:
            wave = tone(label, seconds, rate)
            step = sound.codec_context.frame_size or 1024
            for start in range(0, len(wave), step):
                frame = av.AudioFrame.from_ndarray(wave[None, start:start + step], format="flt", layout="mono")
                frame.sample_rate, frame.pts = rate, start
                container.mux(sound.encode(frame))
            container.mux(sound.encode())
    return path


def write_wav(path: Path, label: int, seconds: float, rate: int = 16000) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), tone(label, seconds, rate), rate, subtype="PCM_16")
    return path


CREMAD_EMOTIONS = ["NEU", "HAP", "SAD", "FEA", "DIS", "ANG"]


def write_cremad(root: Path, split_files: bool = True) -> Path:
    """4 actors × 3 clips, plus a corrupt video, a video without its WAV and an unknown emotion."""
    names = []
    for actor in range(4):
        for k in range(3):
            label = (actor + k) % 6
            name = f"10{actor + 1:02d}_{['DFA', 'IEO', 'TIE'][k]}_{CREMAD_EMOTIONS[label]}_XX"
            write_wav(root / "AudioWAV" / f"{name}.wav", label, 1.6 + 0.3 * k)
            write_video(root / "VideoFlash" / f"{name}.flv", label, 2.2 + 0.3 * k, "flv", "mp3", rate=22050)
            names.append((name, CREMAD_EMOTIONS[label]))
    write_wav(root / "AudioWAV" / "1090_IEO_ANG_HI.wav", 5, 1.0)
    (root / "VideoFlash" / "1090_IEO_ANG_HI.flv").write_bytes(b"FLV\x01 this is not a video" * 20)
    write_video(root / "VideoFlash" / "1091_TIE_SAD_XX.flv", 2, 2.0, "flv")
    write_wav(root / "AudioWAV" / "1092_DFA_XYZ_XX.wav", 1, 1.0)
    write_video(root / "VideoFlash" / "1092_DFA_XYZ_XX.flv", 1, 2.0, "flv")
    if split_files:
        test = {name for name, _ in names[::4]}
        (root / "train.csv").write_text("".join(f"{n},{e}\n" for n, e in names if n not in test), encoding="utf-8-sig")
        (root / "test.csv").write_text("".join(f"{n},{e}\n" for n, e in names if n in test) + "1099_ITS_NEU_XX,NEU\n")
    return root


AVE_CLASSES = ["Church bell", "Male speech, man speaking", "Bark"]


def write_ave(root: Path) -> Path:
    """9 four-second clips in three events, official lists, and a missing video / unknown event / empty segment."""
    lines = ["Category&VideoID&Quality&StartTime&EndTime"]
    splits = {"trainSet.txt": [], "valSet.txt": [], "testSet.txt": []}
    for i in range(9):
        label = i % 3
        name = f"vid{i:02d}-AbC_x"
        write_video(root / "AVE" / f"{name}.mp4", label, 4.0, "h264", "aac")
        line = f"{AVE_CLASSES[label]}&{name}&good&{i % 2}&{3 + i % 2}"
        lines.append(line)
        splits["testSet.txt" if i >= 7 else "valSet.txt" if i >= 5 else "trainSet.txt"].append(line)
    write_video(root / "AVE" / "emptySegment.mp4", 2, 4.0, "h264", "aac")
    lines += ["Bark&missingVideo1&good&0&10", "Goose&vid00-AbC_x&good&0&4", "Bark&emptySegment&good&3&3"]
    splits["trainSet.txt"].append("Bark&missingVideo1&good&0&10")
    (root / "Annotations.txt").write_text("\n".join(lines) + "\n")
    for file, split_lines in splits.items():
        (root / file).write_text("\n".join(split_lines) + "\n")
    return root


KS_CLASSES = ["playing bagpipes", "tap dancing", "shoveling snow"]


def write_kinetics_sounds(root: Path) -> Path:
    """Class list + train/test class folders of mp4 clips, and a clip in a folder outside the class list."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "class.txt").write_text(",".join(KS_CLASSES))
    for split, count in (("train", 6), ("test", 3)):
        for i in range(count):
            label = i % 3
            folder = KS_CLASSES[label].replace(" ", "_")
            write_video(root / split / folder / f"yt{split}{i:03d}_{i:06d}_{i + 10:06d}.mp4", label, 3.0, "h264", "aac")
    write_video(root / "train" / "juggling_balls" / "ytstray_000000_000010.mp4", 0, 1.0, "h264", "aac")
    return root


UCF_CLASSES = ["ApplyEyeMakeup", "Archery", "BabyCrawling"]


def write_ucf101(root: Path, flow: bool = True) -> Path:
    """3 classes × 4 groups, one class without sound, official lists with CRLF line ends, TV-L1 flow frames."""
    from PIL import Image

    lists = root / "ucfTrainTestlist"
    lists.mkdir(parents=True)
    (lists / "classInd.txt").write_text("".join(f"{i + 1} {c}\r\n" for i, c in enumerate(UCF_CLASSES)))
    train, test = [], []
    for label, name in enumerate(UCF_CLASSES):
        for group in range(1, 5):
            stem = f"v_{name}_g{group:02d}_c01"
            write_video(root / "UCF-101" / name / f"{stem}.avi", label, 2.5, "mpeg4", "mp3" if label != 2 else None,
                        rate=44100)
            (test if group == 4 else train).append((f"{name}/{stem}.avi", label + 1))
            if flow:
                for part in ("u", "v"):
                    folder = root / "tvl1_flow" / part / stem
                    folder.mkdir(parents=True)
                    for i in range(25):
                        Image.fromarray(np.full((32, 48), 100 + i + label, np.uint8)).save(folder / f"frame{i + 1:06d}.jpg")
    (lists / "trainlist01.txt").write_text("".join(f"{path} {label}\r\n" for path, label in train)
                                           + "Archery/v_Archery_g09_c01.avi 2\r\n")
    (lists / "testlist01.txt").write_text("".join(f"{path}\r\n" for path, _ in test))
    return root


def write_affect(path: Path, n: int = 24, dims: tuple[int, int] = (35, 74), protocol: int = 4) -> Path:
    """A MultiBench-format pickle: train / valid / test dicts of [n, 50, d] arrays and [n, 1, 1] labels."""
    rng = np.random.default_rng(0)
    data = {}
    for split in ("train", "valid", "test"):
        scores = rng.uniform(-3, 3, n)
        text = rng.normal(size=(n, 50, 300)) * (scores[:, None, None] > -9)
        text[:, :10] = 0.0
        text[0] = 0.0  # a segment without text: dropped
        audio = rng.normal(size=(n, 50, dims[1]))
        audio[1, 20, 3] = -np.inf
        data[split] = {"vision": rng.normal(size=(n, 50, dims[0])), "audio": audio, "text": text,
                       "labels": scores.reshape(n, 1, 1), "id": np.array([[f"seg{i}", "0"] for i in range(n)])}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as handle:
        pickle.dump(data, handle, protocol=protocol)
    return path


def write_avmnist(root: Path, n_train: int = 40, n_test: int = 12) -> Path:
    rng = np.random.default_rng(0)
    for split, n in (("train", n_train), ("test", n_test)):
        (root / "image").mkdir(parents=True, exist_ok=True)
        (root / "audio").mkdir(parents=True, exist_ok=True)
        np.save(root / "image" / f"{split}_data.npy", rng.integers(0, 256, (n, 784)).astype(np.float32))
        np.save(root / "audio" / f"{split}_data.npy", rng.integers(0, 256, (n, 112, 112)).astype(np.float32))
        np.save(root / f"{split}_labels.npy", np.arange(n) % 10)
    return root


@pytest.fixture(scope="session")
def make_release(tmp_path_factory) -> Callable[[str], Path]:
    """Write a named fixture release once per session and return its folder."""
    writers = {"cremad": write_cremad, "cremad-nosplit": lambda root: write_cremad(root, split_files=False),
               "ave": write_ave, "kinetics-sounds": write_kinetics_sounds, "ucf101": write_ucf101}
    made: dict[str, Path] = {}

    def make(name: str) -> Path:
        if name not in made:
            made[name] = writers[name](tmp_path_factory.mktemp(name))
        return made[name]

    return make


@pytest.fixture(scope="session")
def prepared(make_release, tmp_path_factory) -> Callable[[str], Path]:
    """Prepare a fixture release once per session (16-px frames) and return the output folder."""
    from polymodal.data.benchmarks.prepare import prepare_release

    done: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in done:
            src = make_release(name)
            out = tmp_path_factory.mktemp(f"{name}-prepared")
            flow = src / "tvl1_flow" if name == "ucf101" else None
            prepare_release(name.replace("-nosplit", ""), src, out, frame_size=16, flow=flow, progress=False)
            done[name] = out
        return done[name]

    return get

"""A tiny generated FSDD-like folder: 2 speakers × 10 digits × 9 takes of short tones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

SPEAKERS = ("alice", "bob")
TAKES = 9
RATE = 8000


def write_fsdd(root: Path, speakers=SPEAKERS, takes: int = TAKES) -> Path:
    recordings = root / "recordings"
    recordings.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for digit in range(10):
        for speaker in speakers:
            for take in range(takes):
                n = int(RATE * rng.uniform(0.1, 0.3))
                t = np.arange(n) / RATE
                wave = 0.3 * np.sin(2 * np.pi * (300 + 150 * digit) * t) + 0.01 * rng.standard_normal(n)
                soundfile.write(recordings / f"{digit}_{speaker}_{take}.wav", wave, RATE, subtype="PCM_16")
    return root


@pytest.fixture(scope="session")
def fsdd_root(tmp_path_factory) -> Path:
    return write_fsdd(tmp_path_factory.mktemp("fsdd"))

"""Tiny synthetic nights prepared once for the sleep evaluation tests."""

from pathlib import Path

import pytest

from polymodal.data.sleep.prepare import prepare_cache
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights

NIGHTS = 5
MINUTES = 15


@pytest.fixture(scope="session")
def tiny_source(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("psg")
    write_synthetic_nights(source, NIGHTS, "nsrr", seed=5, minutes=MINUTES)
    return source


@pytest.fixture(scope="session")
def tiny_cache(tiny_source, tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("psg_cache")
    prepare_cache(tiny_source, "nsrr", cache, progress=False)
    return cache

"""Shared synthetic nights for the sleep tests (generated once per session)."""

import shutil
from pathlib import Path

import pytest

from polymodal.data.sleep.prepare import prepare_cache
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights

MINUTES = 40


@pytest.fixture(scope="session")
def nsrr_source(tmp_path_factory) -> Path:
    source = tmp_path_factory.mktemp("nsrr")
    write_synthetic_nights(source, 4, "nsrr", seed=3, minutes=MINUTES)
    return source


@pytest.fixture(scope="session")
def nsrr_cache(nsrr_source, tmp_path_factory) -> Path:
    cache = tmp_path_factory.mktemp("nsrr_cache")
    prepare_cache(nsrr_source, "nsrr", cache, progress=False)
    return cache


@pytest.fixture
def source(nsrr_source, tmp_path) -> Path:
    """A copy of the NSRR nights that a test may damage."""
    copy = tmp_path / "src"
    shutil.copytree(nsrr_source, copy)
    return copy

"""The top-level package: every public name resolves, lazily, and the version comes from the metadata."""

from __future__ import annotations

from importlib.metadata import version

import pytest

import polymodal


@pytest.mark.parametrize("name", polymodal.__all__)
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(polymodal, name) is not None
    assert name in dir(polymodal)


def test_registries_and_base_classes_are_exported() -> None:
    assert issubclass(polymodal.BALANCERS.get("mlb"), polymodal.Balancer)
    assert issubclass(polymodal.FUSIONS.get("late"), polymodal.FusionHead)
    assert issubclass(polymodal.OBJECTIVES.get("confu"), polymodal.ContrastiveObjective)
    assert {"SupervisedTask", "ContrastiveTask", "SleepTask", "ENCODERS"} <= set(polymodal.__all__)


def test_version_is_the_installed_distribution() -> None:
    assert polymodal.__version__ == version("polymodal")


def test_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'bogus'"):
        polymodal.bogus  # noqa: B018


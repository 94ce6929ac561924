"""Shared test setup: single-threaded torch (CI has 2 cores) and quiet Lightning."""

import logging
import warnings

import pytest
import torch

torch.set_num_threads(1)
logging.getLogger("lightning").setLevel(logging.ERROR)
logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
warnings.filterwarnings("ignore", ".*does not have many workers.*")


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)

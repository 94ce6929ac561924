"""Two-process DDP on CPU (gloo): identical replicas, equal to one process on the global batch.

One ``torch.distributed.run`` launch (``ddp_worker.py``) trains every method
over 2 processes with B/2 samples each; the tests compare both ranks with each
other and with single-process training on batches of B holding the same
samples in the same order (:func:`harness.ddp_order`).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from harness import METHODS, first_contrastive_step, fit_supervised

WORKER = Path(__file__).with_name("ddp_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ddp_runs(tmp_path_factory) -> list[dict]:
    out = tmp_path_factory.mktemp("ddp")
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_addr", "127.0.0.1",
               "--master_port", str(free_port()), str(WORKER), str(out)]
    path = os.pathsep.join(p for p in (str(WORKER.parent), os.environ.get("PYTHONPATH")) if p)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": path}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    return [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(2)]


def assert_same_state(got: dict[str, torch.Tensor], expected: dict[str, torch.Tensor], atol: float) -> None:
    assert got.keys() == expected.keys()
    for key in expected:
        assert torch.allclose(got[key].float(), expected[key].float(), atol=atol, rtol=0), key


@pytest.mark.parametrize("name", list(METHODS))
def test_replicas_identical_and_equal_to_one_process(ddp_runs, name) -> None:
    rank0, rank1 = ddp_runs[0][name], ddp_runs[1][name]
    assert_same_state(rank1["params"], rank0["params"], atol=0.0)
    single = fit_supervised(name, epochs=3 if name == "mslr" else 2)
    assert rank0["steps"] == single["steps"]
    assert_same_state(rank0["params"], single["params"], atol=1e-5)


def test_mcr_under_accumulation_equals_ddp_without_gathering(ddp_runs) -> None:
    """MCR's batch terms see one micro-batch under accumulation: exactly one process's shard under DDP."""
    rank0, rank1 = ddp_runs[0]["mcr_no_gather"], ddp_runs[1]["mcr_no_gather"]
    assert_same_state(rank1["params"], rank0["params"], atol=0.0)
    accumulated = fit_supervised("mcr", accumulate=2)
    assert_same_state(rank0["params"], accumulated["params"], atol=1e-5)
    gathered = ddp_runs[0]["mcr"]["params"]  # and gathering does change the result
    assert any(not torch.allclose(gathered[k], rank0["params"][k], atol=1e-5) for k in gathered)


@pytest.mark.parametrize("objective", ["confu", "pairwise"])
def test_contrastive_loss_and_gradients_equal_one_process(ddp_runs, objective) -> None:
    single = first_contrastive_step(objective)
    for rank in ddp_runs:
        run = rank[f"contrastive_{objective}"]
        assert run["loss"] == pytest.approx(single["loss"], rel=1e-5)
        assert run["grads"].keys() == single["grads"].keys()
        for key, grad in single["grads"].items():
            assert torch.allclose(run["grads"][key], grad, atol=1e-6), key

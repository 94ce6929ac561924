"""torch's threads follow the cores the process may use, the concurrent runs and OMP_NUM_THREADS."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch

import polymodal
from polymodal import threads
from polymodal.errors import PolymodalError
from polymodal.threads import configure_threads


@pytest.fixture(autouse=True)
def restore_threads(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def cores(monkeypatch, n: int) -> None:
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(n)), raising=False)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 64)  # the machine has more cores than the process may use


def test_threads_follow_the_affinity_not_the_machine(monkeypatch) -> None:
    cores(monkeypatch, 3)
    assert configure_threads() == 3
    assert torch.get_num_threads() == 3


def test_concurrent_runs_share_the_cores(monkeypatch) -> None:
    cores(monkeypatch, 8)
    assert configure_threads(concurrent_runs=4) == 2
    assert configure_threads(concurrent_runs=16) == 1
    assert torch.get_num_threads() == 1


def test_omp_num_threads_wins(monkeypatch) -> None:
    cores(monkeypatch, 8)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert configure_threads(concurrent_runs=1) == 2
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("value", ["0", "two", "-1"])
def test_bad_omp_num_threads_is_named(monkeypatch, value: str) -> None:
    monkeypatch.setenv("OMP_NUM_THREADS", value)
    with pytest.raises(PolymodalError, match=f"OMP_NUM_THREADS must be a positive integer, got '{value}'"):
        configure_threads()


def test_no_concurrent_runs_is_an_error() -> None:
    with pytest.raises(PolymodalError, match="at least 1, got 0"):
        configure_threads(concurrent_runs=0)


def test_idle_threads_sleep_unless_the_user_chose(monkeypatch) -> None:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    threads.let_idle_threads_sleep()
    assert threads.os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    threads.let_idle_threads_sleep()
    assert threads.os.environ["OMP_WAIT_POLICY"] == "ACTIVE"


def test_the_cli_sets_the_wait_policy_before_torch_loads() -> None:
    script = ("import os, sys\n"
              "class Spy:\n"
              "    policy = 'torch not loaded'\n"
              "    def find_spec(self, name, path=None, target=None):\n"
              "        if name == 'torch' and 'torch' not in sys.modules:\n"
              "            Spy.policy = os.environ.get('OMP_WAIT_POLICY')\n"
              "sys.meta_path.insert(0, Spy())\n"
              "from polymodal.cli import main\n"
              "main(['data', 'download', 'fsdd'])\n"
              "print(Spy.policy)")
    env = {key: value for key, value in os.environ.items() if key != "OMP_WAIT_POLICY"}
    env["PYTHONPATH"] = str(Path(polymodal.__file__).resolve().parents[1])
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "PASSIVE", result.stderr[-1000:]

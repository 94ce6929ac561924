"""torch's threads follow the cores the process may use, the concurrent runs and OMP_NUM_THREADS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch

from polymodal import threads
from polymodal.errors import PolymodalError
from polymodal.threads import configure_threads


@pytest.fixture(autouse=True)
def restore_threads(monkeypatch) -> Iterator[None]:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def cores(monkeypatch, n: int, load: float = 0.0) -> None:
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(n)), raising=False)
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 64)  # the machine has more cores than the process may use
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (load, load, load))


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


def test_cores_busy_with_other_work_are_not_counted(monkeypatch) -> None:
    cores(monkeypatch, 8, load=32.0)  # half the machine busy
    assert configure_threads() == 4
    cores(monkeypatch, 2, load=70.0)
    assert configure_threads() == 1
    monkeypatch.setattr(threads.os, "cpu_count", lambda: 2)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (0.3, 0.3, 0.3))  # a quiet machine: every core
    assert configure_threads() == 2
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.1, 1.0, 1.0))  # one CPU-bound process beside
    assert configure_threads() == 1

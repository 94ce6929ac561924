"""torch's thread pools sized to the cores this process may use.

torch starts one intra-op thread per core of the machine, and OpenMP keeps
idle threads spinning for the next parallel region. On a machine shared with
other work, or with several runs side by side, those threads outnumber the
cores the process actually gets and spin waiting for each other: the same
training then costs several times the CPU (on two busy cores, a demo run took
68 s of CPU with spinning threads and 16 s with sleeping ones).
:func:`let_idle_threads_sleep` sets OpenMP's wait policy before torch loads;
:func:`configure_threads` sizes the pools to the process's CPU affinity,
shared between the runs that go on at once, unless ``OMP_NUM_THREADS`` says otherwise.
"""

from __future__ import annotations

import os

from polymodal.errors import PolymodalError


def let_idle_threads_sleep() -> None:
    """Idle OpenMP threads sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``) unless the user chose a policy.

    OpenMP reads the variable when torch loads it: this has an effect only before torch is imported.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and ``taskset`` restrict)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # platforms without affinity (macOS, Windows)
        return os.cpu_count() or 1


def requested_threads() -> int | None:
    """The thread count the user asked for with ``OMP_NUM_THREADS``, if any."""
    value = os.environ.get("OMP_NUM_THREADS", "").strip()
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise PolymodalError(f"OMP_NUM_THREADS must be a positive integer, got {value!r}")
    return int(value)


def configure_threads(concurrent_runs: int = 1) -> int:
    """Set torch's intra-op (and, where still allowed, inter-op) threads; return the intra-op count.

    ``OMP_NUM_THREADS`` wins when set; otherwise the available cores divided
    by ``concurrent_runs``, at least one.
    """
    if concurrent_runs < 1:
        raise PolymodalError(f"the number of concurrent runs must be at least 1, got {concurrent_runs}")
    import torch

    threads = requested_threads() or max(1, available_cores() // concurrent_runs)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # torch allows this once, before any inter-op work has started
        pass
    return threads

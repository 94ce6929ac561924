"""torch's thread pools sized to the cores this process actually gets.

torch starts one intra-op thread per core of the machine, and OpenMP keeps
idle threads spinning for the next parallel region. On a machine busy with
other work, or with several runs side by side, those threads outnumber the
cores the process gets and spin waiting for each other: the same training
then costs several times the CPU. :func:`configure_threads` sizes the pools
to the cores that are free — the process's CPU affinity, less the share of
the machine the load average says is busy — shared between the runs that go
on at once, unless ``OMP_NUM_THREADS`` says otherwise.

Measured on two cores (``polymodal demo --seeds 1``, ``benchmarks/README.md``):
quiet, two threads 36 s and one 33 s; beside one CPU-bound process, two
threads 102 s (127 s of CPU) and one 33 s. Making idle threads sleep instead
(``OMP_WAIT_POLICY=PASSIVE``) helped the busy machine (39 s) but doubled the
quiet time (68 s), so the wait policy is left to the user.
"""

from __future__ import annotations

import os

from polymodal.errors import PolymodalError


def available_cores() -> int:
    """The cores this process may run on (its CPU affinity, which containers and ``taskset`` restrict)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # platforms without affinity (macOS, Windows)
        return os.cpu_count() or 1


def free_cores() -> int:
    """The available cores not busy with other work: :func:`available_cores` times the idle share of the
    machine by its 1-minute load average (rounded, at least 1)."""
    cores = available_cores()
    try:
        busy = os.getloadavg()[0] / (os.cpu_count() or cores)
    except (AttributeError, OSError):  # platforms without a load average
        busy = 0.0
    return max(1, min(cores, round(cores * (1.0 - busy))))


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

    ``OMP_NUM_THREADS`` wins when set; otherwise the free cores
    (:func:`free_cores`) divided by ``concurrent_runs``, at least one.
    """
    if concurrent_runs < 1:
        raise PolymodalError(f"the number of concurrent runs must be at least 1, got {concurrent_runs}")
    import torch

    threads = requested_threads() or max(1, free_cores() // concurrent_runs)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # torch allows this once, before any inter-op work has started
        pass
    return threads

"""The SHHS benchmark's night curation, applied when splits are made: keep nights holding all five stages.

SleepTransformer (``shhs/process_and_save_1file.m``) and CoRe-Sleep skip an
SHHS night whose kept epochs lack one of W, N1, N2, N3, REM. Preparation
keeps every night (a night without REM is a real night to stage); this
filter reproduces the benchmark's cohort on request
(``require_all_stages``) and names the nights it leaves out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from polymodal.data.sleep.cache import night_path, open_night
from polymodal.data.sleep.scoring import NUM_STAGES, STAGES


def missing_stages(cache_dir: Path, night_ids: list[str]) -> dict[str, list[str]]:
    """Night id → the stages its prepared epochs lack, for the nights that lack any."""
    lacking = {}
    for night in night_ids:
        present = np.bincount(np.asarray(open_night(night_path(cache_dir, night))["y"]), minlength=NUM_STAGES) > 0
        if not present.all():
            lacking[night] = [STAGES[s] for s in np.flatnonzero(~present)]
    return lacking


def describe_excluded(lacking: dict[str, list[str]], total: int) -> str:
    """One line naming the nights left out by ``require_all_stages`` and the stages each lacks."""
    listed = ", ".join(f"{night} (no {'/'.join(stages)})" for night, stages in sorted(lacking.items()))
    return f"require_all_stages: left out {len(lacking)} of {total} nights: {listed or 'none'}"

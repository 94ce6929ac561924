"""Features computed once per dataset and kept in an ``.npz`` file.

A cache file holds named arrays plus the recipe string they were computed
with (``__recipe__``); a file with another recipe is recomputed, so changing
a front-end option never reads stale features. Files are written atomically
(a temporary file, then ``os.replace``) and read with ``allow_pickle=False``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from polymodal.errors import PolymodalError

RECIPE_KEY = "__recipe__"


def cached_arrays(path: str | Path, recipe: str, compute: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The arrays stored at ``path`` for ``recipe``, computing and storing them if absent or stale."""
    path = Path(path)
    if path.is_file():
        try:
            with np.load(path, allow_pickle=False) as stored:
                if RECIPE_KEY in stored and str(stored[RECIPE_KEY]) == recipe:
                    return {k: stored[k] for k in stored.files if k != RECIPE_KEY}
        except (OSError, ValueError) as err:
            raise PolymodalError(f"{path}: unreadable feature cache ({err}); delete it to recompute") from None
    arrays = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            np.savez(file, **arrays, **{RECIPE_KEY: np.asarray(recipe)})
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return arrays

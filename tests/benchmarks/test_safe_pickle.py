"""The restricted unpickler loads numpy data and refuses everything else."""

import os
import pickle

import numpy as np
import pytest

from polymodal.data.benchmarks.safe_pickle import load_numpy_pickle
from polymodal.errors import PolymodalError


class RunsCommand:
    """Pickles as a call to os.system (what a malicious pickle does)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_numpy_containers_round_trip(tmp_path, protocol):
    data = {"train": {"x": np.arange(6.0).reshape(2, 3), "id": np.array([["a", "0"], ["b", "1"]]),
                      "obj": np.array(["s", b"b"], dtype=object), "n": np.float32(2.5)},
            "list": [1, (2, 3)], "set": {4}}
    path = tmp_path / "data.pkl"
    path.write_bytes(pickle.dumps(data, protocol=protocol))
    loaded = load_numpy_pickle(path)
    np.testing.assert_array_equal(loaded["train"]["x"], data["train"]["x"])
    np.testing.assert_array_equal(loaded["train"]["id"], data["train"]["id"])
    assert list(loaded["train"]["obj"]) == ["s", b"b"] and loaded["train"]["n"] == np.float32(2.5)
    assert loaded["list"] == [1, (2, 3)] and loaded["set"] == {4}


def test_crafted_pickle_with_os_system_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps({"train": RunsCommand(marker)}))
    with pytest.raises(PolymodalError, match=r"evil.pkl: refusing to unpickle (posix|os|nt)\.system"):
        load_numpy_pickle(path)
    assert not marker.exists()


def test_other_globals_and_garbage_are_refused(tmp_path):
    path = tmp_path / "eval.pkl"
    path.write_bytes(pickle.dumps(eval))
    with pytest.raises(PolymodalError, match="refusing to unpickle builtins.eval"):
        load_numpy_pickle(path)
    (tmp_path / "junk.pkl").write_bytes(b"not a pickle at all")
    with pytest.raises(PolymodalError, match="junk.pkl: not a readable pickle"):
        load_numpy_pickle(tmp_path / "junk.pkl")
    with pytest.raises(PolymodalError, match="no such file"):
        load_numpy_pickle(tmp_path / "absent.pkl")


def test_numpy1_module_paths_load(tmp_path):
    """MultiBench's pickles were written by numpy 1, which names numpy.core.multiarray."""
    raw = pickle.dumps({"x": np.arange(4.0)}, protocol=2)
    path = tmp_path / "old.pkl"
    path.write_bytes(raw.replace(b"numpy._core.multiarray", b"numpy.core.multiarray"))
    assert b"numpy.core.multiarray" in path.read_bytes()
    np.testing.assert_array_equal(load_numpy_pickle(path)["x"], np.arange(4.0))

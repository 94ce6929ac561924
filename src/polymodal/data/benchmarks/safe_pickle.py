"""Reading pickled numpy data without executing code from the file.

``pickle.load`` runs whatever callable a file names, so a downloaded pickle
can run any command. Released feature sets such as MultiBench's CMU-MOSI /
MOSEI files (Liang et al., NeurIPS 2021 Datasets and Benchmarks,
``datasets/affect/get_data.py``) are pickled dicts of numpy arrays; this
module loads exactly that and nothing else: :class:`NumpyOnlyUnpickler`
resolves only the numpy array-reconstruction functions and the plain
container types, and refuses every other global with a
:class:`PolymodalError` naming it.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

from polymodal.errors import PolymodalError

ALLOWED_GLOBALS = frozenset({
    # numpy arrays, dtypes and scalars (numpy 1 and numpy 2 module paths)
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"),
    # protocol-2 pickles spell bytes as _codecs.encode(text, "latin1")
    ("_codecs", "encode"),
    # plain containers named by old protocols
    ("builtins", "set"),
    ("builtins", "frozenset"),
    ("builtins", "bytearray"),
    ("__builtin__", "set"),
    ("__builtin__", "frozenset"),
    ("collections", "OrderedDict"),
})
"""(module, name) pairs the unpickler may resolve; everything else is refused."""


class NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler that builds numpy arrays and plain containers only."""

    def __init__(self, file: Any, source: str) -> None:
        super().__init__(file)
        self.source = source

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in ALLOWED_GLOBALS:
            raise PolymodalError(
                f"{self.source}: refusing to unpickle {module}.{name} "
                "(only numpy arrays and plain containers are loaded from pickles)"
            )
        return super().find_class(module, name)


def load_numpy_pickle(path: str | Path) -> Any:
    """The object pickled in ``path``, built through :class:`NumpyOnlyUnpickler`."""
    path = Path(path)
    if not path.is_file():
        raise PolymodalError(f"{path}: no such file")
    with open(path, "rb") as handle:
        try:
            return NumpyOnlyUnpickler(handle, str(path)).load()
        except PolymodalError:
            raise
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError) as err:
            raise PolymodalError(f"{path}: not a readable pickle of numpy arrays ({err})") from None

"""The IDX file format of MNIST, read with numpy.

An IDX file (LeCun et al., yann.lecun.com/exdb/mnist) is a 4-byte magic
number — two zero bytes, a type code, the number of dimensions ``d`` — then
``d`` big-endian ``int32`` sizes, then the values in C order (big-endian for
multi-byte types). Files may be gzip-compressed (``.gz``).
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from polymodal.errors import PolymodalError

IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def read_idx(path: str | Path) -> np.ndarray:
    """The array stored in IDX file ``path`` (gzip-compressed if it ends in ``.gz``)."""
    path = Path(path)
    try:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    except (OSError, EOFError, gzip.BadGzipFile) as err:
        raise PolymodalError(f"{path}: cannot read ({err})") from None
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_TYPES:
        raise PolymodalError(f"{path}: not an IDX file (bad magic number)")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise PolymodalError(f"{path}: IDX header cut short")
    shape = tuple(int(s) for s in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    dtype = np.dtype(IDX_TYPES[raw[2]])
    expected = header + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise PolymodalError(f"{path}: {len(raw)} bytes, but its header {shape} needs {expected}")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def find_idx(directory: Path, stem: str) -> Path:
    """``directory/stem`` or ``directory/stem.gz``, also accepting the ``idx3.ubyte`` spelling."""
    for name in (stem, stem.replace("-idx", ".idx").replace("-ubyte", ".ubyte")):
        for candidate in (directory / name, directory / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    raise PolymodalError(f"{directory}: no {stem} (or {stem}.gz) MNIST file there")


def read_mnist(directory: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """MNIST ``split`` (``train`` or ``test``) from IDX files: uint8 images ``[N, 28, 28]``, int64 labels ``[N]``."""
    directory = Path(directory)
    if not directory.is_dir():
        raise PolymodalError(f"{directory}: no such MNIST folder (it must hold the four IDX files)")
    image_stem, label_stem = MNIST_FILES[split]
    images_path, labels_path = find_idx(directory, image_stem), find_idx(directory, label_stem)
    images, labels = read_idx(images_path), read_idx(labels_path)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise PolymodalError(
            f"{images_path}: images {images.shape} do not match labels {labels.shape} of {labels_path.name}"
        )
    if labels.size and (labels.min() < 0 or labels.max() > 9):
        raise PolymodalError(f"{labels_path}: labels must be digits 0-9")
    return images.astype(np.uint8), labels.astype(np.int64)

"""The on-disk cache of prepared nights: one uncompressed ``.npz`` per night.

A night file holds ``eeg`` and ``eog`` ``[n, 29, 128]`` float32 log spectrograms,
``y`` ``[n]`` int8 stage labels, ``epoch`` ``[n]`` int32 (index of the epoch in
the recording), ``present_eeg`` / ``present_eog`` ``[n]`` bool, and the
``subject``, ``recording`` and ``scoring`` names, and ``signal_eeg`` /
``signal_eog`` ``[n, 3000]`` float32, the band-passed 100 Hz signal of each
epoch (zero where absent; used to corrupt inputs before the STFT). It is written under a
temporary name and moved into place with ``os.replace``, so a night file
either is complete or does not exist. Readers memory-map the arrays (the
members are stored uncompressed), so a dataset over thousands of nights
keeps only the epochs it serves in memory.
"""

from __future__ import annotations

import os
import struct
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from polymodal.errors import PolymodalError

NIGHT_SUFFIX = ".npz"
PARTIAL_MARK = ".partial-"
ARRAY_KEYS = ("eeg", "eog", "y", "epoch", "present_eeg", "present_eog")
SIGNAL_KEYS = ("signal_eeg", "signal_eog")
TEXT_KEYS = ("subject", "recording", "scoring")
_ZIP_LOCAL_HEADER = 30


def night_path(cache_dir: Path, night_id: str) -> Path:
    return cache_dir / f"{night_id}{NIGHT_SUFFIX}"


def write_night(cache_dir: Path, night_id: str, arrays: dict[str, np.ndarray], texts: dict[str, str]) -> Path:
    """Write one night atomically (temporary file, then ``os.replace``)."""
    final = night_path(cache_dir, night_id)
    partial = cache_dir / f".{night_id}{PARTIAL_MARK}{os.getpid()}{NIGHT_SUFFIX}"
    try:
        np.savez(partial, **arrays, **{k: np.array(v) for k, v in texts.items()})
        os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    return final


def remove_partials(cache_dir: Path) -> list[Path]:
    """Delete temporary files left by an interrupted preparation; return them."""
    stale = sorted(cache_dir.glob(f".*{PARTIAL_MARK}*{NIGHT_SUFFIX}"))
    for path in stale:
        path.unlink()
    return stale


def prepared_nights(cache_dir: Path) -> list[str]:
    """Night ids with a complete file in ``cache_dir``, sorted."""
    return sorted(p.name[: -len(NIGHT_SUFFIX)] for p in cache_dir.glob(f"[!.]*{NIGHT_SUFFIX}"))


def read_texts(path: Path) -> dict[str, str]:
    """The ``subject`` / ``recording`` / ``scoring`` names of a night file."""
    with np.load(path) as data:
        return {k: str(data[k]) for k in TEXT_KEYS}


@lru_cache(maxsize=32)
def open_night(path: Path) -> dict[str, np.ndarray]:
    """Read-only memory maps of a night file's arrays (the 32 most recent nights stay open).

    The ``signal_*`` arrays are mapped when the night holds them (caches
    written before they were stored lack them).
    """
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        stored = set(archive.namelist())
        for key in ARRAY_KEYS + tuple(k for k in SIGNAL_KEYS if f"{k}.npy" in stored):
            try:
                info = archive.getinfo(f"{key}.npy")
            except KeyError:
                raise PolymodalError(f"{path.name}: not a prepared night (no {key!r} array)") from None
            if info.compress_type != zipfile.ZIP_STORED:
                raise PolymodalError(f"{path.name}: array {key!r} is compressed; prepared nights are stored uncompressed")
            handle.seek(info.header_offset)
            name_length, extra_length = struct.unpack("<HH", handle.read(_ZIP_LOCAL_HEADER)[26:30])
            handle.seek(info.header_offset + _ZIP_LOCAL_HEADER + name_length + extra_length)
            version = np.lib.format.read_magic(handle)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, dtype = read_header(handle)
            arrays[key] = np.memmap(path, dtype=dtype, mode="r", offset=handle.tell(), shape=shape,
                                    order="F" if fortran else "C")
    return arrays

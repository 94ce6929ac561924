"""The on-disk cache of prepared nights: one uncompressed ``.npz`` per night.

A night file holds, for each modality ``m`` (``eeg`` and ``eog`` unless the
night was prepared from other channels), ``m`` ``[n, 29, 128]`` float32 log
spectrograms, ``present_m`` ``[n]`` bool, ``signal_m`` ``[n, 3000]``
float32, the band-passed 100 Hz signal of each epoch (zero where absent;
used to corrupt inputs before the STFT), and ``band_m`` ``[2]`` float64, the
edges of that band-pass in Hz; and ``y`` ``[n]`` int8 stage
labels, ``epoch`` ``[n]`` int32 (index of the epoch in the recording), and
the ``subject``, ``recording`` and ``scoring`` names. The modalities of a
night are the names ``m`` of its ``present_m`` arrays
(:func:`night_modalities`).

A night is written under a temporary name and moved into place with
``os.replace``, so a night file either is complete or does not exist. A
temporary file is stale when it has not been written to for
:data:`STALE_PARTIAL_SECONDS` (its writer died): only those are removed, so
two preparations into the same folder never delete each other's files in
progress. A night file damaged after it was written (truncated by a full
disk or an interrupted copy) fails :func:`check_night` and is prepared again.

Readers memory-map the arrays (the members are stored uncompressed), so a
dataset over thousands of nights keeps only the epochs it serves in memory.
"""

from __future__ import annotations

import os
import struct
import time
import zipfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from polymodal.errors import PolymodalError

NIGHT_SUFFIX = ".npz"
PARTIAL_MARK = ".partial-"
PRESENT_PREFIX = "present_"
SIGNAL_PREFIX = "signal_"
BAND_PREFIX = "band_"
LABEL_KEYS = ("y", "epoch")
TEXT_KEYS = ("subject", "recording", "scoring")
STALE_PARTIAL_SECONDS = 3600.0
"""A temporary night file untouched for this long was left by a writer that died."""
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


def remove_partials(cache_dir: Path, max_age: float = STALE_PARTIAL_SECONDS) -> list[Path]:
    """Delete the temporary files not written to for ``max_age`` seconds (left by an interrupted run); return them.

    Younger ones may belong to a preparation running now into the same folder and are kept.
    """
    now = time.time()
    stale = []
    for path in sorted(cache_dir.glob(f".*{PARTIAL_MARK}*{NIGHT_SUFFIX}")):
        try:
            if now - path.stat().st_mtime > max_age:
                path.unlink()
                stale.append(path)
        except FileNotFoundError:  # its writer finished or another run removed it meanwhile
            continue
    return stale


def prepared_nights(cache_dir: Path) -> list[str]:
    """Night ids with a complete file in ``cache_dir``, sorted."""
    return sorted(p.name[: -len(NIGHT_SUFFIX)] for p in cache_dir.glob(f"[!.]*{NIGHT_SUFFIX}"))


def read_texts(path: Path) -> dict[str, str]:
    """The ``subject`` / ``recording`` / ``scoring`` names of a night file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: str(data[k]) for k in TEXT_KEYS}
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
        raise PolymodalError(f"{path}: damaged prepared night ({exc}); run `polymodal sleep prepare` again") from None


def night_modalities(arrays: dict[str, np.ndarray]) -> tuple[str, ...]:
    """The modalities of a night's arrays: the names ``m`` of its ``present_m`` arrays, in stored order."""
    return tuple(k[len(PRESENT_PREFIX):] for k in arrays if k.startswith(PRESENT_PREFIX))


def check_night(path: Path) -> None:
    """Raise unless ``path`` is a complete night file: every array within the file, the names readable."""
    map_night(path)
    read_texts(path)


@lru_cache(maxsize=32)
def open_night(path: Path) -> dict[str, np.ndarray]:
    """Read-only memory maps of a night file's arrays (the 32 most recent nights stay open); see :func:`map_night`."""
    return map_night(path)


def map_night(path: Path) -> dict[str, np.ndarray]:
    """Read-only memory maps of the arrays of a night file: ``y``, ``epoch`` and each modality's arrays.

    The ``signal_*`` and ``band_*`` arrays are mapped when the night holds
    them (caches written before they were stored lack them). A file that is not a
    complete night is an error naming it.
    """
    try:
        return _map_arrays(path)
    except (OSError, ValueError, EOFError, struct.error, zipfile.BadZipFile) as exc:
        raise PolymodalError(f"{path}: damaged prepared night ({exc}); run `polymodal sleep prepare` again") from None


def _map_arrays(path: Path) -> dict[str, np.ndarray]:
    arrays = {}
    with zipfile.ZipFile(path) as archive, open(path, "rb") as handle:
        stored = [name[: -len(".npy")] for name in archive.namelist() if name.endswith(".npy")]
        modalities = [k[len(PRESENT_PREFIX):] for k in stored if k.startswith(PRESENT_PREFIX)]
        if not modalities:
            raise PolymodalError(f"{path.name}: not a prepared night (no {PRESENT_PREFIX}<modality> array)")
        keys = [*LABEL_KEYS, *(key for m in modalities for key in (m, f"{PRESENT_PREFIX}{m}")),
                *(f"{prefix}{m}" for prefix in (SIGNAL_PREFIX, BAND_PREFIX) for m in modalities
                  if f"{prefix}{m}" in stored)]
        file_size = os.fstat(handle.fileno()).st_size
        for key in keys:
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
            if dtype.hasobject:
                raise PolymodalError(f"{path.name}: array {key!r} holds Python objects; prepared nights hold numbers")
            offset = handle.tell()
            if offset + int(np.prod(shape)) * dtype.itemsize > file_size:
                raise PolymodalError(f"{path}: array {key!r} runs past the end of the file (truncated); "
                                     f"run `polymodal sleep prepare` again")
            arrays[key] = np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                                    order="F" if fortran else "C")
    return arrays

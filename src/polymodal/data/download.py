"""``polymodal data download fsdd --to DIR``: fetch FSDD at a pinned commit and verify it.

The archive of the pinned upstream commit is downloaded with ``urllib``
(any URL it opens, ``file://`` included), and only the files named
``<top>/recordings/{digit}_{speaker}_{take}.wav`` (plus ``README.md`` and
``metadata.py``) are written, under names built here — never paths taken
from the archive. The recordings' content digest — SHA-256 over the sorted
lines ``<name> <sha256 of the file>`` — must equal the pinned one, so a
re-compressed archive still verifies while any changed recording fails. A
mismatch writes nothing to ``DIR``.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from polymodal.errors import PolymodalError

FSDD_COMMIT = "26eb9aaf76e81b692f806f9140c2d2777410d7a1"
FSDD_URL = f"https://github.com/Jakobovski/free-spoken-digit-dataset/archive/{FSDD_COMMIT}.tar.gz"
FSDD_DIGEST = "dbd573d7cafe79c4b49f65718115e1304e24e067fa39eff18a660dc6cb9c360f"
"""Content digest (:func:`recordings_digest`) of the 3,000 recordings at :data:`FSDD_COMMIT`."""
MEMBER = re.compile(r"^[^/]+/(recordings/\d_[a-z]+_\d+\.wav|README\.md|metadata\.py)$")


def recordings_digest(directory: str | Path) -> str:
    """SHA-256 over the sorted lines ``<name> <sha256>`` of ``directory/recordings/*.wav``."""
    lines = (f"{p.name} {hashlib.sha256(p.read_bytes()).hexdigest()}\n"
             for p in sorted(Path(directory, "recordings").glob("*.wav")))
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def extract_fsdd(archive: Path, target: Path) -> int:
    """Write the archive's FSDD files under ``target``; returns the number of recordings."""
    (target / "recordings").mkdir(parents=True)
    count = 0
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                match = MEMBER.match(member.name)
                if not (match and member.isfile()):
                    continue
                relative = match.group(1)
                with tar.extractfile(member) as source, open(target / relative, "wb") as sink:
                    shutil.copyfileobj(source, sink)
                count += relative.startswith("recordings/")
    except (tarfile.TarError, OSError, EOFError) as err:
        raise PolymodalError(f"{archive}: not a readable FSDD archive ({err})") from None
    return count


def download_fsdd(destination: str | Path, url: str = FSDD_URL, digest: str = FSDD_DIGEST) -> Path:
    """Download FSDD from ``url`` into ``destination`` (which then holds ``recordings/``) after verifying ``digest``."""
    destination = Path(destination).expanduser()
    if (destination / "recordings").exists():
        raise PolymodalError(f"{destination / 'recordings'} already exists; remove it or choose another --to")
    destination.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination, prefix=".download-") as temporary:
        archive = Path(temporary) / "fsdd.tar.gz"
        try:
            with urllib.request.urlopen(url) as response, open(archive, "wb") as sink:  # noqa: S310 (user-chosen URL)
                shutil.copyfileobj(response, sink)
        except (urllib.error.URLError, OSError, ValueError) as err:
            raise PolymodalError(f"{url}: download failed ({err})") from None
        staged = Path(temporary) / "fsdd"
        if extract_fsdd(archive, staged) == 0:
            raise PolymodalError(f"{url}: the archive holds no recordings/*.wav")
        found = recordings_digest(staged)
        if found != digest:
            raise PolymodalError(f"{url}: recordings digest {found} does not match the pinned {digest}; nothing written")
        for item in staged.iterdir():
            shutil.move(str(item), destination / item.name)
    return destination


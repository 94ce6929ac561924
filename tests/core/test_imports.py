"""Every module imports on its own in a fresh interpreter (no import cycles)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import polymodal


def test_every_module_imports_first() -> None:
    names = [m.name for m in pkgutil.walk_packages(polymodal.__path__, "polymodal.") if not m.name.endswith("__main__")]
    script = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n" \
             "    [sys.modules.pop(k) for k in list(sys.modules) if k.startswith('polymodal')]\n"
    result = subprocess.run([sys.executable, "-c", script, *names], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]

"""Make ``harness`` importable by the tests here and by the DDP worker script (run as its own process)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

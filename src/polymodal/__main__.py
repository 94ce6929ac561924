"""``python -m polymodal`` is the same as ``polymodal``."""

import sys

from polymodal.cli import main

sys.exit(main())

"""What the command line prints: results, not the banners of the libraries under it.

Lightning logs its environment ("GPU available: ...", "TPU available: ...",
"Seed set to ...") and advertises its cloud services ("💡 Tip: ...") at INFO
level, and the dependencies raise deprecation warnings meant for polymodal's
maintainers. :func:`configure_output` sets Lightning's log level and the
warning filters once per command that runs Lightning; it is called by the
CLI, never on import.
"""

from __future__ import annotations

import logging
import warnings

LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric")
"""Lightning's top-level loggers; every message of the trainer goes through one of them."""

RANK_ZERO_LOGGERS = ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero")
"""The loggers of Lightning's ``rank_zero_info``, which prints the tips."""

NOT_POLYMODAL = r"(?!polymodal(\.|$))"
"""Matches the name of any module outside polymodal (the ``module`` field of a warning filter)."""


class HideTips(logging.Filter):
    """Drop Lightning's advertisements ("💡 Tip: For seamless cloud logging ...")."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("💡 Tip")


HIDE_TIPS = HideTips()


def configure_output(verbose: bool = False) -> None:
    """Quiet Lightning and the dependencies' deprecation warnings.

    Without ``verbose`` Lightning shows warnings and errors only; with it, its
    informational messages too (devices, seed, checkpoint restored), never
    the tips. Deprecation warnings raised inside polymodal's own modules still show.
    """
    import lightning.pytorch  # noqa: F401  (importing Lightning sets its loggers to INFO: set them after)

    for name in LIGHTNING_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO if verbose else logging.WARNING)
    for name in RANK_ZERO_LOGGERS:
        logging.getLogger(name).addFilter(HIDE_TIPS)
    for category in (DeprecationWarning, PendingDeprecationWarning, FutureWarning):
        warnings.filterwarnings("ignore", category=category, module=NOT_POLYMODAL)

"""User-facing errors.

Every error caused by user input (a bad name, a bad file, a bad shape) is a
:class:`PolymodalError`. The CLI prints it as one line naming the culprit and
exits non-zero without a traceback; library users can catch it.
"""


class PolymodalError(ValueError):
    """An error in user input: printed as one line by the CLI."""


class UnknownNameError(PolymodalError, KeyError):
    """A name (method, fusion, encoder, dataset, ...) that no registry knows."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class FitInterrupted(Exception):
    """Training was stopped by the user or the system (Ctrl-C, SIGTERM): the CLI says how to resume, exit 130."""

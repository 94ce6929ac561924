"""The ``polymodal`` command.

Subcommands: ``fit``, ``validate``, ``test``, ``predict`` (Lightning's CLI, see
:mod:`polymodal.runner`), ``demo``, ``bench SUITE``, ``sleep prepare|synth``,
``data prepare`` and ``data download``. A user error
(:class:`~polymodal.errors.PolymodalError`) is printed as one line and exits
with status 2, without a traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Sequence

from polymodal.errors import FitInterrupted, PolymodalError
from polymodal.threads import configure_threads

USAGE = """usage: polymodal {fit,validate,test,predict,demo,bench,sleep,data} ...

  fit       train a model (--config FILE, dotted overrides, short forms
            --method --fusion --encoder --task --objective --dataset
            --modality --method_options.* --max_epochs --seed --out)
  validate  evaluate a checkpoint on validation data (--ckpt_path FILE --data.val FILE)
  test      evaluate a checkpoint on test data (--ckpt_path FILE --data.test FILE [--out DIR])
  predict   write a checkpoint's predictions (--ckpt_path FILE --data.test FILE [--out DIR])
  demo      the README's demo: balancing methods on UCI Multiple Features
  bench     run a benchmark suite: polymodal bench {balance,contrastive,sleep} --help
  sleep     polysomnography tools: polymodal sleep {prepare,synth} --help
  data      dataset tools: polymodal data prepare {cremad,ave,kinetics-sounds,ucf101} SRC --out DIR;
            polymodal data download fsdd --to DIR
"""


LIGHTNING_CLI_COMMANDS = ("fit", "validate", "test", "predict")
"""The subcommands of Lightning's CLI (:mod:`polymodal.runner`)."""

TRAINING_COMMANDS = frozenset({*LIGHTNING_CLI_COMMANDS, "demo", "bench"})
"""The commands that run Lightning, one run at a time: torch's threads are sized for them, and
Lightning's banners and the dependencies' deprecation warnings are hidden."""


def dispatch(argv: Sequence[str]) -> int:
    """Run one command; heavy modules are imported only by the command that needs them."""
    if not argv or argv[0] in {"-h", "--help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], list(argv[1:])
    if command in TRAINING_COMMANDS:
        from polymodal.console import configure_output

        configure_output(verbose=command == "fit" and "--verbose" in rest)
        configure_threads()
    if command in LIGHTNING_CLI_COMMANDS:
        from polymodal.runner import run as run_lightning_cli

        run_lightning_cli([command, *rest])
    elif command == "demo":
        from polymodal.demo import demo_main

        return demo_main(rest)
    elif command == "bench":
        from polymodal.bench.cli import bench_main

        return bench_main(rest)
    elif command == "sleep":
        from polymodal.data.sleep.cli import sleep_main

        return sleep_main(rest)
    elif command == "data":
        from polymodal.data.cli import data_main

        return data_main(rest)
    else:
        raise PolymodalError(f"unknown command {command!r}; choose one of: "
                             f"{', '.join(LIGHTNING_CLI_COMMANDS)}, demo, bench, sleep, data")
    return 0


NOISE = ("Does not validate against", "Subtypes:", "Errors:", "Expected a <class 'NoneType'>", "Given value")


def user_error_message(err: BaseException) -> str | None:
    """One line for a user error: a PolymodalError anywhere in the exception chain
    (jsonargparse wraps errors raised while instantiating classes), or a
    command-line parsing error condensed to its informative lines."""
    from jsonargparse import ArgumentError

    seen: BaseException | None = err
    while seen is not None:
        if isinstance(seen, PolymodalError):
            return str(seen)
        seen = seen.__cause__ or seen.__context__
    if isinstance(err, ArgumentError):
        lines = [line.strip(" -").rstrip(":") for line in str(err).splitlines()]
        return ": ".join(line for line in lines if line and not line.startswith(NOISE))
    return None


def silence_closed_stdout() -> int:
    """After the reader of stdout went away (``polymodal --help | head -3``): point stdout at
    ``/dev/null`` so that the interpreter's final flush does not fail, and return the status of
    a process stopped by SIGPIPE."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout without a file descriptor (an in-memory stream)
        pass
    return 128 + signal.SIGPIPE


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``polymodal`` console script."""
    try:
        try:
            return run(argv)
        finally:
            sys.stdout.flush()
    except BrokenPipeError:
        return silence_closed_stdout()


def run(argv: Sequence[str] | None) -> int:
    """Dispatch the command; a user error becomes one line on stderr and exit status 2."""
    try:
        return dispatch(list(sys.argv[1:] if argv is None else argv))
    except FitInterrupted as stop:
        print(f"polymodal: {stop}", file=sys.stderr)
        return 130
    except Exception as err:
        message = user_error_message(err)
        if message is None:
            raise
        print(f"polymodal: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("polymodal: interrupted", file=sys.stderr)
        return 130

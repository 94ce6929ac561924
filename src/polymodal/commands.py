"""Tool commands as typed functions: ``polymodal data ...`` and ``polymodal sleep ...``.

Each subcommand is a function whose signature is its options (required
parameters positional, keyword-only ones as ``--options``), read through
jsonargparse: values are checked against the type hints, the docstring's
``Args`` are the help, and ``--config FILE.yaml`` sets any of them. Old
spellings stay as hidden aliases, and boolean switches are flags.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from jsonargparse import ActionConfigFile, ArgumentParser


@dataclass(frozen=True)
class Subcommand:
    """A subcommand: its function, one line of help, hidden aliases (``{"--frame-size": "frame_size"}``)
    and flags (``{"require_all_stages": help}``: ``--require_all_stages`` alone sets it)."""

    function: Callable[..., int]
    help: str
    aliases: Mapping[str, str] = field(default_factory=dict)
    flags: Mapping[str, str] = field(default_factory=dict)


def documented_parser(documented: object, prog: str | None = None) -> ArgumentParser:
    """A parser described by the first paragraph of ``documented``'s docstring, with ``--config FILE.yaml``;
    errors raise instead of exiting, and options are never abbreviated."""
    parser = ArgumentParser(prog=prog, description=(documented.__doc__ or "").split("\n\n")[0],
                            exit_on_error=False, allow_abbrev=False)
    parser.add_argument("--config", action=ActionConfigFile, help="a YAML file of these options")
    return parser


def function_parser(command: Subcommand) -> ArgumentParser:
    """The options of ``command.function``, ``--config``, its flags and its hidden aliases."""
    parser = documented_parser(command.function)
    parser.add_function_arguments(command.function, as_positional=True, skip=set(command.flags))
    for name, help_text in command.flags.items():
        parser.add_argument(f"--{name}", action="store_true", help=help_text)
    for alias, dest in command.aliases.items():
        parser.add_argument(alias, dest=dest, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    return parser


def run_subcommand(prog: str, description: str, subcommands: Mapping[str, Subcommand], argv: Sequence[str]) -> int:
    """Parse ``argv`` (``SUBCOMMAND ...``) and call that subcommand's function with its options."""
    parser = ArgumentParser(prog=prog, description=description, exit_on_error=False, allow_abbrev=False)
    commands = parser.add_subcommands(dest="command")
    for name, command in subcommands.items():
        commands.add_subcommand(name, function_parser(command), help=command.help)
    config = parser.parse_args(list(argv))
    options: dict[str, Any] = config[config.command].as_dict()
    options.pop("config", None)
    return subcommands[config.command].function(**options)

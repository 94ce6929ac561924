"""Command-line options of a benchmark suite, read through jsonargparse from one dataclass.

``polymodal bench SUITE --help`` lists the dataclass's fields with their
documentation; ``--config FILE.yaml`` sets any of them from a file (options
after it override it). Lists are given comma-separated (``--methods
joint,mlb``) or as YAML lists (``methods: [joint, mlb]`` in a config);
option maps as JSON or YAML (``--method_options '{"mlb": {"alpha": 1.0}}'``).
A bad option is a :class:`~polymodal.errors.PolymodalError` naming it.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

from jsonargparse import ArgumentError, ArgumentParser
from jsonargparse.typing import register_type

from polymodal.commands import documented_parser
from polymodal.errors import PolymodalError

T = TypeVar("T")


def comma_list(text: str) -> list[str]:
    """``"a, b,c"`` → ``["a", "b", "c"]``."""
    return [item.strip() for item in text.split(",") if item.strip()]


class Names(list):
    """A list of names, given as ``a,b,c`` on the command line or as a YAML list."""


class Numbers(list):
    """A list of floats, given as ``1.0,0.5`` on the command line or as a YAML list."""


def _names(value: str | Sequence[str]) -> Names:
    return Names(comma_list(value) if isinstance(value, str) else [str(v) for v in value])


def _numbers(value: str | Sequence[float]) -> Numbers:
    items = comma_list(value) if isinstance(value, str) else value
    try:
        return Numbers(float(v) for v in items)
    except ValueError as err:
        raise ValueError(f"expected comma-separated numbers, got {value!r}") from err


register_type(Names, lambda v: ",".join(v), _names)
register_type(Numbers, lambda v: ",".join(f"{x:g}" for x in v), _numbers)


def options_parser(cls: type, prog: str) -> ArgumentParser:
    """The parser of ``cls``'s fields, with ``--config``; its description is the class docstring's first paragraph."""
    parser = documented_parser(cls, prog)
    parser.add_class_arguments(cls, as_group=False)
    return parser


def build_dataclass(cls: type[T], values: dict[str, Any]) -> T:
    """``cls(**values)``, nested dataclass fields built from their dicts."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.name not in values:
            continue
        value = values[f.name]
        if dataclasses.is_dataclass(hints[f.name]) and isinstance(value, dict):
            value = build_dataclass(hints[f.name], value)
        elif isinstance(value, list):
            value = list(value)  # plain lists: options end up in checkpoints, which load only known types
        kwargs[f.name] = value
    return cls(**kwargs)


def parse_options(cls: type[T], argv: Sequence[str], prog: str) -> T:
    """Read ``argv`` into ``cls``; a bad option or value is a one-line :class:`PolymodalError`."""
    from polymodal.cli import user_error_message

    parser = options_parser(cls, prog)
    try:
        config = parser.parse_args(list(argv))
    except ArgumentError as err:
        raise PolymodalError(f"{prog}: {user_error_message(err)}") from None
    values = config.as_dict()
    values.pop("config", None)
    return build_dataclass(cls, values)

"""A small name → factory registry whose lookups fail loudly.

Registries replace string dispatch over module globals: every method,
fusion head, encoder, objective and dataset registers under an explicit name,
and an unknown name raises :class:`~polymodal.errors.UnknownNameError` that
lists the valid choices.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from polymodal.errors import PolymodalError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to factories (classes or functions) of one kind of component."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; duplicate names raise."""

        def add(obj: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._entries[name] = obj
            return obj

        return add

    def get(self, name: str) -> T:
        """Return the entry for ``name`` — a registered name, or a user's class by import path
        (``mypkg.MyFusion``) — or raise with the list of valid names."""
        if name in self._entries:
            return self._entries[name]
        if "." in name:
            return import_class(name, object)
        raise UnknownNameError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(self.names())}")

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())


def import_class(path: str, base: type, imported_only: bool = False) -> Any:
    """The subclass of ``base`` at import path ``path`` (``package.module.Class``).

    With ``imported_only`` (paths read from a checkpoint) the module must
    already be imported: a file never makes polymodal import new code.
    """
    module_name, _, attribute = path.rpartition(".")
    if imported_only and module_name not in sys.modules:
        raise PolymodalError(f"{path!r}: its module is not imported; import it before loading")
    try:
        obj = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError, ValueError):
        raise PolymodalError(f"cannot import {path!r}") from None
    if not (isinstance(obj, type) and issubclass(obj, base)):
        raise PolymodalError(f"{path!r} is not a subclass of {base.__name__}")
    return obj


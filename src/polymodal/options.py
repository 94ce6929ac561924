"""Keyword options of a registered component, checked against its signature.

A misspelt option (``--fusion_options.hiden``) is an error naming it and the
options the component takes, raised before the component is built.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Mapping
from typing import Any

from polymodal.errors import PolymodalError


def option_names(factory: Callable[..., Any], supplied: Collection[str]) -> list[str] | None:
    """The keyword options ``factory`` takes besides the ``supplied`` arguments (None: it takes any)."""
    parameters = inspect.signature(factory).parameters.values()
    if any(p.kind is p.VAR_KEYWORD for p in parameters):
        return None
    keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    return [p.name for p in parameters if p.kind in keyword and p.name not in supplied]


def check_options(factory: Callable[..., Any], options: Mapping[str, Any], supplied: Collection[str] = (),
                  what: str = "") -> None:
    """Raise naming the first option ``factory`` does not take, and the ones it does (after ``what: ``)."""
    valid = option_names(factory, supplied)
    unknown = [name for name in options if valid is not None and name not in valid]
    if unknown:
        choices = f"valid options: {', '.join(valid)}" if valid else "it takes no options"
        raise PolymodalError(f"{what + ': ' if what else ''}unknown option {unknown[0]!r}; {choices}")

"""Components built from a class and keyword options: methods, fusion heads, encoders, contrastive objectives.

A component is a typed argument of a task: on the command line a class name
or import path with its options (``--model.balancer MLB
--model.balancer.alpha 0.8``, ``--model.fusion MidMLPFusion
--model.fusion.hidden_dim 64``, or a user's ``mypkg.MyFusion``), in Python
an instance, a registry name, or a ``{class_path, init_args}`` mapping.
Every instance records the options it was built with, so a task stores the
component in its hyperparameters as that plain mapping — never as a pickled
module — and a checkpoint rebuilds it without importing new code.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypeVar

from polymodal.errors import PolymodalError
from polymodal.options import check_options
from polymodal.registry import Registry, import_class

C = TypeVar("C", bound="Component")


class Component:
    """Mixin recording the keyword options of the outermost ``__init__`` call (:attr:`init_args`)."""

    supplied_args: ClassVar[tuple[str, ...]] = ()
    """Arguments the task supplies from the data (sizes); not options, so not recorded."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" in cls.__dict__:
            cls.__init__ = _recording_init(cls.__dict__["__init__"])

    @property
    def init_args(self) -> dict[str, Any]:
        """The options this instance was built with (those given explicitly)."""
        recorded = self.__dict__.get("_init_args", {})
        return {k: v for k, v in recorded.items() if k not in self.supplied_args}

    def config(self) -> dict[str, Any]:
        """``{class_path, init_args}``: what rebuilds this component (:func:`build_component`)."""
        cls = type(self)
        return {"class_path": f"{cls.__module__}.{cls.__qualname__}", "init_args": self.init_args}


def _recording_init(init: Callable[..., None]) -> Callable[..., None]:
    """Wrap a subclass's ``__init__`` so the outermost call records its arguments."""

    @functools.wraps(init)
    def recording_init(self: Component, *args: Any, **kwargs: Any) -> None:
        if "_init_args" not in self.__dict__:
            arguments = inspect.signature(init).bind(self, *args, **kwargs).arguments
            self.__dict__["_init_args"] = dict(list(arguments.items())[1:])
        init(self, *args, **kwargs)

    return recording_init


def build_component(spec: Any, registry: Registry[type[C]], base: type[C], *supplied: Any, what: str,
                    **options: Any) -> C:
    """The ``base`` instance ``spec`` names.

    ``spec`` is an instance (returned as is), a registry name or import path
    (built with ``options``, checked against the signature), a ``{class_path,
    init_args}`` mapping (what checkpoints store: its class must already be
    imported), or a factory taking the ``supplied`` arguments (what the CLI
    makes of ``--model.fusion CLASS --model.fusion.OPTION VALUE``).
    """
    if isinstance(spec, base):
        return spec
    if isinstance(spec, Mapping) and "class_path" in spec:
        path = spec["class_path"]
        cls = import_class(path, base, imported_only=True) if "." in path else registry.get(path)
        options = {**dict(spec.get("init_args") or {}), **options}
        what = f"{what} {path!r}" if what else ""
    elif isinstance(spec, str):
        cls = import_class(spec, base) if "." in spec and spec not in registry else registry.get(spec)
        what = f"{what} {spec!r}" if what else ""
    elif callable(spec) and not options:
        built = spec(*supplied)
        if not isinstance(built, base):
            raise PolymodalError(f"{what}: the factory built a {type(built).__name__}, not a {base.__name__}")
        return built
    else:
        raise PolymodalError(f"{what}: expected a {base.__name__}, a name or {{class_path, init_args}}; got {spec!r}")
    check_options(cls, options, supplied=cls.supplied_args, what=what)
    return cls(*supplied, **options)

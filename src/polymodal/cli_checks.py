"""Checks of command-line and config options that Lightning, torch or YAML would
otherwise reject with a traceback, or never finish with.

* Config files (``--config FILE``) must be UTF-8 text of at most
  :data:`MAX_CONFIG_BYTES`; every YAML document the parser loads (a config
  file or an option's value) may expand to at most :data:`MAX_YAML_VALUES`
  values through its aliases, so a "billion laughs" file fails at once.
* Trainer options: ``max_epochs`` and ``max_steps`` are ``>= -1``; the
  accelerator is one Lightning knows and available on this machine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from polymodal.errors import PolymodalError

MAX_CONFIG_BYTES = 1 << 20
"""The largest config file read (1 MiB)."""

MAX_YAML_VALUES = 100_000
"""The most values (scalars, lists and mappings, aliases expanded) a YAML document may hold."""

CONFIG_OPTIONS = ("--config", "-c")
"""The options that name a config file."""

GPU_BACKENDS = ("cuda", "mps")
"""The accelerators Lightning picks from for ``accelerator="gpu"``."""


def check_command_line(argv: Sequence[str]) -> None:
    """Before parsing ``argv``: limit YAML loading and check the config files it names."""
    limit_yaml_loading()
    for path in config_paths(argv):
        check_config_file(path)


def config_paths(argv: Sequence[str]) -> list[Path]:
    """The files given as ``--config FILE`` or ``--config=FILE`` (values that are not files are left to the parser)."""
    paths = []
    for i, arg in enumerate(argv):
        key, sep, value = arg.partition("=")
        if key in CONFIG_OPTIONS:
            value = value if sep else (argv[i + 1] if i + 1 < len(argv) else "")
            if Path(value).is_file():
                paths.append(Path(value))
    return paths


def check_config_file(path: Path) -> None:
    """A config file must be UTF-8 text of at most :data:`MAX_CONFIG_BYTES`."""
    size = path.stat().st_size
    if size > MAX_CONFIG_BYTES:
        raise PolymodalError(f"{path}: config file of {size:,} bytes, more than the limit of {MAX_CONFIG_BYTES:,}")
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise PolymodalError(f"{path}: not a text config file (byte {err.object[err.start]:#04x} at offset "
                             f"{err.start} is not UTF-8)") from None


class LimitedYamlLoader:
    """A YAML loader for jsonargparse that refuses documents over the size and expansion limits, then loads
    with the loader it wraps."""

    def __init__(self, load: Callable[[str], Any]) -> None:
        self.load = load

    def __call__(self, text: str, path: str = "") -> Any:
        name = path or "YAML value"
        if len(text) > MAX_CONFIG_BYTES:
            raise PolymodalError(f"{name}: {len(text):,} characters of YAML, more than the limit of "
                                 f"{MAX_CONFIG_BYTES:,}")
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        if node is not None:
            check_expansion(node, name)
        return self.load(text)


def limit_yaml_loading() -> None:
    """Make jsonargparse load YAML through :class:`LimitedYamlLoader` (once per process)."""
    from jsonargparse import get_loader, set_loader

    load = get_loader("yaml")
    if not isinstance(load, LimitedYamlLoader):
        set_loader("yaml", LimitedYamlLoader(load), exceptions=(yaml.YAMLError,))


def children(node: yaml.Node) -> list[yaml.Node]:
    """The items of a sequence node, the keys and values of a mapping node (a scalar has none)."""
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def check_expansion(root: yaml.Node, name: str) -> None:
    """Raise when ``root`` holds more than :data:`MAX_YAML_VALUES` values with its aliases expanded,
    or an alias inside the node it names (a structure without end).

    An alias is the node it refers to, so each node's expanded size is counted
    once and reused (depth-first, without recursion).
    """
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        if finished:
            open_nodes.discard(id(node))
            sizes[id(node)] = 1 + sum(sizes[id(child)] for child in children(node))
            if sizes[id(node)] > MAX_YAML_VALUES:
                raise PolymodalError(f"{name}: YAML expands to more than {MAX_YAML_VALUES:,} values through its "
                                     f"aliases (*name); refusing to load it")
        elif id(node) not in sizes:
            if id(node) in open_nodes:
                raise PolymodalError(f"{name}: a YAML alias refers to the node that contains it")
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in children(node))


def check_trainer_options(trainer: Mapping[str, Any]) -> None:
    """Trainer options that Lightning would reject with a traceback."""
    for option in ("max_epochs", "max_steps"):
        value = trainer.get(option)
        if value is not None and value < -1:
            raise PolymodalError(f"trainer option {option} must be >= 0, or -1 for no limit; got {value}")
    check_accelerator(trainer.get("accelerator"))


def check_accelerator(accelerator: Any) -> None:
    """A named accelerator must be one Lightning knows and available here (``auto`` and instances pass)."""
    from lightning.pytorch.accelerators import AcceleratorRegistry

    if not isinstance(accelerator, str) or accelerator == "auto":
        return
    known = sorted(AcceleratorRegistry.available_accelerators())
    if accelerator != "gpu" and accelerator not in known:
        raise PolymodalError(f"unknown accelerator {accelerator!r}; choose one of: auto, gpu, {', '.join(known)}")
    backends = GPU_BACKENDS if accelerator == "gpu" else (accelerator,)
    if not any(AcceleratorRegistry[name]["accelerator"].is_available() for name in backends):
        raise PolymodalError(f"accelerator {accelerator!r} is not available on this machine; use 'cpu' or 'auto'")

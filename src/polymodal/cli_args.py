"""Short command-line forms, rewritten to the full Lightning CLI keys.

``polymodal fit --method mlb --method_options.alpha 1 --fusion late --max_epochs 20
--seed 0 --out DIR`` is the same as ``--model.balancer polymodal.balance.mlb.MLB
--model.balancer.alpha 1 --model.fusion late --trainer.max_epochs 20
--seed_everything 0 --out DIR``: ``--method`` takes a registry name (or an
import path) and ``--method_options.*`` are the method's own options. ``--task NAME`` picks the task class
(``supervised``, ``contrastive``, ``sleep``); ``--dataset NAME[:m1+m2]`` a
built-in dataset (``polymodal.data.DATASETS``), optionally restricted to
some modalities.
"""

from __future__ import annotations

from collections.abc import Sequence

from polymodal.errors import PolymodalError

SHORT_FORMS = {
    "--fusion": "--model.fusion",
    "--encoder": "--model.encoder",
    "--objective": "--model.objective",
    "--max_epochs": "--trainer.max_epochs",
    "--seed": "--seed_everything",
    "--modality": "--model.modalities",
    "--ckpt": "--ckpt_path",
}

MODEL_OPTION_GROUPS = ("--objective_options", "--encoder_options", "--fusion_options")
"""``--fusion_options.hidden_dim 8`` is ``--model.fusion_options.hidden_dim 8`` (and likewise for the others)."""

TASK_CLASSES = {
    "supervised": "polymodal.tasks.SupervisedTask",
    "contrastive": "polymodal.tasks.ContrastiveTask",
    "sleep": "polymodal.tasks.SleepTask",
}


def split_option(arg: str) -> tuple[str, str | None]:
    """``--key=value`` → (``--key``, ``value``); ``--key`` → (``--key``, None)."""
    key, sep, value = arg.partition("=")
    return key, (value if sep else None)


def expand_short_forms(argv: Sequence[str]) -> list[str]:
    """Rewrite the short forms in ``argv``; everything else passes through."""
    out: list[str] = []
    method_options: list[str] = []  # after the method's class, wherever they were given
    args = list(argv)
    i = 0
    while i < len(args):
        key, value = split_option(args[i])
        if key.startswith("--method_options."):
            method_options.append("--model.balancer." + args[i][len("--method_options."):])
            if value is None and i + 1 < len(args):
                method_options.append(args[i + 1])
                i += 1
        elif key in SHORT_FORMS or key in ("--task", "--dataset", "--method"):
            if value is None:
                if i + 1 >= len(args):
                    raise PolymodalError(f"option {key} needs a value")
                value = args[i + 1]
                i += 1
            if key == "--dataset":
                out += dataset_arguments(value)
            elif key == "--method":
                out += ["--model.balancer", balancer_class_path(value)]
            elif key == "--task":
                if value not in TASK_CLASSES:
                    raise PolymodalError(f"unknown task {value!r}; choose one of: {', '.join(TASK_CLASSES)}")
                out += ["--model", TASK_CLASSES[value]]
            elif key == "--modality":
                out += [SHORT_FORMS[key], f"[{value}]"]
            else:
                out += [SHORT_FORMS[key], value]
        elif key.split(".")[0] in MODEL_OPTION_GROUPS:
            out.append("--model." + args[i][2:])
        else:
            out.append(args[i])
        i += 1
    return out + method_options


def balancer_class_path(name: str) -> str:
    """The import path of the method registered as ``name`` (an import path passes through)."""
    if "." in name:
        return name
    from polymodal.balance import BALANCERS

    cls = BALANCERS.get(name)
    return f"{cls.__module__}.{cls.__qualname__}"


def dataset_arguments(spec: str) -> list[str]:
    """``mfeat:kar+mor`` → ``--data <class path> --data.modalities [kar,mor]`` (plus preset options)."""
    from functools import partial

    from polymodal.data.builtin import DATASETS, parse_dataset_spec

    name, modalities = parse_dataset_spec(spec)
    factory = DATASETS.get(name)
    cls = factory.func if isinstance(factory, partial) else factory
    args = ["--data", f"{cls.__module__}.{cls.__qualname__}"]
    for option, value in (factory.keywords if isinstance(factory, partial) else {}).items():
        args += [f"--data.{option}", str(value)]
    if modalities:
        args += ["--data.modalities", "[" + ",".join(modalities) + "]"]
    return args

"""Short command-line forms, rewritten to the full Lightning CLI keys.

``polymodal fit --method mlb --fusion late --max_epochs 20 --seed 0 --out DIR``
is the same as ``--model.method mlb --model.fusion late --trainer.max_epochs 20
--seed_everything 0 --out DIR``. ``--task NAME`` picks the task class
(``supervised``, ``contrastive``, ``sleep``); ``--dataset NAME[:m1+m2]`` a
built-in dataset (``polymodal.data.DATASETS``), optionally restricted to
some modalities.
"""

from __future__ import annotations

from collections.abc import Sequence

from polymodal.errors import PolymodalError

SHORT_FORMS = {
    "--method": "--model.method",
    "--fusion": "--model.fusion",
    "--encoder": "--model.encoder",
    "--objective": "--model.objective",
    "--max_epochs": "--trainer.max_epochs",
    "--seed": "--seed_everything",
    "--modality": "--model.modalities",
}

MODEL_OPTION_GROUPS = ("--method_options", "--objective_options", "--encoder_options", "--fusion_options")
"""``--method_options.alpha 1`` is ``--model.method_options.alpha 1`` (and likewise for the others)."""

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
    args = list(argv)
    i = 0
    while i < len(args):
        key, value = split_option(args[i])
        if key in SHORT_FORMS or key in ("--task", "--dataset"):
            if value is None:
                if i + 1 >= len(args):
                    raise PolymodalError(f"option {key} needs a value")
                value = args[i + 1]
                i += 1
            if key == "--dataset":
                out += dataset_arguments(value)
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
    return out


def pop_option(argv: list[str], *names: str) -> str | None:
    """Remove ``--name VALUE`` (or ``--name=VALUE``) from ``argv`` and return VALUE."""
    for i, arg in enumerate(argv):
        key, value = split_option(arg)
        if key in names:
            if value is None:
                if i + 1 >= len(argv):
                    raise PolymodalError(f"option {key} needs a value")
                value = argv[i + 1]
                del argv[i : i + 2]
            else:
                del argv[i]
            return value
    return None


def pop_flag(argv: list[str], name: str) -> bool:
    """Remove the flag ``name`` (also ``name=true``) from ``argv``; True if it was there."""
    for i, arg in enumerate(argv):
        key, value = split_option(arg)
        if key == name:
            del argv[i]
            if value is not None and value.lower() not in ("true", "1", "yes"):
                return False
            return True
    return False


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

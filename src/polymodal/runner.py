"""``polymodal fit | validate | test | predict``: Lightning's CLI with polymodal's run directory.

Each subcommand is a :class:`~lightning.pytorch.cli.LightningCLI` subcommand
(its options: ``polymodal fit --help``). ``fit`` writes into its run
directory (``--out``): the resolved ``config.yaml``, ``checkpoints/`` (best
by the task's validation metric, and ``last.ckpt`` for resuming with
``--ckpt_path last``), CSV logs (``metrics.csv``), and — after evaluating the
best checkpoint on the test split (the validation split without one) —
``metrics.json`` with flat keys such as ``test/acc``
(:class:`~polymodal.callbacks.MetricsFile`). ``validate``, ``test`` and
``predict`` take ``--ckpt_path FILE``: the task and its options are read
from the checkpoint, the data from the command line, and results go to
``<run>/<subcommand>`` unless ``--out`` says otherwise, so the fit's own
``metrics.json`` is never overwritten.
"""

from __future__ import annotations

import warnings
from argparse import RawDescriptionHelpFormatter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import lightning as L
import torch
import yaml
from jsonargparse import DefaultHelpFormatter
from lightning.fabric.utilities.rank_zero import rank_zero_only
from lightning.pytorch.cli import LightningArgumentParser, LightningCLI
from lightning.pytorch.utilities.exceptions import SIGTERMException

from polymodal.cli_args import expand_short_forms
from polymodal.cli_checks import check_command_line, check_trainer_options, config_paths
from polymodal.csv_log import ResumableCSVLogger
from polymodal.callbacks import BestCheckpoint, MetricsFile, PatientEarlyStopping, PredictionsFile
from polymodal.data.contract import DataInfo
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.errors import FitInterrupted, PolymodalError
from polymodal.registry import import_class
from polymodal.resume import ExactResume
from polymodal.run_directory import prepare_run_directory
from polymodal.tasks.registry import TASK_KEY, TASKS

SUBCOMMANDS = ("fit", "validate", "test", "predict")
SHORT_FORMS_HELP = """\
Short forms (rewritten to the options further below):
  --dataset NAME[:m1+m2]        a built-in dataset, e.g. mfeat:kar+mor, av-digits:hard, xor
  --task NAME                   supervised (default), contrastive or sleep
  --method NAME                 balancing method, e.g. joint, multiloss, mlb, mcr, ogm_ge, agm
                                (= --model.balancer CLASS; a Balancer subclass by import path)
  --method_options.KEY VALUE    the method's options (= --model.balancer.KEY VALUE)
  --fusion NAME, --fusion_options.KEY VALUE      fusion head and its options
  --encoder NAME, --encoder_options.KEY VALUE    encoder (all modalities, or {m: name}) and options
  --objective NAME, --objective_options.KEY VALUE   contrastive objective, e.g. confu, pairwise
  --modality a,b                use only these modalities
  --max_epochs N, --seed N, --ckpt FILE (= --ckpt_path FILE)
Data (npz files: one array per modality, plus y):
  --data.train FILE, --data.val FILE, --data.test FILE, --data.batch_size N, --data.num_workers N
"""
HELP = {
    "fit": ("Train a model, keep its best validation checkpoint, evaluate it, write the run directory.",
            SHORT_FORMS_HELP + """\
Run directory:
  --out DIR (default runs/latest), --overwrite, --ckpt_path last (resume), --early_stopping N,
  --verbose (model summary), --config FILE (YAML; later options override it)
"""),
    "validate": ("Evaluate a checkpoint on validation data.", "  --ckpt_path FILE --data.val FILE [--out DIR]\n"),
    "test": ("Evaluate a checkpoint on test data.",
             "  --ckpt_path FILE --data.test FILE [--out DIR] [--conditions ...] (sleep staging)\n"),
    "predict": ("Write a checkpoint's predictions to predictions.npz.",
                "  --ckpt_path FILE --data.test FILE [--out DIR]\n"),
}
"""Each subcommand's summary and the options shown first in its ``--help``."""


class HelpFormatter(RawDescriptionHelpFormatter, DefaultHelpFormatter):
    """jsonargparse's help with the description printed as written."""


def subcommand_parser_options(name: str) -> dict[str, Any]:
    summary, first = HELP[name]
    return {"prog": f"polymodal {name}", "exit_on_error": False, "allow_abbrev": False, "formatter_class": HelpFormatter,
            "usage": f"polymodal {name} [short forms] [--config FILE] [options]",
            "description": f"{summary}\n\n{first}\nAll options (Lightning's CLI):"}
DEFAULT_OUT = "runs/latest"
DEFAULT_CLASSES = {"model": "polymodal.tasks.supervised.SupervisedTask", "data": "polymodal.data.npz.NpzDataModule"}
"""The task and data classes when the command line, its configs and its checkpoint name none."""


def data_info_of(datamodule: MultimodalDataModule) -> dict[str, Any]:
    return datamodule.info.to_dict()


def option_value(argv: Sequence[str], name: str) -> str | None:
    """The value of ``--name VALUE`` or ``--name=VALUE`` in ``argv`` (the last one given)."""
    value = None
    for i, arg in enumerate(argv):
        key, sep, rest = arg.partition("=")
        if key == name:
            value = rest if sep else (argv[i + 1] if i + 1 < len(argv) else None)
    return value


def checkpoint_task(ckpt_path: str) -> str:
    """The class path of the task a checkpoint holds (recorded by every polymodal task)."""
    path = Path(ckpt_path)
    if not path.is_file():
        raise PolymodalError(f"--ckpt_path {ckpt_path}: no such checkpoint")
    try:
        # memory-mapped: only the task's name is read here; Lightning loads the weights later
        checkpoint = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
    except Exception as err:  # torch raises several types for a file that is not a checkpoint
        raise PolymodalError(f"--ckpt_path {ckpt_path}: not a readable checkpoint ({err.__class__.__name__})") from None
    if not isinstance(checkpoint, dict) or TASK_KEY not in checkpoint:
        raise PolymodalError(f"--ckpt_path {ckpt_path}: not a polymodal checkpoint (no task recorded)")
    cls = TASKS.get(checkpoint[TASK_KEY])
    return f"{cls.__module__}.{cls.__qualname__}"


def default_classes(subcommand: str, argv: Sequence[str]) -> dict[str, str]:
    """The default task and data classes for the groups the arguments and their configs leave open.

    A default class is set only for those: jsonargparse carries a class's
    options over to a class chosen after it, so a default task would hand its
    learning rate to the task the user picked. ``validate``/``test``/``predict``
    take the task from the checkpoint, and the data class the task reads.
    """
    chosen = {arg.partition("=")[0][2:] for arg in argv if arg.partition("=")[0] in ("--model", "--data")}
    for path in config_paths(argv):
        chosen |= groups_in_config(path)
    defaults = dict(DEFAULT_CLASSES)
    ckpt_path = option_value(argv, "--ckpt_path")
    if subcommand != "fit" and ckpt_path is not None:
        defaults["model"] = checkpoint_task(ckpt_path)
        defaults["data"] = import_class(defaults["model"], L.LightningModule).default_data
        chosen.discard("model")
    return {group: path for group, path in defaults.items() if group not in chosen}


def groups_in_config(path: Path) -> set[str]:
    """The groups (``model``, ``data``) a config file sets (none for an unreadable one: the parser reports it)."""
    try:
        content = yaml.safe_load(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError, ValueError):
        return set()
    return {group for group in DEFAULT_CLASSES if isinstance(content, dict) and group in content}


class PolymodalCLI(LightningCLI):
    """Lightning's CLI with polymodal's defaults: task and data classes, run directory, ``metrics.json``."""

    def __init__(self, args: Sequence[str], default_classes: dict[str, str], run: bool = True) -> None:
        self.default_classes = default_classes
        main_prog = {} if run else {"prog": "polymodal fit"}  # built, not run: the fit subcommand's parser
        super().__init__(
            datamodule_class=MultimodalDataModule,
            subclass_mode_data=True,
            subclass_mode_model=True,
            args=list(args),
            save_config_kwargs={"overwrite": True},
            seed_everything_default=0,
            run=run,
            parser_kwargs={"exit_on_error": False, "allow_abbrev": False, "formatter_class": HelpFormatter, **main_prog,
                           **{name: subcommand_parser_options(name) for name in SUBCOMMANDS}},
        )

    def add_arguments_to_parser(self, parser: LightningArgumentParser) -> None:
        subcommand = parser.prog.rpartition(" ")[2]
        parser.add_argument("--out", type=str | None, default=None,
                            help=f"run directory (default {DEFAULT_OUT})" if subcommand == "fit" else
                            f"results directory (default <run>/{subcommand}, next to the checkpoint's run)")
        parser.set_defaults({group: {"class_path": path} for group, path in self.default_classes.items()})
        parser.link_arguments("seed_everything", "data.init_args.seed")
        if subcommand == "fit":
            parser.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
            parser.add_argument("--verbose", action="store_true", help="also print the model summary")
            parser.add_argument("--early_stopping", type=int, default=0,
                                help="stop after this many validation epochs without improvement (0: off)")
            # a fitted task is sized by its data; the other subcommands read the size from the checkpoint
            parser.link_arguments("data", "model.init_args.data_info", compute_fn=data_info_of,
                                  apply_on="instantiate")
        if subcommand == "test":
            parser.add_argument("--conditions", type=str | None, default=None,
                                help="sleep staging: evaluate under these conditions, e.g. both,eeg_only,eog_only")

    def before_instantiate_classes(self) -> None:
        check_trainer_options(self._get(self.config, "trainer"))

    @property
    def command(self) -> str:
        """The subcommand; ``fit`` for a CLI built without running."""
        return self.subcommand or "fit"

    # --- the run directory -------------------------------------------------------
    @property
    def out(self) -> Path:
        out = self._get(self.config, "out")
        if out is not None:
            return Path(out)
        if self.command == "fit":
            return Path(DEFAULT_OUT)
        ckpt_path = self._get(self.config, "ckpt_path")
        if ckpt_path is None:
            raise PolymodalError(f"polymodal {self.command} needs --ckpt_path CHECKPOINT")
        return Path(ckpt_path).resolve().parent.parent / self.command

    def instantiate_trainer(self, **kwargs: Any) -> L.Trainer:
        callbacks = list(self._get(self.config_init, "trainer").get("callbacks") or [])
        if self.command == "fit":
            metric, mode = self.model.monitor
            callbacks.append(ExactResume())
            callbacks.append(BestCheckpoint(dirpath=self.out / "checkpoints", filename="best", monitor=metric,
                                            mode=mode, save_last=True))
            if self._get(self.config_init, "early_stopping"):
                callbacks.append(PatientEarlyStopping(metric, mode=mode,
                                                      patience=self._get(self.config_init, "early_stopping")))
        callbacks.append(PredictionsFile(self.out) if self.command == "predict" else MetricsFile(self.out))
        kwargs.setdefault("logger", ResumableCSVLogger(self.out, name="", version=""))
        if not (self.command == "fit" and self._get(self.config_init, "verbose")):
            kwargs.setdefault("enable_model_summary", False)
        return super().instantiate_trainer(default_root_dir=str(self.out), callbacks=callbacks, **kwargs)

    # --- fit, then evaluate the best checkpoint ----------------------------------
    def before_fit(self) -> None:
        if rank_zero_only.rank == 0:  # the other DDP processes start inside fit, after this check
            prepare_run_directory(self.out, self._get(self.config, "ckpt_path"), self._get(self.config, "overwrite"))

    def fit(self, model: L.LightningModule, **kwargs: Any) -> None:
        """``trainer.fit``; a run stopped by Ctrl-C or SIGTERM ends with how to resume it (exit 130)."""
        try:
            self.trainer.fit(model, **kwargs)
        except (KeyboardInterrupt, SystemExit, SIGTERMException) as stop:
            if isinstance(stop, SystemExit) and not self.trainer.interrupted:
                raise
            raise FitInterrupted(self.resume_hint()) from None
        if self.trainer.interrupted:
            raise FitInterrupted(self.resume_hint())

    def resume_hint(self) -> str:
        return (f"training stopped at epoch {self.trainer.current_epoch}; resume with the same command "
                f"and --ckpt_path last (run directory {self.out})")

    def after_fit(self) -> None:
        best = self.trainer.checkpoint_callback.best_model_path or None
        evaluate = self.trainer.test if self.datamodule.has_split("test") else self.trainer.validate
        evaluate(self.model, datamodule=self.datamodule, ckpt_path=best, verbose=False)

    # --- evaluating a checkpoint -------------------------------------------------
    def before_validate(self) -> None:
        self.check_evaluation_data("val")

    def before_test(self) -> None:
        self.check_evaluation_data("test")

    def before_predict(self) -> None:
        self.check_evaluation_data("predict")

    def check_evaluation_data(self, split: str) -> None:
        """The data must hold the split, with the checkpoint's modalities, shapes and class range."""
        if self._get(self.config, "ckpt_path") is None:
            raise PolymodalError(f"polymodal {self.command} needs --ckpt_path CHECKPOINT")
        data, expected = self.datamodule, self.model.data_info
        if not data.requested_modalities:
            data.requested_modalities = list(expected.modalities)
        source = "test" if split == "predict" else split
        if not data.has_split(source):
            raise PolymodalError(f"polymodal {self.command}: give the {source} data (--data.{source} FILE)")
        check_compatible(expected, data.info)

    def test(self, model: L.LightningModule, **kwargs: Any) -> None:
        """``trainer.test``, or the sleep evaluation under ``--conditions``."""
        conditions = self._get(self.config, "conditions")
        if conditions is None:
            self.trainer.test(model, **{**kwargs, "verbose": False})  # MetricsFile prints the results
            return
        from polymodal.eval.sleep_report import evaluate_and_plot

        if not isinstance(model, TASKS.get("sleep")):
            raise PolymodalError("--conditions applies to a sleep-staging checkpoint")
        model.load_state_dict(torch.load(kwargs["ckpt_path"], map_location="cpu", weights_only=True)["state_dict"])
        MetricsFile.publish(self.out, evaluate_and_plot(model, kwargs["datamodule"], conditions, self.out),
                            kwargs["ckpt_path"])


def check_compatible(expected: DataInfo, found: DataInfo) -> None:
    """The evaluation data must have the model's modalities, shapes and class range (labels where it used them)."""
    for m in expected.modalities:
        if found.shapes[m] != expected.shapes[m]:
            raise PolymodalError(
                f"modality {m!r}: data has per-sample shape {found.shapes[m]}, the model expects {expected.shapes[m]}"
            )
    if not expected.labelled:
        return  # a model trained without labels ignores any the data has
    if not found.labelled:
        raise PolymodalError("the data has no labels ('y'); the model was trained with them")
    if expected.num_classes and found.num_classes > expected.num_classes:
        raise PolymodalError(
            f"data has label {found.num_classes - 1}, the model knows {expected.num_classes} classes"
        )
    if bool(expected.num_classes) != bool(found.num_classes):
        raise PolymodalError("data and model disagree on classification vs regression targets")


def configured(argv: Sequence[str]) -> PolymodalCLI:
    """The task, data and trainer ``polymodal fit ARGV`` would use, built but not run."""
    return build(argv, run=False)


def run(argv: Sequence[str]) -> None:
    """Run ``polymodal SUBCOMMAND ...`` (``argv[0]`` is the subcommand)."""
    build(argv, run=True)


def build(argv: Sequence[str], run: bool) -> PolymodalCLI:
    """The CLI over ``argv`` with the short forms expanded (:mod:`polymodal.cli_args`)."""
    check_command_line(argv)
    subcommand, args = (argv[0], expand_short_forms(argv[1:])) if run else ("fit", expand_short_forms(argv))
    argv = [subcommand, *args] if run else args
    with warnings.catch_warnings():  # the arguments are the command line's, rewritten: not a mistake
        warnings.filterwarnings("ignore", "LightningCLI's args parameter is intended")
        return PolymodalCLI(argv, default_classes(subcommand, args), run=run)

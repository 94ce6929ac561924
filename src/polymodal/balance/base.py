"""The balancer interface: how a training method turns model outputs into a loss and gradients.

A balancer is an ``nn.Module`` (so any learnable part it has, such as MCR's
CEB decoder, is in the optimizer and the checkpoint). It sees the model only
through a :class:`~polymodal.balance.view.ModelView` and never sees the task
or the trainer. :class:`~polymodal.tasks.SupervisedTask` calls:

* :meth:`Balancer.setup` once, before the optimizer is built: validates the
  model (fusion head, heads, modalities) and creates the state sized from
  it (buffers, learnable parts).
* :meth:`Balancer.loss` on every batch — **pure**: it returns a
  :class:`BalancerLoss` with the named loss terms (summed and logged by the
  task), the detached per-modality *statistics* the method needs, and
  values to log. Statistics are additive (sums over samples, or gradient
  sums): the task sums them over the micro-batches of one optimizer step
  and averages them over the processes.
* :meth:`Balancer.term_gradients` during backward, for methods that need the
  gradient of single terms (MMPareto); the results are statistics as well.
* :meth:`Balancer.step` once per optimizer step, with the reduced
  statistics, after gradient accumulation, after AMP unscaling and after
  DDP's gradient averaging (Lightning's ``on_before_optimizer_step``):
  gradient changes happen here, identically on every process.
* :meth:`Balancer.epoch_start`, :meth:`Balancer.train_epoch_end` and
  :meth:`Balancer.validation_end` (with the synchronised validation
  metrics) for per-epoch state; a method that asks for it
  (``epoch_feature_fraction``) gets the :meth:`Balancer.class_sums` of an
  evaluation-mode pass over the first training batches before every epoch
  (:meth:`Balancer.epoch_features`, PMR's prototypes).

Each method says which fusion heads it supports (``supported_fusions``,
``None`` for all) and whether it handles regression
(``supports_regression``); :meth:`Balancer.setup` raises a clear error
otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import Tensor, nn

from polymodal.balance.context import StepContext
from polymodal.balance.view import ModelView
from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput
from polymodal.components import Component, build_component
from polymodal.registry import Registry


@dataclass
class BalancerLoss:
    """What :meth:`Balancer.loss` returns for one batch.

    Attributes:
        terms: named loss terms; their sum is the training loss.
        statistics: detached, additive quantities the method's :meth:`Balancer.step` needs.
        logs: detached values to log for this batch (not reduced).
    """

    terms: dict[str, Tensor]
    statistics: dict[str, Tensor] = field(default_factory=dict)
    logs: dict[str, Tensor] = field(default_factory=dict)

    @property
    def total(self) -> Tensor:
        return torch.stack(list(self.terms.values())).sum()


class Balancer(Component, nn.Module):
    """Base class of balancing methods; subclasses override the hooks they need.

    A method is a typed component: the CLI builds it from a class name or
    import path and keyword options (``--model.balancer MLB
    --model.balancer.alpha 0.8``, or a user's ``mypkg.MyMethod``), and every
    instance records the options it was built with (:attr:`init_args`), so a
    task stores the method in its hyperparameters as a plain
    ``{class_path, init_args}`` mapping, never as a pickled module.
    """

    name: ClassVar[str] = "balancer"
    supported_fusions: ClassVar[frozenset[str] | None] = None
    needs_unimodal_heads: ClassVar[bool] = False
    """Whether the method trains per-modality heads; the model gets them only then."""
    unimodal_stage: ClassVar[float] = 0.0
    """Default share of the epochs trained as the unimodal first stage (:mod:`polymodal.balance.unimodal_stage`)."""
    uses_fusion_head: ClassVar[bool] = True
    """False for methods that never train the fusion head (the task freezes it)."""
    supports_regression: ClassVar[bool] = True
    min_modalities: ClassVar[int] = 1

    def __init__(self) -> None:
        super().__init__()
        self.current_epoch = 0

    def setup(self, view: ModelView) -> None:
        """Raise if the method cannot run with the model; create state sized from it."""
        if self.supported_fusions is not None and view.fusion_name not in self.supported_fusions:
            raise PolymodalError(
                f"method {self.name!r} does not support fusion {view.fusion_name!r}; "
                f"supported: {', '.join(sorted(self.supported_fusions))}"
            )
        if self.needs_unimodal_heads and not view.unimodal_heads:
            raise PolymodalError(f"method {self.name!r} needs unimodal heads")
        if not self.supports_regression and view.num_outputs == 1:
            raise PolymodalError(f"method {self.name!r} needs class labels; it does not support regression")
        if len(view.modalities) < self.min_modalities:
            raise PolymodalError(f"method {self.name!r} needs at least {self.min_modalities} modalities")

    def loss(self, output: ModelOutput, batch: Batch, view: ModelView, context: StepContext) -> BalancerLoss:
        raise NotImplementedError

    def term_gradients(self, terms: Mapping[str, Tensor], view: ModelView) -> dict[str, Tensor]:
        """Gradients of single loss terms, computed before the main backward (default: none).

        The task passes the terms already multiplied by the engine's loss
        scale (AMP scaler, ``1/accumulate_grad_batches``) and unscales the
        results, so they add up like the parameters' ``.grad``.
        """
        return {}

    def step(self, statistics: Mapping[str, Tensor], view: ModelView, context: StepContext) -> dict[str, Tensor]:
        """Once per optimizer step: change gradients in place; return values to log."""
        return {}

    def predict(self, output: ModelOutput) -> Tensor:
        """The method's fused prediction (default: the fusion head's logits)."""
        return output.logits

    def epoch_start(self, epoch: int) -> None:
        self.current_epoch = epoch

    @property
    def epoch_feature_fraction(self) -> float:
        """Share of the training batches to embed in evaluation mode before each epoch (0: none)."""
        return 0.0

    def epoch_features(self, statistics: Mapping[str, Tensor], epoch: int) -> None:
        """The :meth:`class_sums` statistics of that evaluation-mode pass, before ``epoch`` (PMR's prototypes)."""

    def class_sums(self, output: ModelOutput, batch: Batch) -> dict[str, Tensor]:
        """Additive statistics of one batch of the evaluation-mode pass."""
        return {}

    def train_epoch_end(self) -> dict[str, Tensor]:
        return {}

    def validation_end(self, metrics: Mapping[str, Tensor]) -> dict[str, Tensor]:
        """After each validation epoch (not the sanity check), with the synchronised metrics."""
        return {}


BALANCERS: Registry[type[Balancer]] = Registry("method")


def unimodal_masks(output: ModelOutput, batch: Batch) -> dict[str, Tensor]:
    """Presence mask per modality with a unimodal head."""
    return {m: presence(batch, m) for m in output.unimodal}


def build_balancer(name: str, **options: Any) -> Balancer:
    """Instantiate the method registered as ``name`` (or a :class:`Balancer` subclass's import path).

    Options are checked against the method's signature first: an unknown one
    is a :class:`~polymodal.errors.PolymodalError` listing the valid names.
    """
    return build_component(name, BALANCERS, Balancer, what="method", **options)


BalancerSpec = Balancer | str | Mapping[str, Any]
"""A method as a task accepts it: an instance, a registry name or import path, or ``{class_path, init_args}``."""


def resolve_balancer(spec: BalancerSpec) -> Balancer:
    """The :class:`Balancer` a spec names (a ``{class_path, init_args}`` mapping is what checkpoints store)."""
    return build_component(spec, BALANCERS, Balancer, what="method")

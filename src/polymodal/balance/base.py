"""The balancer interface: how a training method turns model outputs into a loss.

A balancer is an ``nn.Module`` (so any learnable part it has, such as MCR's
CEB decoder, is in the optimizer and the checkpoint) with explicit hooks,
called by :class:`~polymodal.tasks.SupervisedTask`:

* :meth:`Balancer.loss` → a dict of named loss terms; the task sums and logs them.
* :meth:`Balancer.backward` → runs the backward pass (default: ``total.backward()``;
  methods that combine per-term gradients, such as MMPareto, override it).
* :meth:`Balancer.after_backward` → modulates gradients in place (MLB,
  OGM-GE) and returns scalars to log.
* :meth:`Balancer.on_train_epoch_start` records the epoch (``current_epoch``)
  for methods active in an epoch window; :meth:`Balancer.on_train_epoch_end` /
  :meth:`Balancer.on_validation_epoch_end` → per-epoch state (MSLR, PMR).
  The validation hook runs before the task resets its validation metrics, so
  a method can read ``task.metrics["val"].compute()``.

Each method says which fusion heads it supports (``supported_fusions``,
``None`` for all) and whether it handles regression (``supports_regression``);
:meth:`Balancer.check` raises a clear error otherwise. ``check`` is called
once with the model before the optimizer is built: methods with learnable
parts or per-modality state sized from the model create them there.
"""

from __future__ import annotations

from typing import Any, ClassVar

from torch import Tensor, nn

from polymodal.data.contract import Batch, presence
from polymodal.errors import PolymodalError
from polymodal.models.output import ModelOutput
from polymodal.registry import Registry


class Balancer(nn.Module):
    """Base class of balancing methods; subclasses override the hooks they need."""

    name: ClassVar[str] = "balancer"
    supported_fusions: ClassVar[frozenset[str] | None] = None
    needs_unimodal_heads: ClassVar[bool] = False
    """Whether the method trains per-modality heads; the model gets them only then."""
    supports_regression: ClassVar[bool] = True
    min_modalities: ClassVar[int] = 1
    current_epoch: int = 0

    def check(self, model: nn.Module) -> None:
        """Raise if the method cannot run with ``model`` (fusion head, heads)."""
        fusion = getattr(getattr(model, "fusion", None), "name", None)
        if self.supported_fusions is not None and fusion not in self.supported_fusions:
            raise PolymodalError(
                f"method {self.name!r} does not support fusion {fusion!r}; "
                f"supported: {', '.join(sorted(self.supported_fusions))}"
            )
        if self.needs_unimodal_heads and not len(getattr(model, "heads", ())):
            raise PolymodalError(f"method {self.name!r} needs unimodal heads")
        if not self.supports_regression and getattr(model, "num_outputs", 0) == 1:
            raise PolymodalError(f"method {self.name!r} needs class labels; it does not support regression")
        if len(getattr(model, "modalities", ())) < self.min_modalities:
            raise PolymodalError(f"method {self.name!r} needs at least {self.min_modalities} modalities")

    def loss(self, output: ModelOutput, batch: Batch, model: nn.Module) -> dict[str, Tensor]:
        raise NotImplementedError

    def predict(self, output: ModelOutput) -> Tensor:
        """The method's fused prediction (default: the fusion head's logits)."""
        return output.logits

    def backward(self, total: Tensor, terms: dict[str, Tensor], model: nn.Module) -> None:
        total.backward()

    def after_backward(self, model: nn.Module) -> dict[str, float]:
        return {}

    def on_fit_start(self, task: Any) -> None:
        """Called once when training starts (after a resumed run's weights are restored)."""

    def on_train_epoch_start(self, task: Any) -> None:
        self.current_epoch = int(task.current_epoch)

    def on_train_epoch_end(self, task: Any) -> dict[str, float]:
        return {}

    def on_validation_epoch_end(self, task: Any) -> dict[str, float]:
        return {}


BALANCERS: Registry[type[Balancer]] = Registry("method")


def unimodal_masks(output: ModelOutput, batch: Batch) -> dict[str, Tensor]:
    """Presence mask per modality with a unimodal head."""
    return {m: presence(batch, m) for m in output.unimodal}


def build_balancer(name: str, **options: Any) -> Balancer:
    """Instantiate the method registered as ``name``; unknown options raise."""
    cls = BALANCERS.get(name)
    try:
        return cls(**options)
    except TypeError as err:
        raise PolymodalError(f"method {name!r}: {err}") from None

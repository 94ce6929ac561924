"""One training protocol for every run of ``polymodal bench balance``.

Methods are compared under the same encoders, optimizer, epochs, early
stopping, batch size and seeds (balancing.md: baselines differ wildly across
codebases otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from polymodal.errors import PolymodalError


@dataclass(frozen=True)
class Protocol:
    """Shared settings of every run in a benchmark.

    Attributes:
        max_epochs: epochs at most per run
        patience: early-stopping patience (epochs) on the validation accuracy
        batch_size: samples per batch
        lr: learning rate
        weight_decay: weight decay of the optimizer
        optimizer: adamw or sgd (momentum 0.9)
        encoder: encoder of every modality (polymodal.encoders.ENCODERS)
        hidden_dim: width of the MLP encoder (used when encoder_options is not given)
        encoder_options: options of the encoder instead of hidden_dim, e.g. '{"width": 8}' for resnet18
        fusion: fusion head (polymodal.fusion)
        accelerator: Lightning accelerator (cpu, gpu, auto)
    """

    max_epochs: int = 30
    patience: int = 6
    batch_size: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    optimizer: Literal["adamw", "sgd"] = "adamw"
    encoder: str = "mlp"
    hidden_dim: int = 128
    encoder_options: dict[str, Any] | None = None
    fusion: str = "late"
    accelerator: str = "cpu"

    def __post_init__(self) -> None:
        require_positive(self, "max_epochs", "batch_size", "lr", "hidden_dim")
        if self.patience < 0:
            raise PolymodalError(f"patience must be >= 0, got {self.patience}")

    def task_options(self) -> dict[str, Any]:
        return {
            "encoder": self.encoder,
            "encoder_options": dict(self.encoder_options) if self.encoder_options is not None
            else {"hidden_dim": self.hidden_dim},
            "fusion": self.fusion,
            "lr": self.lr,
            "weight_decay": self.weight_decay,
            "optimizer": self.optimizer,
        }


def require_positive(options: object, *names: str) -> None:
    """A :class:`PolymodalError` naming the first of ``names`` that is not > 0."""
    for name in names:
        value = getattr(options, name)
        if not value > 0:
            raise PolymodalError(f"{name} must be > 0, got {value}")

"""The MLP stage classifier of CoRe-Sleep (arXiv 2304.06485, Sec. 3.2): ``d → h → h → classes``."""

from __future__ import annotations

from torch import Tensor, nn


class StageHead(nn.Module):
    """``Linear → ReLU → Dropout → Linear → ReLU → Dropout → Linear`` applied per epoch.

    Args:
        d_model: input width (an epoch embedding).
        hidden: hidden width (1024 in the reference).
        num_classes: sleep stages (5: W, N1, N2, N3, REM).
        dropout: dropout after each hidden layer.
    """

    def __init__(self, d_model: int, hidden: int, num_classes: int, dropout: float) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, epochs: Tensor) -> Tensor:
        """``[B, L, d] → [B, L, classes]`` logits."""
        return self.net(epochs)

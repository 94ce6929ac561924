"""Models: MultimodalClassifier (and, with their issues, ContrastiveModel, CoReSleep)."""

from polymodal.models.classifier import MultimodalClassifier
from polymodal.models.output import ModelOutput

__all__ = ["ModelOutput", "MultimodalClassifier"]

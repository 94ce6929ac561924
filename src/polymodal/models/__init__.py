"""Models: MultimodalClassifier, the sleep models (CoReSleep and baselines), ContrastiveModel."""

from polymodal.models import core_sleep, sleep_baselines  # noqa: F401  (register the sleep models)
from polymodal.models.classifier import MultimodalClassifier
from polymodal.models.contrastive import ContrastiveModel
from polymodal.models.core_sleep import CoReSleep
from polymodal.models.output import ModelOutput
from polymodal.models.sleep_output import SleepOutput, predict
from polymodal.models.sleep_registry import SLEEP_MODELS, build_sleep_model

__all__ = [
    "SLEEP_MODELS",
    "CoReSleep",
    "ContrastiveModel",
    "ModelOutput",
    "MultimodalClassifier",
    "SleepOutput",
    "build_sleep_model",
    "predict",
]

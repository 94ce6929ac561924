"""Contrastive objectives (one module each) and their registry.

Each objective is an ``nn.Module`` called on a mapping of ``[B, E]``
embeddings (or an :class:`Embeddings`) that returns named loss terms; see
:mod:`polymodal.contrastive.base`.
"""

from polymodal.contrastive.base import (
    AUGMENTED,
    JOINT,
    OBJECTIVES,
    ContrastiveObjective,
    Embeddings,
    LogitScale,
    build_objective,
)
from polymodal.contrastive.comm import CoMM
from polymodal.contrastive.confu import ConFu
from polymodal.contrastive.gram import Gram
from polymodal.contrastive.infonce import PairwiseInfoNCE
from polymodal.contrastive.symile import Symile
from polymodal.contrastive.triangle import Triangle

__all__ = ["AUGMENTED", "JOINT", "OBJECTIVES", "CoMM", "ConFu", "ContrastiveObjective", "Embeddings", "Gram",
           "LogitScale", "PairwiseInfoNCE", "Symile", "Triangle", "build_objective"]

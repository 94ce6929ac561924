"""Contrastive objectives (one module each) and their registry."""

from polymodal.contrastive import comm, confu, gram, infonce, symile, triangle  # noqa: F401  (registers)
from polymodal.contrastive.base import OBJECTIVES, ContrastiveObjective, Embeddings, LogitScale, build_objective

__all__ = ["OBJECTIVES", "ContrastiveObjective", "Embeddings", "LogitScale", "build_objective"]

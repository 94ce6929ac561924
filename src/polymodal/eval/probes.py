"""Downstream tests of frozen embeddings: linear probes and zero-shot classification.

* Linear probe: multinomial logistic regression with an L2 penalty, fit by
  L-BFGS on the full set of frozen training embeddings (as in CLIP's linear
  probes, arXiv 2103.00020, Sec. 3.2), scored by test accuracy.
* Zero-shot through a label modality (ConFu, arXiv 2511.21331, Sec. 4; CLIP
  Sec. 3.1): each class is embedded through the modality that carries the
  label, and a sample is assigned the class whose embedding is most similar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from polymodal.errors import PolymodalError

if TYPE_CHECKING:
    from polymodal.contrastive.base import Embeddings


def fit_linear_probe(features: Tensor, labels: Tensor, num_classes: int, l2: float = 1e-4,
                     max_iter: int = 200) -> nn.Linear:
    """Logistic regression ``softmax(W x + b)`` minimizing mean CE + ``l2·|W|²/2``."""
    if features.ndim != 2 or len(features) != len(labels):
        raise PolymodalError(f"linear probe needs features [N, D] and N labels, got {tuple(features.shape)} "
                             f"and {tuple(labels.shape)}")
    features, labels = features.detach().float(), labels.long()
    probe = nn.Linear(features.shape[1], num_classes).to(features.device)
    nn.init.zeros_(probe.weight)
    nn.init.zeros_(probe.bias)
    optimizer = torch.optim.LBFGS(probe.parameters(), max_iter=max_iter, line_search_fn="strong_wolfe")

    def objective() -> Tensor:
        optimizer.zero_grad()
        loss = F.cross_entropy(probe(features), labels) + l2 * probe.weight.pow(2).sum() / 2
        loss.backward()
        return loss

    with torch.enable_grad():
        optimizer.step(objective)
    return probe.requires_grad_(False)


def linear_probe_accuracy(train_features: Tensor, train_labels: Tensor, test_features: Tensor,
                          test_labels: Tensor, num_classes: int, l2: float = 1e-4) -> float:
    """Test accuracy of a probe fit on the training embeddings."""
    probe = fit_linear_probe(train_features, train_labels.to(train_features.device), num_classes, l2)
    prediction = probe(test_features.float().to(train_features.device)).argmax(-1)
    return float((prediction == test_labels.to(prediction.device)).double().mean())


def class_prototypes(label_embeddings: Tensor, labels: Tensor, num_classes: int) -> Tensor:
    """Normalized mean label-modality embedding of each class ``[C, E]``; a class
    with no sample raises (it would have no embedding to compare with)."""
    counts = torch.bincount(labels, minlength=num_classes)
    if bool((counts == 0).any()):
        missing = int((counts == 0).nonzero()[0])
        raise PolymodalError(f"zero-shot: class {missing} has no label-modality sample to embed")
    sums = torch.zeros(num_classes, label_embeddings.shape[1], dtype=label_embeddings.dtype,
                       device=label_embeddings.device).index_add_(0, labels, label_embeddings)
    return F.normalize(sums, dim=-1)


def zero_shot_accuracy(query_embeddings: Tensor, class_embeddings: Tensor, labels: Tensor) -> float:
    """Share of queries whose most similar class embedding is their label."""
    return float(((query_embeddings @ class_embeddings.T).argmax(-1) == labels).double().mean())


def named_embeddings(embeddings: Embeddings) -> dict[str, Tensor]:
    """Every unimodal (``m0``) and fused-pair (``m0+m1``) embedding by name."""
    return {**embeddings.unimodal, **{"+".join(pair): z for pair, z in embeddings.fused.items()}}


def probe_accuracies(train: Embeddings, train_labels: Tensor, test: Embeddings, test_labels: Tensor,
                     num_classes: int) -> dict[str, float]:
    """Linear-probe test accuracy of every unimodal and fused embedding, fit on frozen training embeddings.

    Names are the modality (``m0``) or the pair (``m0+m1``). The probes run on
    the embeddings' device.
    """
    named_train = named_embeddings(train)
    accuracies = {}
    for name, test_features in named_embeddings(test).items():
        with torch.inference_mode(False), torch.enable_grad():  # Lightning tests under inference mode
            accuracies[name] = linear_probe_accuracy(named_train[name].clone(), train_labels.clone(),
                                                     test_features.clone(), test_labels.clone(), num_classes)
    return accuracies

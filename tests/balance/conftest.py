"""Tiny models, batches and one-step gradient helpers for the balancing tests (fixture ``kit``)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from torch import Tensor

from polymodal.balance.base import Balancer
from polymodal.balance.context import StepContext
from polymodal.balance.view import ModelView
from polymodal.data.contract import DataInfo
from polymodal.models.classifier import MultimodalClassifier

CLASSES = 3
INPUT_DIM = 4


def modality_names(count: int) -> list[str]:
    return [f"m{i}" for i in range(count)]


def make_info(count: int = 2, classes: int = CLASSES) -> DataInfo:
    names = modality_names(count)
    return DataInfo(tuple(names), {m: (INPUT_DIM,) for m in names}, classes)


def make_model(count: int = 2, fusion: str = "late", classes: int = CLASSES, hidden: int = 6) -> MultimodalClassifier:
    return MultimodalClassifier.from_info(
        make_info(count, classes), fusion=fusion, encoder_options={"hidden_dim": hidden, "dropout": 0.0}
    )


def make_batch(count: int = 2, size: int = 8, classes: int = CLASSES, seed: int = 0, regression: bool = False) -> dict:
    g = torch.Generator().manual_seed(seed)
    inputs = {m: torch.randn(size, INPUT_DIM, generator=g) for m in modality_names(count)}
    if regression:
        target = torch.randn(size, generator=g)
    else:
        target = torch.arange(size) % classes
    return {"inputs": inputs, "target": target, "present": {m: torch.ones(size, dtype=torch.bool) for m in inputs}}


def setup(balancer: Balancer, model: MultimodalClassifier) -> Balancer:
    balancer.setup(ModelView(model))
    return balancer


def step(balancer: Balancer, model: MultimodalClassifier, batch: dict) -> tuple[dict[int, Tensor], dict[str, Tensor], dict[str, float]]:
    """One process, one micro-batch, no optimizer: ``({id(param): grad}, terms, logged state)``.

    For the formulas of single methods; how the hooks compose under
    accumulation, AMP and DDP is tested through Lightning in ``tests/scale``.
    """
    view, context = ModelView(model), StepContext()
    model.zero_grad(set_to_none=True)
    balancer.zero_grad(set_to_none=True)
    output = model(batch["inputs"], batch["present"])
    result = balancer.loss(output, batch, view, context)
    statistics = {**result.statistics, **balancer.term_gradients(result.terms, view)}
    result.total.backward()
    state = {**result.logs, **balancer.step(statistics, view, context)}
    params = list(model.parameters()) + list(balancer.parameters())
    grads = {id(p): (torch.zeros_like(p) if p.grad is None else p.grad.clone()) for p in params}
    return grads, result.terms, {k: float(v) for k, v in state.items()}


def changed(before: dict[int, Tensor], after: dict[int, Tensor], params) -> bool:
    """True when any gradient of ``params`` differs between two steps."""
    return any(not torch.allclose(before[id(p)], after[id(p)], atol=1e-7) for p in params)


def ids(params) -> set[int]:
    return {id(p) for p in params}


@pytest.fixture
def kit() -> SimpleNamespace:
    return SimpleNamespace(
        make_info=make_info, make_model=make_model, make_batch=make_batch, step=step, setup=setup,
        changed=changed, ids=ids, modality_names=modality_names,
    )

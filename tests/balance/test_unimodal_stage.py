"""The unimodal first stage: each encoder trained alone, then the method (MCR's default)."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from polymodal import ArrayDataModule, SupervisedTask
from polymodal.balance import MCR, ModelView
from polymodal.balance.unimodal_stage import unimodal_stage_loss
from polymodal.errors import PolymodalError


def data() -> ArrayDataModule:
    rng = np.random.default_rng(0)
    y = np.arange(64) % 3
    arrays = {"a": (rng.normal(size=(64, 4)) + y[:, None]).astype("float32"),
              "b": rng.normal(size=(64, 3)).astype("float32"), "y": y}
    return ArrayDataModule(train=arrays, val=arrays, batch_size=16)


def test_stage_loss_keeps_modalities_apart(kit) -> None:
    model, batch = kit.make_model(2), kit.make_batch(2)
    output = model(batch["inputs"], batch["present"])
    terms = unimodal_stage_loss(output, batch, ModelView(model)).terms
    assert set(terms) == {"uni/m0", "uni/m1", "fusion_probe"}
    encoders = list(model.encoders.parameters())
    from_probe = torch.autograd.grad(terms["fusion_probe"], encoders + list(model.fusion.parameters()),
                                     allow_unused=True, retain_graph=True)
    assert all(g is None for g in from_probe[: len(encoders)])  # the fusion head learns on detached features
    assert any(g is not None and g.abs().sum() > 0 for g in from_probe[len(encoders):])
    from_m0 = torch.autograd.grad(terms["uni/m0"], list(model.encoders["m1"].parameters()), allow_unused=True)
    assert all(g is None for g in from_m0)  # no gradient crosses modalities


def logged_terms(method: str | MCR, **options) -> tuple[SupervisedTask, dict[int, set[str]]]:
    seen: dict[int, set[str]] = {}

    class Terms(L.Callback):
        def on_train_batch_end(self, trainer, module, outputs, batch, batch_idx) -> None:
            terms = module._loss(module(batch), batch, module._context(training=True)).terms
            seen.setdefault(trainer.current_epoch, set()).update(terms)

    task = SupervisedTask(balancer=method, data_info=data().info, encoder_options={"hidden_dim": 8}, **options)
    trainer = L.Trainer(max_epochs=4, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[Terms()])
    trainer.fit(task, data())
    return task, seen


def test_mcr_starts_with_half_of_the_epochs_unimodal() -> None:
    task, seen = logged_terms(MCR(permutations=2))
    assert task._stage_epochs == 2
    assert seen[0] == seen[1] == {"uni/a", "uni/b", "fusion_probe"}
    assert {"fused", "pd", "con", "ceb"} <= seen[2] and "fusion_probe" not in seen[3]


def test_any_method_can_start_unimodal_and_keeps_probe_heads() -> None:
    task, seen = logged_terms("joint", unimodal_epochs=1)
    assert seen[0] == {"uni/a", "uni/b", "fusion_probe"}
    assert seen[1] == {"fused", "probe/a", "probe/b"}
    _, seen = logged_terms(MCR(permutations=2), unimodal_epochs=0)
    assert "pd" in seen[0]


def test_pretrained_checkpoints_replace_the_stage_and_bad_values_raise(tmp_path) -> None:
    task = SupervisedTask(balancer="mcr", pretrained={"a": str(tmp_path / "a.ckpt")}, data_info=data().info)
    assert task._resolve_unimodal_stage() == 0
    with pytest.raises(PolymodalError, match="unimodal_epochs must be >= 0"):
        SupervisedTask(balancer="mcr", unimodal_epochs=-1, data_info=data().info)


def test_selection_and_early_stopping_wait_for_the_method(tmp_path) -> None:
    from polymodal.callbacks import BestCheckpoint, PatientEarlyStopping

    task = SupervisedTask(balancer=MCR(permutations=2), data_info=data().info,
                          encoder_options={"hidden_dim": 8})
    best = BestCheckpoint(dirpath=tmp_path, filename="best-{epoch}", monitor="val/acc", mode="max")
    stop = PatientEarlyStopping("val/acc", mode="max", patience=1, min_delta=1.0)  # would stop after 2 epochs
    trainer = L.Trainer(max_epochs=6, logger=False, enable_progress_bar=False, enable_model_summary=False,
                        callbacks=[best, stop])
    trainer.fit(task, data())
    assert task._stage_epochs == 3
    assert trainer.current_epoch == 5  # patience counted from the method's first epoch: 3, 4 → stop after 5
    assert int(best.best_model_path.split("epoch=")[1].split(".")[0]) >= 3  # never an epoch of the stage

"""The ensemble baseline (in-run and across runs) and pretrain-then-finetune."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from polymodal import ArrayDataModule, SupervisedTask
from polymodal.balance import build_balancer
from polymodal.errors import PolymodalError
from polymodal.eval.ensemble import ensemble_logits, ensemble_metrics


def test_ensemble_is_the_zscore_sum_of_member_logits() -> None:
    a = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 30.0], [10.0, 0.0], [0.0, 0.0]])
    za = (a - a.mean()) / a.std()
    zb = (b - b.mean()) / b.std()
    assert torch.allclose(ensemble_logits([a, b]), za + zb)
    metrics = ensemble_metrics([a, b], torch.tensor([1, 0, 0]), 2)
    expected = float(((za + zb).argmax(1) == torch.tensor([1, 0, 0])).float().mean())
    assert metrics["test/acc"] == pytest.approx(expected)


def test_ensemble_method_trains_each_member_alone(kit) -> None:
    model = kit.make_model(2)
    balancer = build_balancer("ensemble")
    balancer.check(model)
    batch = kit.make_batch(2)
    grads, terms, _ = kit.step(balancer, model, batch)
    assert set(terms) == {"uni/m0", "uni/m1"}
    assert not any(grads[id(p)].abs().sum() > 0 for p in model.fusion.parameters())
    # the m0 term alone reaches only m0's encoder and head
    model.zero_grad(set_to_none=True)
    output = model(batch["inputs"], batch["present"])
    balancer.loss(output, batch, model)["uni/m0"].backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.encoders["m1"].parameters())
    assert any(p.grad.abs().sum() > 0 for p in model.encoders["m0"].parameters())
    prediction = balancer.predict(output)
    assert torch.allclose(prediction, ensemble_logits([output.unimodal["m0"], output.unimodal["m1"]]))


def arrays(n: int, seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    return {"a": rng.normal(size=(n, 4)) + y[:, None], "b": rng.normal(size=(n, 3)) + 0.5 * y[:, None], "y": y}


def fit(task: SupervisedTask, data: ArrayDataModule, out, epochs: int = 2) -> L.Trainer:
    trainer = L.Trainer(max_epochs=epochs, default_root_dir=out, logger=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(task, data)
    return trainer


@pytest.mark.parametrize("freeze", [False, True])
def test_pretrain_finetune_loads_unimodal_encoders(tmp_path, freeze) -> None:
    data = ArrayDataModule(train=arrays(120, 0), batch_size=32)
    paths = {}
    for m in ("a", "b"):
        unimodal = SupervisedTask(method="unimodal", modalities=[m], data_info=data.info.to_dict())
        trainer = fit(unimodal, data, tmp_path / m)
        paths[m] = str(tmp_path / f"{m}.ckpt")
        trainer.save_checkpoint(paths[m])
    task = SupervisedTask(method="pretrain_finetune", method_options={"checkpoints": paths, "freeze": freeze},
                          data_info=data.info.to_dict())
    trainer = L.Trainer(max_epochs=1, limit_train_batches=1, default_root_dir=tmp_path / "ft", logger=False,
                        enable_progress_bar=False, enable_model_summary=False)
    pretrained = torch.load(paths["a"], weights_only=True)["state_dict"]
    before_first_step = {}

    class Snapshot(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            before_first_step.update({k: v.clone() for k, v in module.model.encoders["a"].state_dict().items()})

    trainer.callbacks.append(Snapshot())
    trainer.fit(task, data)
    for key, value in before_first_step.items():
        assert torch.equal(value, pretrained[f"model.encoders.a.{key}"]), key
    after = task.model.encoders["a"].state_dict()
    moved = any(not torch.equal(after[k], before_first_step[k]) for k in after if after[k].is_floating_point())
    assert moved is not freeze


def test_pretrain_finetune_needs_a_checkpoint_per_modality(tmp_path) -> None:
    data = ArrayDataModule(train=arrays(40, 0))
    with pytest.raises(PolymodalError, match="missing: \\['b'\\]"):
        SupervisedTask(method="pretrain_finetune", method_options={"checkpoints": {"a": "x.ckpt"}},
                       data_info=data.info.to_dict())


def test_optimizer_choice() -> None:
    data = ArrayDataModule(train=arrays(40, 0))
    sgd = SupervisedTask(method="mlb", optimizer="sgd", lr=0.05, data_info=data.info.to_dict()).configure_optimizers()
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0.9
    with pytest.raises(PolymodalError, match="unknown optimizer 'lbfgs'"):
        SupervisedTask(optimizer="lbfgs", data_info=data.info.to_dict())

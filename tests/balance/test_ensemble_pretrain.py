"""The ensemble baseline (in-run and across runs) and initialization from unimodal checkpoints."""

from __future__ import annotations

import lightning as L
import numpy as np
import pytest
import torch

from polymodal import ArrayDataModule, SupervisedTask
from polymodal.balance import ModelView, StepContext, build_balancer
from polymodal.errors import PolymodalError
from polymodal.eval.ensemble import ensemble_metrics, ensemble_prediction, soft_vote


def test_ensemble_soft_vote_is_the_mean_member_probability() -> None:
    a = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 30.0], [10.0, 0.0], [0.0, 0.0]])
    # hand-computed softmax of [2, 0] is [e²/(e²+1), 1/(e²+1)]
    first = torch.tensor([np.exp(2) / (np.exp(2) + 1), 1 / (np.exp(2) + 1)], dtype=torch.float32)
    assert torch.allclose(soft_vote([a, b])[0], (first + torch.tensor([0.0, 1.0])) / 2, atol=1e-6)
    metrics = ensemble_metrics([a, b], torch.tensor([1, 0, 0]), 2)
    expected = float((soft_vote([a, b]).argmax(1) == torch.tensor([1, 0, 0])).float().mean())
    assert metrics["test/acc"] == pytest.approx(expected)


def test_an_unknown_combination_raises() -> None:
    with pytest.raises(PolymodalError, match="unknown ensemble combination 'zcore'"):
        ensemble_prediction([torch.randn(4, 3)], "zcore")


def test_ensemble_zscore_over_the_whole_set() -> None:
    a = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 30.0], [10.0, 0.0], [0.0, 0.0]])
    za = (a - a.mean()) / a.std()
    zb = (b - b.mean()) / b.std()
    assert torch.allclose(ensemble_prediction([a, b], "zscore"), za + zb)


@pytest.mark.parametrize("combine", ["soft_vote", "zscore"])
def test_ensemble_prediction_does_not_depend_on_the_batch(kit, combine) -> None:
    model = kit.make_model(2)
    balancer = kit.setup(build_balancer("ensemble", combine=combine), model)
    kit.step(balancer, model, kit.make_batch(2, size=16, seed=3))  # running statistics move
    batch = kit.make_batch(2, size=64, seed=1)
    with torch.no_grad():
        together = balancer.predict(model(batch["inputs"]))
        alone = torch.cat([balancer.predict(model({m: x[i:i + 1] for m, x in batch["inputs"].items()}))
                           for i in range(64)])
    assert torch.allclose(together, alone, atol=1e-6)
    assert torch.equal(together.argmax(1), alone.argmax(1))


def test_ensemble_zscore_statistics_are_running_training_statistics(kit) -> None:
    model = kit.make_model(2)
    balancer = kit.setup(build_balancer("ensemble", combine="zscore", momentum=1.0), model)
    batch = kit.make_batch(2, size=16, seed=3)
    kit.step(balancer, model, batch)
    logits = model(batch["inputs"]).unimodal["m0"].detach()
    assert float(balancer.running_mean[0]) == pytest.approx(float(logits.mean()), rel=1e-5)
    assert float(balancer.running_std[0]) == pytest.approx(float(logits.std(correction=0)), rel=1e-5)


def test_ensemble_method_trains_each_member_alone(kit) -> None:
    model = kit.make_model(2)
    balancer = build_balancer("ensemble")
    kit.setup(balancer, model)
    batch = kit.make_batch(2)
    grads, terms, _ = kit.step(balancer, model, batch)
    assert set(terms) == {"uni/m0", "uni/m1"}
    assert not any(grads[id(p)].abs().sum() > 0 for p in model.fusion.parameters())
    # the m0 term alone reaches only m0's encoder and head
    model.zero_grad(set_to_none=True)
    output = model(batch["inputs"], batch["present"])
    balancer.loss(output, batch, ModelView(model), StepContext()).terms["uni/m0"].backward()
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in model.encoders["m1"].parameters())
    assert any(p.grad.abs().sum() > 0 for p in model.encoders["m0"].parameters())
    prediction = balancer.predict(output)
    assert torch.allclose(prediction, soft_vote([output.unimodal["m0"], output.unimodal["m1"]]))


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
def test_pretrained_option_loads_unimodal_encoders(tmp_path, freeze) -> None:
    data = ArrayDataModule(train=arrays(120, 0), batch_size=32)
    paths = {}
    for m in ("a", "b"):
        unimodal = SupervisedTask(balancer="unimodal", modalities=[m], data_info=data.info.to_dict())
        trainer = fit(unimodal, data, tmp_path / m)
        paths[m] = str(tmp_path / f"{m}.ckpt")
        trainer.save_checkpoint(paths[m])
    task = SupervisedTask(balancer="multiloss", pretrained=paths, freeze_pretrained=freeze,
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


def test_pretrained_names_modalities_of_the_model(tmp_path) -> None:
    data = ArrayDataModule(train=arrays(40, 0))
    with pytest.raises(PolymodalError, match="unknown modality 'c'"):
        SupervisedTask(balancer="mcr", pretrained={"c": "x.ckpt"}, data_info=data.info.to_dict())
    task = SupervisedTask(balancer="mcr", pretrained={"a": str(tmp_path / "missing.ckpt")}, data_info=data.info.to_dict())
    trainer = L.Trainer(max_epochs=1, limit_train_batches=1, logger=False, enable_progress_bar=False,
                        enable_checkpointing=False, enable_model_summary=False)
    with pytest.raises(PolymodalError, match="missing.ckpt: no such checkpoint"):
        trainer.fit(task, data)


def test_optimizer_choice() -> None:
    data = ArrayDataModule(train=arrays(40, 0))
    sgd = SupervisedTask(balancer="mlb", optimizer="sgd", lr=0.05, data_info=data.info.to_dict()).configure_optimizers()
    assert isinstance(sgd, torch.optim.SGD) and sgd.defaults["momentum"] == 0.9
    with pytest.raises(PolymodalError, match="unknown optimizer 'lbfgs'"):
        SupervisedTask(optimizer="lbfgs", data_info=data.info.to_dict())

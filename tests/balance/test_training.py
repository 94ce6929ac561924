"""Every balancing method trains through SupervisedTask + Lightning with 2 and 3 modalities."""

import lightning as L
import numpy as np
import pytest
import torch

from polymodal.balance import BALANCERS, build_balancer
from polymodal.data.datamodule import ArrayDataModule
from polymodal.errors import PolymodalError
from polymodal.tasks.supervised import SupervisedTask

METHODS = ["mlb", "ogm_ge", "agm", "mslr", "pmr", "mmcosine", "mmpareto", "mcr"]
OPTIONS = {"mcr": {"permutations": 4, "lambda_ceb": 0.5}, "mlb": {"beta_max": 3.0}}


def datamodule(count: int) -> ArrayDataModule:
    rng = np.random.default_rng(0)
    arrays = {f"m{i}": rng.normal(size=(16, 5)).astype("float32") for i in range(count)}
    arrays["y"] = np.arange(16) % 3
    return ArrayDataModule(train=arrays, val=arrays, batch_size=8)


def make_task(method: str, count: int) -> SupervisedTask:
    return SupervisedTask(
        balancer=build_balancer(method, **OPTIONS.get(method, {})), fusion="cosine" if method == "mmcosine" else "late",
        encoder_options={"hidden_dim": 8, "dropout": 0.0}, data_info=datamodule(count).info,
    )


@pytest.mark.parametrize("count", [2, 3])
@pytest.mark.parametrize("method", METHODS)
def test_trains_two_epochs(method, count):
    task = make_task(method, count)
    before = [p.detach().clone() for p in task.model.parameters()]
    trainer = L.Trainer(max_epochs=2, limit_train_batches=2, limit_val_batches=1, logger=False,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(task, datamodule(count))
    assert trainer.current_epoch == 2 and task.balancer.current_epoch == 1
    assert torch.isfinite(trainer.callback_metrics["train/loss"])
    assert any(not torch.equal(b, p) for b, p in zip(before, task.model.parameters()))


@pytest.mark.parametrize("method", METHODS)
def test_optimizer_covers_every_trainable_parameter(method):
    task = make_task(method, 3)
    optimizer = task.configure_optimizers()
    in_optimizer = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert {id(p) for p in task.parameters() if p.requires_grad} <= in_optimizer
    if method == "mcr":
        assert {id(p) for p in task.balancer.decoder.parameters()} <= in_optimizer


@pytest.mark.parametrize("method", METHODS)
def test_unknown_option_raises(method):
    assert method in BALANCERS
    with pytest.raises(PolymodalError, match=f"method '{method}'.*no_such_option"):
        build_balancer(method, no_such_option=1)

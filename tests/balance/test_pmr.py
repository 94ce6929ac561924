import pytest
import torch

from polymodal.balance import build_balancer
from polymodal.balance.pmr import prototype_logits
from polymodal.errors import PolymodalError


def test_prototype_logits_are_negative_distances():
    features = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    prototypes = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    logits = prototype_logits(features, prototypes, torch.tensor([True, True]))
    assert torch.allclose(logits, torch.tensor([[0.0, -3.0], [-5.0, -4.0]]))
    assert prototype_logits(features, prototypes, torch.tensor([True, False]))[0, 1] == float("-inf")


def test_previous_epoch_prototypes_are_class_means_of_the_epoch(kit):
    model, batch = kit.make_model(2), kit.make_batch(2, size=6)
    balancer = build_balancer("pmr", prototypes="previous_epoch")
    kit.setup(balancer, model)
    kit.step(balancer, model, batch)
    balancer.train_epoch_end()
    features = model(batch["inputs"]).features["m1"]
    prototypes, known = balancer.prototypes("m1")
    for c in range(3):
        assert torch.allclose(prototypes[c], features[batch["target"] == c].mean(0), atol=1e-6)
    assert known.all()


@pytest.mark.parametrize("count", [2, 3])
def test_prototype_term_reaches_only_weaker_encoders(count, kit):
    model, batch = kit.make_model(count), kit.make_batch(count)
    balancer = build_balancer("pmr", alpha=1.0, prototypes="previous_epoch")
    kit.setup(balancer, model)
    plain, terms, _ = kit.step(balancer, model, batch)  # first epoch: no prototypes yet
    assert set(terms) == {"fused"}
    balancer.train_epoch_end()
    grads, terms, _ = kit.step(balancer, model, batch)
    boosted = [m for m in model.modalities if float(terms[f"proto/{m}"]) > 0]
    assert 1 <= len(boosted) < count
    for m in model.modalities:
        assert kit.changed(plain, grads, model.encoders[m].parameters()) == (m in boosted)
    assert not kit.changed(plain, grads, model.fusion.parameters())
    outside = build_balancer("pmr", prototypes="previous_epoch", end_epoch=3)
    kit.setup(outside, model)
    outside.load_state_dict(balancer.state_dict())  # prototypes travel in the checkpoint
    outside.epoch_start(3)
    assert set(kit.step(outside, model, batch)[1]) == {"fused"}


def test_published_prototype_update_and_momentum(kit):
    model = kit.make_model(2)
    balancer = kit.setup(build_balancer("pmr"), model)
    dim = model.encoders["m0"].output_dim

    def sums(value: float) -> dict:
        counts = torch.tensor([2.0, 0.0, 1.0])  # class 1 unseen
        class_sums = torch.full((3, dim), value) * counts[:, None]
        return {f"{k}/{m}": v for m in model.modalities for k, v in (("sums", class_sums), ("counts", counts))}

    balancer.epoch_features(sums(1.0), epoch=0)
    prototypes, known = balancer.prototypes("m0")
    assert known.tolist() == [True, False, True] and torch.allclose(prototypes[0], torch.ones(dim))
    balancer.epoch_features(sums(3.0), epoch=1)  # the official update after the first epoch has no momentum
    assert torch.allclose(balancer.prototypes("m0")[0][2], torch.full((dim,), 3.0))
    balancer.epoch_features(sums(5.0), epoch=2)  # 0.8·new + 0.2·old
    assert torch.allclose(balancer.prototypes("m1")[0][0], torch.full((dim,), 0.8 * 5.0 + 0.2 * 3.0))


def test_published_prototypes_come_from_an_evaluation_pass_before_each_epoch():
    import lightning as L
    import numpy as np

    from polymodal import ArrayDataModule, SupervisedTask

    rng = np.random.default_rng(0)
    arrays = {"a": rng.normal(size=(80, 4)).astype("float32"), "b": rng.normal(size=(80, 3)).astype("float32"),
              "y": np.arange(80) % 3}
    data = ArrayDataModule(train=arrays, val=arrays, batch_size=8)  # 10 batches: the first one is 10%
    task = SupervisedTask(balancer="pmr", encoder_options={"hidden_dim": 6, "dropout": 0.5}, data_info=data.info)
    seen = {}

    class Capture(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            if not seen:
                first = next(iter(data.train_dataloader()))
                module.eval()
                with torch.no_grad():
                    features = module(first).features["a"]
                module.train()
                seen["expected"] = torch.stack([features[first["target"] == c].mean(0) for c in range(3)])
                seen["prototypes"] = module.balancer.prototypes("a")[0].clone()

    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False, callbacks=[Capture()])
    trainer.fit(task, data)
    assert torch.allclose(seen["prototypes"], seen["expected"], atol=1e-6)  # eval mode: no dropout


def test_bad_options_raise():
    with pytest.raises(PolymodalError, match="alpha"):
        build_balancer("pmr", alpha=-1.0)
    with pytest.raises(PolymodalError, match="pmr"):
        build_balancer("pmr", epochs=3)
    with pytest.raises(PolymodalError, match="unknown prototypes 'batch'"):
        build_balancer("pmr", prototypes="batch")

"""The method is a typed component: by class name, import path or short form, options checked, stored plainly."""

from __future__ import annotations

import json
import textwrap

import lightning as L
import numpy as np
import pytest
import torch

from polymodal import ArrayDataModule, SupervisedTask
from polymodal.balance import MLB
from polymodal.cli import main
from polymodal.runner import configured

QUIET = ["--trainer.enable_progress_bar", "false"]


@pytest.fixture(scope="module")
def npz(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("npz")
    rng = np.random.default_rng(0)
    paths = {}
    for split, n in (("train", 48), ("test", 24)):
        y = np.arange(n) % 3
        paths[split] = str(root / f"{split}.npz")
        np.savez(paths[split], a=(rng.normal(size=(n, 4)) + y[:, None]).astype("float32"),
                 b=rng.normal(size=(n, 3)).astype("float32"), y=y)
    return paths


def data_args(npz: dict[str, str]) -> list[str]:
    return ["--data.train", npz["train"], "--data.test", npz["test"]]


def test_class_name_and_short_form_build_the_same_method(npz) -> None:
    typed = configured([*data_args(npz), "--model.balancer", "MLB", "--model.balancer.alpha", "0.3"])
    short = configured(["--method_options.alpha", "0.3", *data_args(npz), "--method", "mlb"])
    for cli in (typed, short):
        assert isinstance(cli.model.balancer, MLB) and cli.model.balancer.alpha == 0.3
    assert typed.model.hparams.balancer["init_args"] == short.model.hparams.balancer["init_args"]


def test_a_misspelt_method_option_is_one_line_naming_it(npz, capsys) -> None:
    assert main(["fit", *data_args(npz), "--method", "mlb", "--method_options.alpah", "0.3", *QUIET]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "alpah" in err[0] and "Traceback" not in err[0]


def test_a_users_method_by_import_path_trains_and_its_checkpoint_tests(npz, tmp_path, monkeypatch) -> None:
    (tmp_path / "my_methods.py").write_text(textwrap.dedent('''
        from polymodal.balance import Joint

        class HalfJoint(Joint):
            """Joint training with the loss halved."""

            def __init__(self, factor: float = 0.5) -> None:
                super().__init__()
                self.factor = factor

            def loss(self, output, batch, view, context):
                result = super().loss(output, batch, view, context)
                result.terms = {k: self.factor * v for k, v in result.terms.items()}
                return result
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "run"
    assert main(["fit", *data_args(npz), "--model.balancer", "my_methods.HalfJoint", "--model.balancer.factor",
                 "0.25", "--max_epochs", "1", "--out", str(out), *QUIET]) == 0
    assert main(["test", "--ckpt_path", str(out / "checkpoints" / "best.ckpt"), "--data.test", npz["test"]]) == 0
    fitted, tested = (json.loads((p / "metrics.json").read_text()) for p in (out, out / "test"))
    assert fitted == tested
    task = SupervisedTask.load_from_checkpoint(out / "checkpoints" / "best.ckpt")
    assert type(task.balancer).__name__ == "HalfJoint" and task.balancer.factor == 0.25


def test_a_python_built_method_is_stored_as_a_plain_mapping(tmp_path) -> None:
    rng = np.random.default_rng(0)
    data = ArrayDataModule(train={"a": rng.normal(size=(16, 3)), "b": rng.normal(size=(16, 2)),
                                  "y": np.arange(16) % 2}, batch_size=8)
    task = SupervisedTask(balancer=MLB(alpha=0.3, beta_max=4.0), data_info=data.info)
    trainer = L.Trainer(max_epochs=1, logger=False, enable_checkpointing=False, enable_progress_bar=False,
                        enable_model_summary=False)
    trainer.fit(task, data)
    path = tmp_path / "task.ckpt"
    trainer.save_checkpoint(path)
    stored = torch.load(path, weights_only=True)["hyper_parameters"]["balancer"]
    assert stored == {"class_path": "polymodal.balance.mlb.MLB", "init_args": {"alpha": 0.3, "beta_max": 4.0}}
    loaded = SupervisedTask.load_from_checkpoint(path)
    assert (loaded.balancer.alpha, loaded.balancer.beta_max) == (0.3, 4.0)
    for name, value in task.state_dict().items():
        assert torch.equal(value, loaded.state_dict()[name])


def test_validate_and_predict_write_next_to_the_run(npz, tmp_path) -> None:
    out = tmp_path / "run"
    assert main(["fit", *data_args(npz), "--max_epochs", "1", "--out", str(out), *QUIET]) == 0
    best = str(out / "checkpoints" / "best.ckpt")
    assert main(["validate", "--ckpt_path", best, "--data.val", npz["test"]]) == 0
    assert set(json.loads((out / "validate" / "metrics.json").read_text())) >= {"val/acc", "val/loss"}
    assert main(["predict", "--ckpt_path", best, "--data.test", npz["test"]]) == 0
    with np.load(out / "predict" / "predictions.npz", allow_pickle=False) as saved:
        assert saved["predictions"].shape == (24, 3) and sorted(saved["index"]) == list(range(24))


def test_fusion_encoder_and_objective_by_import_path(npz, tmp_path, monkeypatch, capsys) -> None:
    (tmp_path / "my_parts.py").write_text(textwrap.dedent('''
        from polymodal.contrastive.infonce import PairwiseInfoNCE
        from polymodal.encoders.mlp import MLPEncoder
        from polymodal.fusion.late_linear import LateLinearFusion

        class ScaledLate(LateLinearFusion):
            def __init__(self, feature_dims, num_outputs, scale: float = 2.0):
                super().__init__(feature_dims, num_outputs)
                self.scale = scale

            def forward(self, features, present=None):
                return self.scale * super().forward(features, present)

        class WideMLP(MLPEncoder):
            def __init__(self, input_shape, widen: int = 2):
                super().__init__(input_shape, hidden_dim=8 * widen)

        class Pairwise2(PairwiseInfoNCE):
            pass
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    cli = configured([*data_args(npz), "--fusion", "my_parts.ScaledLate", "--fusion_options.scale", "3",
                      "--encoder", "my_parts.WideMLP", "--encoder_options.widen", "3"])
    assert type(cli.model.model.fusion).__name__ == "ScaledLate" and cli.model.model.fusion.scale == 3
    assert all(type(e).__name__ == "WideMLP" and e.output_dim == 24 for e in cli.model.model.encoders.values())
    assert main(["fit", *data_args(npz), "--fusion", "my_parts.ScaledLate", "--fusion_options.scael", "3"]) == 2
    assert capsys.readouterr().err.strip() == ("polymodal: error: fusion 'my_parts.ScaledLate': unknown option "
                                               "'scael'; valid options: scale")
    rng = np.random.default_rng(0)
    triples = tmp_path / "triples.npz"
    np.savez(triples, **{m: rng.normal(size=(32, 4)).astype("float32") for m in ("m0", "m1", "m2")})
    cli = configured(["--task", "contrastive", "--data.train", str(triples), "--objective", "my_parts.Pairwise2",
                      "--model.embed_dim", "8"])
    assert type(cli.model.objective).__name__ == "Pairwise2"


def test_fusion_head_as_a_typed_component(npz, tmp_path, capsys) -> None:
    out = tmp_path / "run"
    assert main(["fit", *data_args(npz), "--model.fusion", "MidMLPFusion", "--model.fusion.hidden_dim", "12",
                 "--max_epochs", "1", "--out", str(out), *QUIET]) == 0
    best = out / "checkpoints" / "best.ckpt"
    task = SupervisedTask.load_from_checkpoint(best)
    assert type(task.model.fusion).__name__ == "MidMLPFusion" and task.model.fusion.trunk[-1].in_features == 12
    assert main(["test", "--ckpt_path", str(best), "--data.test", npz["test"]]) == 0
    assert json.loads((out / "test" / "metrics.json").read_text()) == json.loads((out / "metrics.json").read_text())
    assert main(["fit", *data_args(npz), "--model.fusion", "MidMLPFusion", "--model.fusion.hiden", "12",
                 "--out", str(tmp_path / "other"), *QUIET]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "hiden" in err[0]


def test_a_fusion_head_given_by_name_is_stored_as_a_plain_mapping() -> None:
    rng = np.random.default_rng(0)
    data = ArrayDataModule(train={"a": rng.normal(size=(8, 3)), "b": rng.normal(size=(8, 2)), "y": np.arange(8) % 2})
    task = SupervisedTask(fusion="mid_mlp", fusion_options={"hidden_dim": 6}, data_info=data.info)
    assert task.hparams.fusion == {"class_path": "polymodal.fusion.mid_mlp.MidMLPFusion",
                                   "init_args": {"hidden_dim": 6}}
    assert task.hparams.fusion_options is None


def test_encoders_as_typed_components(npz, tmp_path) -> None:
    shared = configured([*data_args(npz), "--model.encoder", "MLPEncoder", "--model.encoder.hidden_dim", "6"])
    assert all(e.output_dim == 6 for e in shared.model.model.encoders.values())
    per_modality = configured([*data_args(npz), "--model.encoder",
                               "{a: {class_path: MLPEncoder, init_args: {hidden_dim: 5}}, b: cnn1d}"])
    encoders = per_modality.model.model.encoders
    assert encoders["a"].output_dim == 5 and type(encoders["b"]).__name__ == "CNN1DEncoder"
    out = tmp_path / "run"
    assert main(["fit", *data_args(npz), "--model.encoder", "MLPEncoder", "--model.encoder.hidden_dim", "6",
                 "--max_epochs", "1", "--out", str(out), *QUIET]) == 0
    task = SupervisedTask.load_from_checkpoint(out / "checkpoints" / "best.ckpt")
    assert all(e.output_dim == 6 for e in task.model.encoders.values())


def test_contrastive_objective_as_a_typed_component(tmp_path) -> None:
    rng = np.random.default_rng(0)
    triples = tmp_path / "triples.npz"
    np.savez(triples, **{m: rng.normal(size=(32, 4)).astype("float32") for m in ("m0", "m1", "m2")})
    cli = configured(["--task", "contrastive", "--data.train", str(triples), "--model.objective", "ConFu",
                      "--model.objective.fused_weight", "0.25", "--model.embed_dim", "8"])
    assert type(cli.model.objective).__name__ == "ConFu" and cli.model.objective.fused_weight == 0.25
    assert cli.model.hparams.objective["init_args"]["fused_weight"] == 0.25

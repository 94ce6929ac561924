"""Encoders: output shapes, options, gradients, pooling, speed and the registry."""

import time

import pytest
import torch

from polymodal.data.contract import DataInfo
from polymodal.encoders import ENCODERS, build_encoder
from polymodal.errors import PolymodalError, UnknownNameError
from polymodal.models.classifier import MultimodalClassifier

SMALL_CASES = {
    "cnn1d": ((3, 40), {"channels": (4, 8)}, 8),
    "resnet18": ((2, 16, 16), {"width": 4}, 32),
    "transformer": ((6, 5), {"d_model": 8, "num_heads": 2}, 8),
}


@pytest.mark.parametrize("name", sorted(SMALL_CASES))
def test_output_shape_and_every_parameter_gets_gradient(name):
    shape, options, output_dim = SMALL_CASES[name]
    encoder = build_encoder(name, shape, **options)
    x = torch.randn(5, *shape)
    z = encoder(x)
    assert encoder.output_dim == output_dim
    assert z.shape == (5, output_dim)
    z.pow(2).sum().backward()
    missing = [n for n, p in encoder.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert not missing


def test_cnn1d_single_channel_series_and_any_length():
    encoder = build_encoder("cnn1d", (50,), channels=(4, 6), kernel_size=3, stride=2)
    assert encoder(torch.randn(3, 50)).shape == (3, 6)
    assert encoder(torch.randn(3, 7)).shape == (3, 6)  # pooling is global over time


def test_cnn1d_block_count_follows_channels():
    encoder = build_encoder("cnn1d", (2, 30), channels=(3, 4, 5, 6))
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv1d)]
    assert [c.out_channels for c in convs] == [3, 4, 5, 6]
    assert convs[0].in_channels == 2


def test_resnet18_matches_the_paper_parameter_count():
    # ResNet-18 without its 1000-way classifier: 11,689,512 − 513,000 parameters.
    encoder = build_encoder("resnet18", (3, 32, 32))
    assert sum(p.numel() for p in encoder.parameters()) == 11_176_512
    assert encoder.output_dim == 512
    convs = [m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1)]
    assert len(convs) == 17  # + the linear classifier = 18 weighted layers


def test_resnet18_two_dimensional_input_and_plain_stem():
    encoder = build_encoder("resnet18", (12, 10), width=2, downsample_stem=False)
    assert encoder(torch.randn(4, 12, 10)).shape == (4, 16)
    first_conv = next(m for m in encoder.modules() if isinstance(m, torch.nn.Conv2d))
    assert first_conv.in_channels == 1 and first_conv.kernel_size == (3, 3) and first_conv.stride == (1, 1)


def test_resnet18_forward_is_fast_on_one_thread():
    encoder = build_encoder("resnet18", (1, 64, 64)).eval()
    x = torch.randn(8, 1, 64, 64)
    with torch.no_grad():
        encoder(x)  # warm-up
        start = time.perf_counter()
        encoder(x)
        elapsed = time.perf_counter() - start
    assert torch.get_num_threads() == 1
    assert elapsed < 1.0, f"resnet18 forward of [8, 1, 64, 64] took {elapsed:.2f} s"


def test_transformer_mean_pool_is_the_mean_of_token_features():
    encoder = build_encoder("transformer", (6, 5), d_model=8, num_heads=2, pool="mean").eval()
    x = torch.randn(3, 6, 5)
    tokens = encoder.forward_tokens(x)
    assert tokens.shape == (3, 6, 8)
    torch.testing.assert_close(encoder(x), tokens.mean(dim=1))


def test_transformer_cls_pool_sees_every_token_and_excludes_cls_from_tokens():
    encoder = build_encoder("transformer", (6, 5), d_model=8, num_heads=2).eval()
    x = torch.randn(3, 6, 5)
    assert encoder.forward_tokens(x).shape == (3, 6, 8)
    changed = x.clone()
    changed[:, -1] += 1.0
    assert not torch.allclose(encoder(x), encoder(changed))


def test_transformer_positions_break_permutation_invariance():
    encoder = build_encoder("transformer", (6, 5), d_model=8, num_heads=2, pool="mean").eval()
    with torch.no_grad():
        encoder.position_embedding.normal_()
    x = torch.randn(2, 6, 5)
    assert not torch.allclose(encoder(x), encoder(x.flip(1)), atol=1e-4)
    with torch.no_grad():
        encoder.position_embedding.zero_()
    torch.testing.assert_close(encoder(x), encoder(x.flip(1)))


def test_transformer_length_limits():
    encoder = build_encoder("transformer", (6, 5), d_model=8, num_heads=2, max_length=10)
    assert encoder(torch.randn(2, 10, 5)).shape == (2, 8)
    with pytest.raises(PolymodalError, match="max_length 10"):
        encoder(torch.randn(2, 11, 5))
    with pytest.raises(PolymodalError, match="max_length 4"):
        build_encoder("transformer", (6, 5), max_length=4)


@pytest.mark.parametrize(
    ("name", "shape", "options", "message"),
    [
        ("cnn1d", (2, 3, 4), {}, r"\[C, T\]"),
        ("cnn1d", (2, 30), {"channels": ()}, "channels"),
        ("resnet18", (30,), {}, r"\[C, H, W\]"),
        ("transformer", (30,), {}, r"\[T, D\]"),
        ("transformer", (6, 5), {"d_model": 10, "num_heads": 4}, "divide"),
        ("transformer", (6, 5), {"pool": "max"}, "pool"),
    ],
)
def test_bad_shapes_and_options_raise_user_errors(name, shape, options, message):
    with pytest.raises(PolymodalError, match=message):
        build_encoder(name, shape, **options)


def test_unknown_encoder_name_lists_choices():
    with pytest.raises(UnknownNameError) as error:
        build_encoder("vit", (3, 4))
    for name in ("cnn1d", "mlp", "resnet18", "transformer"):
        assert name in str(error.value)
    assert set(SMALL_CASES) | {"mlp"} <= set(ENCODERS)


def test_classifier_from_info_with_every_encoder():
    shapes = {name: case[0] for name, case in SMALL_CASES.items()} | {"mlp": (7,)}
    info = DataInfo(tuple(shapes), shapes, num_classes=3)
    options = {name: case[1] for name, case in SMALL_CASES.items()} | {"mlp": {"hidden_dim": 6}}
    model = MultimodalClassifier.from_info(info, encoder={m: m for m in shapes}, encoder_options=options)
    inputs = {m: torch.randn(4, *s) for m, s in shapes.items()}
    present = {m: torch.tensor([True, False, True, True]) for m in shapes}
    output = model(inputs, present)
    assert output.logits.shape == (4, 3)
    widths = {m: z.shape[1] for m, z in output.features.items()}
    assert widths == {"cnn1d": 8, "resnet18": 32, "transformer": 8, "mlp": 6}
    assert all(torch.all(z[1] == 0) for z in output.features.values())


def test_one_encoder_per_modality_by_name() -> None:
    from polymodal.data.contract import DataInfo
    from polymodal.encoders import build_modality_encoders
    from polymodal.errors import PolymodalError

    info = DataInfo(("a", "b"), {"a": (1, 8, 8), "b": (5, 3)}, 2)
    encoders = build_modality_encoders(info, {"a": "resnet18", "b": "transformer"},
                                       {"a": {"width": 2}, "b": {"d_model": 8, "num_heads": 2, "num_layers": 1}})
    assert type(encoders["a"]).__name__ != type(encoders["b"]).__name__
    with pytest.raises(PolymodalError, match="missing: \\['b'\\]"):
        build_modality_encoders(info, {"a": "mlp"})
    with pytest.raises(PolymodalError, match="encoder 'mlp' of modality 'a'.*hiden_dim"):
        build_modality_encoders(info, "mlp", {"hiden_dim": 3})

"""ResNet-18 on the reference input layouts: spectrogram, image, video frames."""

import torch

from polymodal.encoders import build_encoder


def test_spectrogram_and_image_output_width_is_eight_times_base():
    spectrogram = build_encoder("resnet18", (1, 257, 63), width=4)
    assert spectrogram(torch.randn(2, 1, 257, 63)).shape == (2, 32)
    image = build_encoder("resnet18", (3, 8, 8), width=4, downsample_stem=False)
    assert image(torch.randn(2, 3, 8, 8)).shape == (2, 32)
    assert build_encoder("resnet18", (1, 32, 32)).output_dim == 512  # the reference 64 → 512


def test_video_folds_frames_and_averages_over_time():
    encoder = build_encoder("resnet18", (3, 2, 16, 16), width=2).eval()
    clips = torch.randn(4, 3, 2, 16, 16)
    pooled = encoder(clips)
    assert pooled.shape == (4, 16)
    maps = encoder.features(clips.flatten(0, 1)).mean(dim=(-2, -1)).reshape(4, 3, 16)
    torch.testing.assert_close(pooled, maps.mean(dim=1))
    # each clip's vector depends on its own frames only (no mixing across the batch in eval mode)
    torch.testing.assert_close(encoder(clips[1:2]), pooled[1:2])


def test_video_frame_order_does_not_change_the_mean_pool():
    encoder = build_encoder("resnet18", (3, 1, 12, 12), width=2).eval()
    clip = torch.randn(1, 3, 1, 12, 12)
    torch.testing.assert_close(encoder(clip), encoder(clip.flip(1)))

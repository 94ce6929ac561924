"""The dataset registry and build_datamodule."""

import pytest

import polymodal.data as data
from polymodal.data import DATASETS, build_datamodule
from polymodal.errors import PolymodalError, UnknownNameError


def test_registry_names_and_types():
    assert {"av-digits", "av-digits:hard", "basicmotions", "latin-square", "latin-square-rotated", "mfeat", "redundant",
            "synthetic-imbalance", "synthetic-pid", "xor", "xor-rotated", "cremad", "ave", "kinetics-sounds", "ucf101",
            "mosei", "mosi", "avmnist"} <= set(DATASETS.names())
    imbalance = build_datamodule("synthetic-imbalance", num_train=20, bayes_samples=100)
    pid = build_datamodule("synthetic-pid", num_train=20, bayes_samples=100)
    assert isinstance(imbalance, data.SyntheticPIDDataModule) and imbalance.info.modalities == ("m0", "m1")
    assert pid.info.modalities == ("m0", "m1", "m2")
    assert isinstance(build_datamodule("mfeat", modalities=["mor"]), data.MfeatDataModule)
    assert build_datamodule("basicmotions", batch_size=4).batch_size == 4


def test_unknown_dataset_lists_choices():
    with pytest.raises(UnknownNameError, match="'cifar'.*basicmotions, .*latin-square, latin-square-rotated, mfeat, "
                                               ".*redundant, synthetic-imbalance, synthetic-pid, .*xor, xor-rotated"):
        build_datamodule("cifar")


def test_unknown_or_fixed_option_names_it():
    with pytest.raises(PolymodalError, match="no option 'num_trains'.*num_train"):
        build_datamodule("synthetic-pid", num_trains=3)
    with pytest.raises(PolymodalError, match="no option 'preset'"):
        build_datamodule("synthetic-imbalance", preset="pid")

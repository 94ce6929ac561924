"""The prepared audio-visual benchmarks by name, with each reference protocol's defaults.

=====================  =========================  ==========  ======================================
dataset                modalities                 frames      default split
=====================  =========================  ==========  ======================================
``cremad``             ``audio``, ``video``       3           ``official`` (OGM-GE lists) if
                                                              prepared with them, else ``speaker``
``ave``                ``audio``, ``video``       4           ``official`` (train / val / test lists)
``kinetics-sounds``    ``audio``, ``video``       3           ``official`` (train / test folders)
``ucf101``             ``audio``, ``rgb``         4           ``split1`` (validation by group)
                       (``flow``)
=====================  =========================  ==========  ======================================

Frame counts follow MLB / MCR's configs (``num_frame`` 3 for CREMA-D, 4 for
AVE and UCF101) and OGM-GE's Kinetics-Sounds runs (3).
"""

from __future__ import annotations

from polymodal.data.benchmarks.clips import SPEAKER_SPLIT, ClipDataModule


class CremadDataModule(ClipDataModule):
    """CREMA-D prepared by ``polymodal data prepare cremad``; see :class:`ClipDataModule` for the options."""

    dataset = "cremad"

    @property
    def chosen_split(self) -> str:
        return self.split or ("official" if "official" in self.manifest["splits"] else SPEAKER_SPLIT)


class AVEDataModule(ClipDataModule):
    """AVE prepared by ``polymodal data prepare ave``; see :class:`ClipDataModule` for the options."""

    dataset = "ave"
    default_frames = 4


class KineticsSoundsDataModule(ClipDataModule):
    """Kinetics-Sounds prepared by ``polymodal data prepare kinetics-sounds``: a 5-s audio window (626 steps)."""

    dataset = "kinetics-sounds"
    default_audio_steps = 626


class UCF101DataModule(ClipDataModule):
    """UCF101 prepared by ``polymodal data prepare ucf101``: ``audio``, ``rgb`` (and ``flow``)."""

    dataset = "ucf101"
    video_name = "rgb"
    default_split = "split1"
    default_frames = 4
    val_by_group = True

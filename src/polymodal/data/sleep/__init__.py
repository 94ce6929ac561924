"""Sleep staging data (CoRe-Sleep, arXiv 2304.06485): ingestion of real PSG recordings
(NSRR XML and Sleep-EDF layouts) into a cache of epoch spectrograms, a synthetic
PSG generator that writes real EDF files, and sequence datasets over the cache.
"""

from polymodal.data.sleep.datamodule import SleepDataModule, split_by_subject
from polymodal.data.sleep.dataset import SleepSequenceDataset
from polymodal.data.sleep.prepare import NightResult, PrepareReport, prepare_cache, prepare_night
from polymodal.data.sleep.recording import ChannelSpec
from polymodal.data.sleep.scoring import NUM_STAGES, STAGES
from polymodal.data.sleep.stats import SpectrogramStats, compute_stats, training_stats
from polymodal.data.sleep.synthetic_psg import write_synthetic_nights
from polymodal.data.sleep.wake_trim import WakeTrim
from polymodal.data.sleep.windows import average_over_windows, window_starts

__all__ = [
    "NUM_STAGES", "STAGES", "ChannelSpec", "NightResult", "PrepareReport", "SleepDataModule",
    "SleepSequenceDataset", "SpectrogramStats", "WakeTrim", "average_over_windows", "compute_stats", "prepare_cache",
    "prepare_night", "split_by_subject", "training_stats", "window_starts", "write_synthetic_nights",
]

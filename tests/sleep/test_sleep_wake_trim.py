"""Edge-Wake rules on hand-made hypnograms (U = unscored), each kept set worked out by hand."""

import numpy as np
import pytest

from polymodal.data.sleep.layouts import LAYOUTS
from polymodal.data.sleep.scoring import UNSCORED as U
from polymodal.data.sleep.wake_trim import WakeTrim, wake_down_to_second_largest
from polymodal.errors import PolymodalError


def kept(rule: WakeTrim, labels: list[int]) -> list[int]:
    return np.flatnonzero(rule.keep(np.array(labels, dtype=np.int8))).tolist()


@pytest.mark.parametrize(
    "labels, expected",
    [
        # W 6 > N1 = N2 = 2: edge Wake 4 + 2 = 6 down to 2, the 4 removed all from the evening run
        ([0, 0, 0, 0, 1, 1, 2, 2, 0, 0], (4, 10)),
        # W 7, second N1 3: edge Wake 1 + 6 = 7 down to 3; evening 1 removed, then 3 from the morning
        ([0, 1, 1, 1, 2, 0, 0, 0, 0, 0, 0], (1, 8)),
        # Wake not the largest class: untouched
        ([0, 2, 2, 0], (0, 4)),
        # inner Wake counts for "largest" but stays: W 8, second 1; edge 2 + 2 down to 1
        ([0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0], (2, 10)),
        # no sleep at all: nothing to anchor on, kept
        ([0, 0, 0], (0, 3)),
    ],
)
def test_largest_rule_hand_computed(labels, expected):
    trim = wake_down_to_second_largest(np.array(labels))
    assert (trim.start, trim.stop) == expected


def test_nsrr_rule_on_a_hand_made_hypnogram_with_unscored_epochs():
    # recording epochs 0..9; scored subsequence (U dropped first) = W W W N1 N2 N2 W W:
    # W 5 > N2 2 -> edge Wake 3 + 2 = 5 down to 2: remove 3, all from the evening (3 available)
    labels = [U, 0, 0, 0, 1, 2, 2, U, 0, 0]
    assert LAYOUTS.get("nsrr").default_wake_trim == WakeTrim("largest")
    assert kept(WakeTrim("largest"), labels) == [4, 5, 6, 8, 9]


def test_window_rule_keeps_minutes_of_recording_around_the_sleep_period():
    # 1 minute = 2 epochs before epoch 5 (first sleep) and after epoch 6 (last sleep)
    labels = [0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, U]
    assert kept(WakeTrim("window", minutes=1), labels) == [3, 4, 5, 6, 7, 8]
    # the window is recording time: unscored epochs inside it use up their place
    assert kept(WakeTrim("window", minutes=1), [0, 0, U, 0, 1, 0, U, 0, 0]) == [3, 4, 5]
    assert kept(WakeTrim("window", minutes=30), [0] * 70 + [2] + [0] * 70) == list(range(10, 131))
    assert LAYOUTS.get("sleep-edf").default_wake_trim == WakeTrim("window", minutes=30)


def test_none_rule_and_bad_rules():
    assert kept(WakeTrim("none"), [0, 0, U, 1, 0]) == [0, 1, 3, 4]
    with pytest.raises(PolymodalError, match="unknown Wake trimming rule 'edges'; choose one of: window, largest, none"):
        WakeTrim("edges")
    with pytest.raises(PolymodalError, match="must be >= 0 minutes"):
        WakeTrim("window", minutes=-1)

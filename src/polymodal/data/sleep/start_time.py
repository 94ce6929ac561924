"""Start times of a PSG and of its scoring, which must agree for the labels to fall on the right epochs.

DeepSleepNet (``prepare_physionet.py``) and TinySleepNet (``prepare_sleepedf.py``)
assert that a Sleep-EDF PSG and its hypnogram start at the same date and
time. An EDF file gives its start as date and time (edfio ``startdatetime``);
when the date is anonymized (``Startdate X``) only the time of day is known.
An NSRR XML file gives only a time of day, in the ``ClockTime`` of its
``Recording Start Time`` event (``00.00.00 21.30.00``; the date part is a
placeholder). Two starts are compared as date and time when both have a
date, otherwise by time of day.
"""

from __future__ import annotations

import datetime
import warnings
from pathlib import Path

import edfio

from polymodal.errors import PolymodalError

Start = datetime.datetime | datetime.time


def edf_start(edf: edfio.Edf) -> Start:
    """Start of an EDF file: date and time, or the time of day alone when the date is anonymized.

    When the legacy and EDF+ start-date fields differ, edfio warns and uses
    the EDF+ field; that warning is not treated as a corrupt file.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return edf.startdatetime
        except edfio.AnonymizedDateError:
            return edf.starttime


def nsrr_clock_time(text: str, path: Path) -> datetime.time:
    """The time of day of an NSRR ``ClockTime`` such as ``00.00.00 21.30.00``."""
    try:
        hours, minutes, seconds = (int(part) for part in text.split()[-1].split("."))
        return datetime.time(hours, minutes, seconds)
    except (ValueError, IndexError):
        raise PolymodalError(f"{path.name}: unreadable recording start ClockTime {text!r}") from None


def check_same_start(recording: Start, scoring: Start | None, recording_name: str, scoring_name: str) -> None:
    """Raise naming both files when the scoring does not start with the recording (``None``: no start given)."""
    if scoring is None:
        return
    both_dated = isinstance(recording, datetime.datetime) and isinstance(scoring, datetime.datetime)
    a, b = (recording, scoring) if both_dated else (_time_of_day(recording), _time_of_day(scoring))
    if a != b:
        raise PolymodalError(f"{recording_name} starts at {recording} but {scoring_name} starts at {scoring}")


def _time_of_day(start: Start) -> datetime.time:
    return start.time() if isinstance(start, datetime.datetime) else start

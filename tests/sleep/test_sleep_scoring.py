import datetime

import numpy as np
import pytest

from polymodal.data.sleep.scoring import UNSCORED, StageEvent, epoch_labels, read_edf_hypnogram, read_nsrr_xml
from polymodal.data.sleep.synthetic_psg import write_sleep_edf_hypnogram
from polymodal.errors import PolymodalError

XML = """<?xml version="1.0" encoding="UTF-8"?>
<PSGAnnotation><EpochLength>30</EpochLength><ScoredEvents>
<ScoredEvent><EventType/><EventConcept>Recording Start Time</EventConcept><Start>0</Start><Duration>300</Duration><ClockTime>00.00.00 21.30.05</ClockTime></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Wake|0</EventConcept><Start>0.0</Start><Duration>60.0</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Stage 4 sleep|4</EventConcept><Start>60.0</Start><Duration>30.0</Duration></ScoredEvent>
<ScoredEvent><EventType>Arousals|Arousals</EventType><EventConcept>Arousal|Arousal ()</EventConcept><Start>75.5</Start><Duration>3.0</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Unscored|9</EventConcept><Start>90.0</Start><Duration>30.0</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>REM sleep|5</EventConcept><Start>120.0</Start><Duration>60.0</Duration></ScoredEvent>
<ScoredEvent><EventType>Stages|Stages</EventType><EventConcept>Stage 3 sleep|3</EventConcept><Start>210.0</Start><Duration>30.0</Duration></ScoredEvent>
</ScoredEvents></PSGAnnotation>"""


def test_nsrr_xml_expands_to_epoch_labels(tmp_path):
    path = tmp_path / "a-nsrr.xml"
    path.write_text(XML)
    scoring = read_nsrr_xml(path)
    labels, past = epoch_labels(scoring.events, 9, path.name)
    # W W N3(4) ? REM REM (gap) N3(3) (not scored)
    assert labels.tolist() == [0, 0, 3, UNSCORED, 4, 4, UNSCORED, 3, UNSCORED] and past == 0
    assert scoring.start == datetime.time(21, 30, 5)
    assert read_nsrr_xml(_write(tmp_path, XML.replace("<ClockTime>00.00.00 21.30.05</ClockTime>", ""))).start is None


def _write(tmp_path, text):
    path = tmp_path / "other-nsrr.xml"
    path.write_text(text)
    return path


def test_scoring_past_the_recording_is_cut_and_counted(tmp_path):
    path = tmp_path / "a-nsrr.xml"
    path.write_text(XML)
    events = read_nsrr_xml(path).events
    # the N3 epoch at 210-240 s lies past a recording of 7 complete epochs (210 s)
    labels, past = epoch_labels(events, 7, path.name)
    assert labels.tolist() == [0, 0, 3, UNSCORED, 4, 4, UNSCORED] and past == 1
    assert epoch_labels(events, 5, path.name)[1] == 2  # REM at 150-180 s and N3


def test_unscored_events_past_the_end_or_off_the_grid_are_ignored():
    labels, past = epoch_labels([StageEvent(0, 60, 2), StageEvent(60, 3000, UNSCORED)], 3, "h")
    assert labels.tolist() == [2, 2, UNSCORED] and past == 0
    off_grid = [StageEvent(0, 60, 2), StageEvent(75, 20, UNSCORED), StageEvent(90, 30, 1), StageEvent(120, 2843, UNSCORED)]
    assert epoch_labels(off_grid, 5, "h")[0].tolist() == [2, 2, UNSCORED, 1, UNSCORED]


def test_off_grid_event_and_unknown_stage_are_errors(tmp_path):
    with pytest.raises(PolymodalError, match="x.xml: stage event at 15 s lasting 30 s is off the 30-s epoch grid"):
        epoch_labels([StageEvent(15, 30, 1)], 4, "x.xml")
    path = tmp_path / "b-nsrr.xml"
    path.write_text(XML.replace("REM sleep|5", "Stage 7 sleep|7"))
    with pytest.raises(PolymodalError, match="b-nsrr.xml: unknown sleep stage 'Stage 7 sleep|7'"):
        read_nsrr_xml(path)
    path.write_text(XML[:300])
    with pytest.raises(PolymodalError, match="b-nsrr.xml: corrupt scoring XML"):
        read_nsrr_xml(path)


def test_sleep_edf_hypnogram_round_trip(tmp_path):
    path = tmp_path / "X-Hypnogram.edf"
    codes = np.array([0, 0, 1, 2, 2, 3, 4, 5, 6, 9, 0])
    write_sleep_edf_hypnogram(path, codes, unscored_tail=1234.0)
    scoring = read_edf_hypnogram(path)
    assert epoch_labels(scoring.events, 11, path.name)[0].tolist() == [0, 0, 1, 2, 2, 3, 3, 4, UNSCORED, UNSCORED, 0]
    assert scoring.start == datetime.datetime(1989, 4, 24, 22, 0, 0)
    assert scoring.events[-1] == StageEvent(330.0, 1234.0, UNSCORED)

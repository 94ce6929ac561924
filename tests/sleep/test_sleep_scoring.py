import numpy as np
import pytest

from polymodal.data.sleep.scoring import UNSCORED, StageEvent, epoch_labels, read_edf_hypnogram, read_nsrr_xml, wake_trim
from polymodal.data.sleep.synthetic_psg import write_sleep_edf_hypnogram
from polymodal.errors import PolymodalError

XML = """<?xml version="1.0" encoding="UTF-8"?>
<PSGAnnotation><EpochLength>30</EpochLength><ScoredEvents>
<ScoredEvent><EventType/><EventConcept>Recording Start Time</EventConcept><Start>0</Start><Duration>300</Duration></ScoredEvent>
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
    labels = epoch_labels(read_nsrr_xml(path), 9, path.name)
    # W W N3(4) ? REM REM (gap) N3(3) (not scored)
    assert labels.tolist() == [0, 0, 3, UNSCORED, 4, 4, UNSCORED, 3, UNSCORED]


def test_scoring_past_the_recording_is_an_error(tmp_path):
    path = tmp_path / "a-nsrr.xml"
    path.write_text(XML)
    with pytest.raises(PolymodalError, match=r"a-nsrr.xml: scoring runs to 240 s but the recording holds 210 s"):
        epoch_labels(read_nsrr_xml(path), 7, path.name)


def test_unscored_events_past_the_end_are_ignored():
    events = [StageEvent(0, 60, 2), StageEvent(60, 3000, UNSCORED)]
    assert epoch_labels(events, 3, "h").tolist() == [2, 2, UNSCORED]


def test_off_grid_event_and_unknown_stage_are_errors(tmp_path):
    with pytest.raises(PolymodalError, match="off the 30-s epoch grid"):
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
    write_sleep_edf_hypnogram(path, codes)
    labels = epoch_labels(read_edf_hypnogram(path), 11, path.name)
    assert labels.tolist() == [0, 0, 1, 2, 2, 3, 3, 4, UNSCORED, UNSCORED, 0]


@pytest.mark.parametrize(
    "labels, kept",
    [
        # W count 6 > 2 (max other): remove 4 edge W, longer run (lead 4) first, then balanced
        ([0, 0, 0, 0, 1, 1, 2, 2, 0, 0], (3, 9)),
        # W no more frequent than another stage: untouched
        ([0, 2, 2, 0], (0, 4)),
        # excess 8 > edge Wake 4: all edge Wake goes, inner Wake stays
        ([0, 0, 1, 0, 0, 0, 0, 0, 2, 0, 0], (2, 9)),
    ],
)
def test_wake_trim_hand_computed(labels, kept):
    trim = wake_trim(np.array(labels))
    assert (trim.start, trim.stop) == kept

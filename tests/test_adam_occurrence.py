"""First-occurrence flags (ADaM OCCDS 1.1): AOCCFL / AOCCSFL / AOCCPFL "Y" on the first
treatment-emergent record per subject, per subject x AEBODSYS, per subject x AEBODSYS x AEDECOD
("1st Occurrence within Subject"); AOCC01FL / AOCC02FL / AOCC03FL the same within subject x treatment
group (TRTA); first = ASTDT, then AESEQ, missing ASTDT last; all other records null. Worked by hand.

Subject 001 switches from vehicle (2021-03-01 .. 2021-03-28) to cream 1.5% (2021-03-29 .. 2021-06-30).
The rows are given to derive_adam in a shuffled order, so that only the sort can put them right.

Within subject x TRTA (AOCC01FL, AOCC02FL, AOCC03FL):

AESEQ  start       PT (SOC)              TRTA        TRTEMFL  01FL   02FL    03FL
  1    unknown     Headache (Nervous)    Vehicle     Y        -      -       -       missing date sorts last
  2    2021-02-20  Headache (Nervous)    -           -        -      -       -       before treatment
  3    2021-03-05  Headache (Nervous)    Vehicle     Y        Y      Y       Y       tie on date: AESEQ 3 < 4
  4    2021-03-05  Pruritus (Skin)       Vehicle     Y        -      Y       Y
  5    2021-03-10  Headache (Nervous)    Vehicle     Y        -      -       -
  6    2021-04-02  Headache (Nervous)    Cream 1.5%  Y        Y      Y       Y       first again: new group
  7    2021-04-02  Nausea (GI)           Cream 1.5%  Y        -      Y       Y       tie on date: AESEQ 6 < 7
  8    2021-03-20  Nausea (GI)           Vehicle     Y        -      Y       Y
  9    2021-03-20  Vomiting (GI)         Vehicle     Y        -      -       Y       same SOC as 8, AESEQ 8 < 9
 10    2021-10-01  Headache (Nervous)    Cream 1.5%  -        -      -       -       after the window: not a TEAE

Within subject (AOCCFL, AOCCSFL, AOCCPFL) the same, except on 6 and 7, which come after vehicle
records of their SOC and PT: 6 (Headache, after 3) none; 7 (Nausea, after 8 on 2021-03-20) none.
Subject 002 (cream 1.5% from 2021-03-01): its one TEAE is flagged on its own.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adam.adae import derive_occurrence_flags
from tests.adam_frames import C15, P1, P2, VEH, ae, by_seq, derive, dm, ex, text

NERV, SKIN, GI = "Nervous system disorders", "Skin and subcutaneous tissue disorders", "Gastrointestinal disorders"
ROWS = {
    1: (None, "Headache", NERV), 2: ("2021-02-20", "Headache", NERV), 3: ("2021-03-05", "Headache", NERV),
    4: ("2021-03-05", "Pruritus", SKIN), 5: ("2021-03-10", "Headache", NERV), 6: ("2021-04-02", "Headache", NERV),
    7: ("2021-04-02", "Nausea", GI), 8: ("2021-03-20", "Nausea", GI), 9: ("2021-03-20", "Vomiting", GI),
    10: ("2021-10-01", "Headache", NERV),
}
SHUFFLED = (9, 4, 7, 1, 10, 3, 6, 2, 8, 5)
EXPECTED = {  # AESEQ: (TRTA, TRTEMFL, AOCC01FL, AOCC02FL, AOCC03FL, AOCCFL, AOCCSFL, AOCCPFL)
    1: ("Vehicle", "Y", None, None, None, None, None, None),
    2: (None, None, None, None, None, None, None, None),
    3: ("Vehicle", "Y", "Y", "Y", "Y", "Y", "Y", "Y"),
    4: ("Vehicle", "Y", None, "Y", "Y", None, "Y", "Y"),
    5: ("Vehicle", "Y", None, None, None, None, None, None),
    6: ("Cream 1.5%", "Y", "Y", "Y", "Y", None, None, None),
    7: ("Cream 1.5%", "Y", None, "Y", "Y", None, None, None),
    8: ("Vehicle", "Y", None, "Y", "Y", None, "Y", "Y"),
    9: ("Vehicle", "Y", None, None, "Y", None, None, "Y"),
    10: ("Cream 1.5%", None, None, None, None, None, None, None),
}
SUBJECT_FLAGS = ["AOCCFL", "AOCCSFL", "AOCCPFL"]
TREATMENT_FLAGS = ["AOCC01FL", "AOCC02FL", "AOCC03FL"]
FLAGS = ["TRTA", "TRTEMFL", *TREATMENT_FLAGS, *SUBJECT_FLAGS]


@pytest.fixture(scope="module")
def adae(tmp_path_factory):
    events = [{"subject": "001", "AESEQ": seq, "AESTDTC": ROWS[seq][0], "AEDECOD": ROWS[seq][1],
               "AEBODSYS": ROWS[seq][2]} for seq in SHUFFLED]
    events.append({"subject": "002", "AESEQ": 1, "AESTDTC": "2021-03-02", "AEDECOD": "Headache", "AEBODSYS": NERV})
    analysis = derive(tmp_path_factory.mktemp("aocc"),
                      dm_rows=dm({"subject": "001", "ARMCD": "VEH-TPZ15"}, {"subject": "002", "ARMCD": "TPZ15-TPZ15"}),
                      ex_rows=ex(("001", VEH, P1, "2021-03-01", "2021-03-28"),
                                 ("001", C15, P2, "2021-03-29", "2021-06-30"),
                                 ("002", C15, P1, "2021-03-01", "2021-03-31")),
                      ae_rows=ae(*events))
    return analysis.datasets["ADAE"]


@pytest.mark.parametrize("seq", sorted(EXPECTED))
def test_flags_of_the_switcher(adae, seq):
    assert tuple(text(by_seq(adae, "001").loc[seq, FLAGS])) == EXPECTED[seq]


def test_one_first_occurrence_per_subject_and_per_subject_and_group(adae):
    # 001 has one AOCC01FL in each group it received, one AOCCFL in all; 002 one of each
    first = adae[adae["AOCC01FL"] == "Y"]
    assert sorted(zip(first["USUBJID"], first["TRTA"])) == [("S1-001", "Cream 1.5%"), ("S1-001", "Vehicle"),
                                                           ("S1-002", "Cream 1.5%")]
    assert sorted(adae.loc[adae["AOCCFL"] == "Y", "USUBJID"]) == ["S1-001", "S1-002"]


def test_flags_only_on_treatment_emergent_records(adae):
    flags = SUBJECT_FLAGS + TREATMENT_FLAGS
    flagged = adae[(adae[flags] == "Y").any(axis=1)]
    assert (flagged["TRTEMFL"] == "Y").all()
    assert set(adae[flags].stack().dropna()) == {"Y"}


# -- properties of derive_occurrence_flags on random records ------------------------------------------

RECORD = st.tuples(st.sampled_from(["A", "B", "C"]), st.sampled_from(["Vehicle", "Cream 1.5%"]),
                   st.one_of(st.none(), st.integers(0, 5)), st.sampled_from(["S1", "S2"]),
                   st.sampled_from(["P1", "P2", "P3"]), st.booleans())


@settings(max_examples=200, deadline=None)
@given(st.lists(RECORD, max_size=25))
def test_first_occurrence_properties(records):
    frame = pd.DataFrame(records, columns=["USUBJID", "TRTA", "ASTDT", "AEBODSYS", "AEDECOD", "TEAE"])
    frame["ASTDT"] = frame["ASTDT"].astype("float64")
    frame["AESEQ"] = np.arange(len(frame), 0, -1, dtype="float64")   # AESEQ against row order
    frame["TRTEMFL"] = np.where(frame["TEAE"], "Y", None)
    got = derive_occurrence_flags(frame.drop(columns="TEAE"))
    teae = got[got["TRTEMFL"] == "Y"]
    for flag, keys in (("AOCCFL", ["USUBJID"]), ("AOCCSFL", ["USUBJID", "AEBODSYS"]),
                       ("AOCCPFL", ["USUBJID", "AEBODSYS", "AEDECOD"]),
                       ("AOCC01FL", ["USUBJID", "TRTA"]), ("AOCC02FL", ["USUBJID", "TRTA", "AEBODSYS"]),
                       ("AOCC03FL", ["USUBJID", "TRTA", "AEBODSYS", "AEDECOD"])):
        flagged = got[got[flag] == "Y"]
        # exactly one flag per group with a TEAE, only on TEAEs, values Y or null
        assert (flagged["TRTEMFL"] == "Y").all()
        assert len(flagged) == len(teae.drop_duplicates(keys)) and not flagged.duplicated(keys).any()
        assert set(got[flag].dropna()) <= {"Y"}
        # the flagged record comes first: earliest ASTDT (missing last), then lowest AESEQ
        order = teae.assign(_S=teae["ASTDT"].fillna(np.inf)).sort_values(["_S", "AESEQ"])
        assert set(order.drop_duplicates(keys).index) == set(flagged.index)

"""Adverse events of special interest as data (ISS config ``events[]`` with ``cq``) -> CQzzNAM, and
AREL; each record's expected queries worked out by hand from the definitions below.

Definitions (adam.adae.matches_event): (AEBODSYS in soc OR AEDECOD in pt OR AEDECOD contains a
pt_contains text) AND AEDECOD not in pt_exclude AND, where given, serious (AESER = Y), fatal (AEOUT
FATAL or AESDTH Y), related (AREL = RELATED); text compared in any case. Emergence is not part of a
query (analyses add TRTEMFL = Y).
"""
from __future__ import annotations

import pytest

from tests.adam_frames import C15, P1, ae, by_seq, derive, dm, ex, text

EVENTS = [
    {"paramcd": "TTEANY", "name": "Any TEAE"},
    {"paramcd": "TTESINF", "name": "Serious infections", "cq": 1, "soc": ["INFECTIONS AND INFESTATIONS"],
     "serious": True},
    {"paramcd": "TTEMALIG", "name": "Malignancies", "cq": 2, "pt": ["Basal cell carcinoma", "Lymphoma"]},
    {"paramcd": "TTEDERM", "name": "Dermatologic events", "cq": 3, "pt_contains": ["APPLICATION", "dermatitis"],
     "soc": ["Skin and subcutaneous tissue disorders"], "pt_exclude": ["ALOPECIA"]},
    {"paramcd": "TTEDTH", "name": "Deaths", "cq": 4, "fatal": True},
    {"paramcd": "TTERSER", "name": "Related serious events", "cq": 5, "serious": True, "related": True},
]
INF, NEO, GEN = "Infections and infestations", "Neoplasms benign, malignant and unspecified (incl cysts and polyps)", \
    "General disorders and administration site conditions"
SKIN, CARD = "Skin and subcutaneous tissue disorders", "Cardiac disorders"
# AESEQ: (AEDECOD, AEBODSYS, AESER, AEOUT, AESDTH, AEREL, AESTDTC), expected CQ01..CQ05 (x = named), AREL
RECORDS = {
    1: (("Cellulitis", INF, "Y", "RECOVERED/RESOLVED", "N", "NOT RELATED", "2021-03-05"), "x....", "NOT RELATED"),
    2: (("Nasopharyngitis", INF, "N", "RECOVERED/RESOLVED", "N", "NOT RELATED", "2021-03-05"), ".....",
        "NOT RELATED"),
    3: (("basal cell carcinoma", NEO, "N", "RECOVERED/RESOLVED", "N", "NOT RELATED", "2021-03-06"), ".x...",
        "NOT RELATED"),
    4: (("Application site pain", GEN, "N", "RECOVERED/RESOLVED", "N", "RELATED", "2021-03-06"), "..x..", "RELATED"),
    5: (("Alopecia", SKIN, "N", "RECOVERED/RESOLVED", "N", "NOT RELATED", "2021-03-07"), ".....", "NOT RELATED"),
    6: (("Pruritus", SKIN, "N", "RECOVERED/RESOLVED", "N", "NOT RELATED", "2021-03-07"), "..x..", "NOT RELATED"),
    7: (("Dermatitis contact", SKIN, "N", "RECOVERED/RESOLVED", "N", "NOT RELATED", "2021-03-08"), "..x..",
        "NOT RELATED"),
    8: (("Myocardial infarction", CARD, "Y", "FATAL", "N", "NOT RELATED", "2021-03-09"), "...x.", "NOT RELATED"),
    9: (("Sudden death", GEN, "Y", "NOT RECOVERED/NOT RESOLVED", "Y", "RELATED", "2021-03-09"), "...xx", "RELATED"),
    10: (("Cellulitis", INF, "Y", "RECOVERED/RESOLVED", "N", "NOT RELATED", "2021-02-20"), "x....", "NOT RELATED"),
    11: (("Pneumonia", INF, "Y", "RECOVERED/RESOLVED", "N", None, "2021-03-10"), "x...x", "RELATED"),
    12: (("LYMPHOMA", NEO, "Y", "NOT RECOVERED/NOT RESOLVED", "N", "possibly related", "2021-03-11"), ".x..x",
         "RELATED"),
}
NAMES = ["Serious infections", "Malignancies", "Dermatologic events", "Deaths", "Related serious events"]


@pytest.fixture(scope="module")
def adae(tmp_path_factory):
    rows = [{"subject": "001", "AESEQ": seq, "AEDECOD": d, "AEBODSYS": soc, "AESER": ser, "AEOUT": out,
             "AESDTH": dth, "AEREL": rel, "AESTDTC": start}
            for seq, ((d, soc, ser, out, dth, rel, start), _, _) in RECORDS.items()]
    analysis = derive(tmp_path_factory.mktemp("cq"), dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
                      ex_rows=ex(("001", C15, P1, "2021-03-01", "2021-03-31")), ae_rows=ae(*rows), events=EVENTS,
                      related_terms=["RELATED", "Possibly Related"])
    assert not (analysis.findings["severity"] == "error").any()
    return by_seq(analysis.datasets["ADAE"], "001")


@pytest.mark.parametrize("seq", sorted(RECORDS))
def test_custom_query_names(adae, seq):
    expected = [name if mark == "x" else None for name, mark in zip(NAMES, RECORDS[seq][1])]
    assert text(adae.loc[seq, [f"CQ{i:02d}NAM" for i in range(1, 6)]]) == expected


@pytest.mark.parametrize("seq", sorted(RECORDS))
def test_arel_missing_counts_as_related(adae, seq):
    # related_terms match in any case; a missing AEREL is related (the conservative rule of MT.AREL)
    assert adae.loc[seq, "AREL"] == RECORDS[seq][2]


def test_query_does_not_depend_on_emergence(adae):
    # AESEQ 10 began before the first dose: not emergent, still a serious infection
    assert (adae.loc[10, "TRTEMFL"] if isinstance(adae.loc[10, "TRTEMFL"], str) else None) is None
    assert adae.loc[10, "CQ01NAM"] == "Serious infections"


def test_cq_variables_are_in_the_spec_with_a_one_term_codelist(tmp_path):
    analysis = derive(tmp_path, dm_rows=dm({"subject": "001", "ARMCD": "TPZ15-TPZ15"}),
                      ex_rows=ex(("001", C15, P1, "2021-03-01", "2021-03-31")), events=EVENTS)
    ds = analysis.spec.dataset("ADAE")
    for number, name in enumerate(NAMES, start=1):
        var = ds.variable(f"CQ{number:02d}NAM")   # kept although no record matches (no AEs at all)
        assert [i.value for i in analysis.spec.codelist(var.codelist).items] == [name]
    assert all(f"CQ{n:02d}NAM" in analysis.datasets["ADAE"] for n in range(1, 6))

"""Study configs and the ISS config of the demo programme (validated by specs/schema/*.json)."""
from __future__ import annotations

import numpy as np

from . import design as d
from .cohort import ALL_ARMS
from .render import FIELDS, arm_texts, export_fields

ISS_ID = "TPZ-ISS"
CREATION_DATETIME = "2026-01-15T09:00:00"
DATA_CUTOFF = "2023-12-31"
SPONSOR = "Topaz Dermatology (fictional)"
INDICATION = "Atopic dermatitis"
#: SNOMED CT concept 24079001 "Atopic dermatitis (disorder)", International Edition 2024-09-01.
INDICATION_CODE = {"code": "24079001", "code_system": "SNOMED", "version": "2024-09-01"}
#: The fictional drug's ingredient code: a made-up UNII (10 characters, as FDA's substance
#: registry gives them) so that TS TRT shows where the code goes; the vehicle has none.
UNII = {"TPZ075": "TPZ0000075", "TPZ15": "TPZ0000150"}
#: The Trial Summary parameters only the protocol says (TS, SDTMIG 3.4 section 7.6.1), by phase.
TRIAL_SUMMARY_DESIGN = {
    1: {"TTYPE": ["SAFETY", "PHARMACOKINETIC"], "INTMODEL": "SINGLE GROUP", "TBLIND": "OPEN LABEL", "TCNTRL": "NONE",
        "LENGTH": "P4W",
        "OBJPRIM": "To assess the safety and systemic exposure of topazitinib cream 1.5% applied twice daily "
                   "under maximum-use conditions"},
    2: {"TTYPE": ["EFFICACY", "SAFETY", "DOSE RESPONSE"], "INTMODEL": "PARALLEL", "TBLIND": "DOUBLE BLIND",
        "TCNTRL": "PLACEBO", "LENGTH": "P52W",
        "OBJPRIM": "To compare the efficacy of topazitinib cream 0.75% and 1.5% with vehicle at week 8"},
    3: {"TTYPE": ["EFFICACY", "SAFETY"], "INTMODEL": "PARALLEL", "TBLIND": "DOUBLE BLIND", "TCNTRL": "PLACEBO",
        "LENGTH": "P52W",
        "OBJPRIM": "To compare the efficacy of topazitinib cream 0.75% and 1.5% with vehicle at week 8"},
}

SUPPLEMENTAL = {
    "DM": [
        {"qnam": "FITZPAT", "qlabel": "Fitzpatrick Skin Type", "field": "FITZPAT", "qorig": "CRF"},
        {"qnam": "IGABL", "qlabel": "Baseline IGA Score", "field": "IGABL", "qorig": "CRF",
         "qeval": "INVESTIGATOR"},
        {"qnam": "BSABL", "qlabel": "Baseline Body Surface Area Affected (%)", "field": "BSABL",
         "qorig": "CRF", "qeval": "INVESTIGATOR"},
    ],
    "AE": [
        {"qnam": "AESOSP", "qlabel": "Other Medically Important, Specify", "field": "AESOSP", "qorig": "CRF"},
    ],
}
PERIODS = {
    1: ("Vehicle-controlled", "BLINDED TREATMENT"),
    2: ("Long-term extension", "OPEN LABEL TREATMENT"),
    "single": ("Open-label treatment", "OPEN LABEL TREATMENT"),
}
FILE_BASENAMES = {"DM": "dm", "AE": "ae", "EX": "ex", "DS": "ds"}

MACE_TERMS = ("Myocardial infarction", "Acute myocardial infarction", "Silent myocardial infarction",
              "Ischaemic stroke", "Haemorrhagic stroke", "Cerebrovascular accident", "Cardiac death",
              "Sudden cardiac death", "Sudden death")


def study_file_name(plan: d.StudyPlan) -> str:
    return f"{plan.studyid.lower()}.json"


def raw_file_name(plan: d.StudyPlan, domain: str) -> str:
    return f"{FILE_BASENAMES[domain]}.{plan.file_format}"


def study_config(plan: d.StudyPlan, style: dict, sites: dict[str, str],
                 value_maps: dict[str, dict[str, str]]) -> dict:
    """The study config of one study (paths relative to studies/<studyid>.json)."""
    treatments = style["treatments"]
    used = sorted({t for arm in plan.arms for t in arm.treatments})
    return {
        "studyid": plan.studyid,
        "title": plan.title,
        "protocol": f"{plan.studyid} protocol version 3.0",
        "sponsor": SPONSOR,
        "indication": INDICATION,
        "phase": d.TPHASE[plan.phase],
        "source": "raw",
        "raw": {
            "dir": f"../raw/{plan.studyid.lower()}",
            "date_formats": list(style["date_formats"]),
            "unknown_date_tokens": list(style["unknown_date_tokens"]),
            "files": {domain: _file_entry(plan, style, domain) for domain in FIELDS},
        },
        "usubjid": "{STUDYID}-{SITEID}-{SUBJID}",
        "sites": {site: {"country": country} for site, country in sorted(sites.items())},
        "treatments": {
            treatments[d.TREATMENTS[t]]: {
                "extrt": d.EXTRT[d.TREATMENTS[t]],
                "strength": d.STRENGTH[d.TREATMENTS[t]],
                "strength_unit": "%",
                "active": d.TREATMENTS[t] != "VEH",
                **({"unii": UNII[d.TREATMENTS[t]]} if d.TREATMENTS[t] in UNII else {}),
            }
            for t in used
        },
        "periods": _periods(plan, style),
        "arms": _arms(plan, style),
        "epochs": {"before_treatment": "SCREENING", "after_treatment": "FOLLOW-UP"},
        "exposure": {"dose_unit": "g", "dose_form": "CREAM", "route": "TOPICAL", "frequency": "BID",
                     "location": "SKIN"},
        "value_maps": {name: value_maps[name] for name in sorted(value_maps) if value_maps[name]},
        "supplemental": SUPPLEMENTAL,
        "reference_dates": {"rfendtc": "end_of_participation"},
        "randomized": plan.randomized,
        "age": "derived",
        "trial_summary": trial_summary(plan),
    }


def trial_summary(plan: d.StudyPlan) -> dict:
    """The study's TS parameters from the protocol (``trial_summary`` of the study config): the
    design of its phase, the planned subjects (those the plan randomises or assigns), and what
    every study of the programme shares. The demo programme is fictional and registered nowhere:
    REGID has the null flavour NA; its pharmacologic class is given without a MED-RT code."""
    return {
        "STYPE": "INTERVENTIONAL",
        **TRIAL_SUMMARY_DESIGN[plan.phase],
        "INTTYPE": "DRUG",
        "TINDTP": "TREATMENT",
        "ADDON": "N",
        "ADAPT": "N",
        "HLTSUBJI": "N",
        "SEXPOP": "BOTH",
        "PLANSUB": plan.participants + plan.not_treated,
        "INDIC": INDICATION_CODE,
        "TDIGRP": "Children and adolescents with atopic dermatitis",
        "PCLAS": "Janus Kinase Inhibitor",
        "REGID": {"null_flavor": "NA"},
        "STOPRULE": "Last subject completed the last visit, or the sponsor ended the study",
        "DCUTDESC": "Data cut-off of the integrated summary of safety",
    }


def _file_entry(plan: d.StudyPlan, style: dict, domain: str) -> dict:
    entry: dict = {"path": raw_file_name(plan, domain), "format": plan.file_format}
    if plan.file_format == "xlsx":
        entry["sheet"] = style["sheets"][domain]
    else:
        entry["encoding"] = "utf-8"
        entry["delimiter"] = style["delimiter"]
    entry["columns"] = export_fields(plan, style["columns"][domain])
    return entry


def _periods(plan: d.StudyPlan, style: dict) -> list[dict]:
    keys = ["single"] if plan.phase == 1 else [1, 2]
    return [
        {"number": number, "name": PERIODS[key][0], "epoch": PERIODS[key][1], "raw": list(style["periods"][str(key)])}
        for number, key in enumerate(keys, start=1)
    ]


def _arms(plan: d.StudyPlan, style: dict) -> list[dict]:
    texts = arm_texts(style)
    arms = []
    for (phase, arm), text in zip(ALL_ARMS, texts):
        if phase != plan.phase:
            continue
        arms.append({
            "armcd": arm.armcd,
            "arm": arm.arm,
            "raw": [text],
            "treatments": [style["treatments"][d.TREATMENTS[t]] for t in arm.treatments],
        })
    return arms


def iss_config(plans: tuple[d.StudyPlan, ...]) -> dict:
    label = d.GROUP_LABEL
    return {
        "id": ISS_ID,
        "title": "Integrated Summary of Safety of Topazitinib Cream in Children and Adolescents With Atopic "
                 "Dermatitis",
        "sponsor": SPONSOR,
        "description": "Pooled safety of topazitinib cream 0.75% and 1.5% twice daily in phase 1 maximum-use, "
                       "phase 2 and phase 3 studies (vehicle-controlled 8 weeks, then open-label extension "
                       "to week 52); treatment groups assigned by the cream actually applied.",
        "studies": [f"studies/{study_file_name(p)}" for p in plans],
        "creation_datetime": CREATION_DATETIME,
        "data_cutoff": DATA_CUTOFF,
        "groups": [
            {"label": label["TPZ075"], "number": 1, "treatments": [d.EXTRT["TPZ075"]]},
            {"label": label["TPZ15"], "number": 2, "treatments": [d.EXTRT["TPZ15"]]},
            {"label": label["VEH"], "number": 3, "treatments": [d.EXTRT["VEH"]], "control": True},
            {"label": "All cream", "number": 4, "pools": [label["TPZ075"], label["TPZ15"]]},
        ],
        "analysis_pools": [
            {"id": "VC", "label": "Vehicle-controlled pool", "flag": "VCPOOLFL",
             "studies": [p.studyid for p in plans if p.phase > 1], "periods": [1]},
            {"id": "ALL", "label": "All-exposure pool", "flag": "ALLEXPFL", "studies": [p.studyid for p in plans]},
        ],
        "assign_by": "exposure",
        "comparisons": [
            {"treatment": group, "control": label["VEH"]}
            for group in (label["TPZ075"], label["TPZ15"], "All cream")
        ],
        "teae": {"window_days": 30, "missing_start": "emergent"},
        "imputation": {
            "ae_start": {"highest": "M", "fill": "first", "min": ["TRTSDT"]},
            "ae_end": {"highest": "M", "fill": "last", "max": ["DTHDT", "EOSDT", "CUTOFF"]},
        },
        "age_groups": [
            {"label": "2 to <6 years", "number": 1, "lower": 2, "upper": 6},
            {"label": "6 to <12 years", "number": 2, "lower": 6, "upper": 12},
            {"label": "12 to 17 years", "number": 3, "lower": 12, "upper": 17, "upper_inclusive": True},
        ],
        "populations": {"ITTFL": "randomized", "SAFFL": "any_dose"},
        "events": [
            {"paramcd": "TTEANY", "name": "Any TEAE"},
            {"paramcd": "TTESER", "name": "Serious TEAE", "serious": True},
            {"paramcd": "TTESINF", "name": "Serious infections", "cq": 1, "soc": ["Infections and infestations"],
             "serious": True},
            {"paramcd": "TTEMACE", "name": "Major adverse cardiovascular events", "cq": 2, "pt": list(MACE_TERMS)},
            {"paramcd": "TTETHRM", "name": "Thromboembolic events", "smq": 1,
             "query": "Embolic and thrombotic events (demo query)"},
            {"paramcd": "TTEMALIG", "name": "Malignancies", "smq": 2, "query": "Malignancies (demo query)"},
            {"paramcd": "TTEDTH", "name": "Deaths", "fatal": True},
        ],
        "query_file": "queries.csv",
        "rates": {"per": 100, "ci_method": "exact", "conf_level": 0.95, "strata": "STUDYID"},
    }


def study_sites(site_labels: np.ndarray, site_country: np.ndarray) -> dict[str, str]:
    """Site number -> ISO 3166-1 alpha-3 country, from one study's subjects."""
    pairs = np.unique(np.stack([site_labels.astype(str), site_country.astype(str)], axis=1), axis=0)
    return {label: country for label, country in pairs}

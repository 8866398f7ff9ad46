"""The headline numbers of a build, computed from the datasets (never typed)."""
from __future__ import annotations

from specs import findings


def build_summary(result) -> dict:
    adsl = result.analysis.datasets["ADSL"]
    adex = result.analysis.datasets["ADEX"]
    from report.tables import in_groups

    years = in_groups(adex[adex["PARAMCD"] == "TRTDURY"]).groupby("TRTA")["AVAL"].sum()   # pooled: TRTAGy
    groups = [g.label for g in sorted(result.iss.groups, key=lambda g: g.number)]
    return {
        "studies": len(result.iss.studies),
        "subjects_in_dm": int(sum(len(s.datasets["DM"]) for s in result.studies)) or None,
        "subjects_in_adsl": int(len(adsl)),
        "participants": int((adsl["SAFFL"] == "Y").sum()),
        "patient_years": {g: round(float(years.get(g, 0.0)), 2) for g in groups},
        "events_of_interest": events_of_interest(result.analysis),
        "other_events": events_of_interest(result.analysis, special=False),
        "rows": {f"{s.studyid}/{name}": int(len(df)) for s in result.studies for name, df in s.datasets.items()}
        | {f"{result.iss.id}/{name}": int(len(df)) for name, df in result.analysis.datasets.items()},
        "findings": findings.counts(result.findings),
        "rejected_raw_records": int(sum(len(s.rejections) for s in result.studies)),
    }


def events_of_interest(analysis, *, special: bool = True) -> dict[str, dict[str, int]]:
    """Subjects with each adverse event of special interest, per group — the ISS config's events
    with a customised or standardised query (``report.tables.aesi_events``) — or, with ``special=False``, with each of its other
    events (any TEAE, serious TEAE ...), counted as the report counts them
    (``report.tables.event_rates``, from ADAETTE)."""
    from report.tables import aesi_events, event_rates

    special_codes = {e["paramcd"] for e in aesi_events(analysis.iss)}
    chosen = {e["paramcd"] for e in analysis.iss.events if (e["paramcd"] in special_codes) == special}
    if not chosen:
        return {}
    rates = event_rates(analysis)
    rates = rates[rates["PARAMCD"].isin(chosen)]
    out: dict[str, dict[str, int]] = {}
    for event, group, subjects in rates[["event", "TRTA", "subjects_with_event"]].to_numpy().tolist():
        out.setdefault(event, {})[group] = int(subjects)  # events x groups: a few dozen cells
    return out

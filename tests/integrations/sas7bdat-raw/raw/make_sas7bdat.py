"""Writes the OSV-UC-201 raw exports raw/osv-uc-201/{dm,ae,ex,ds}.sas7bdat.

pyreadstat's public API cannot write SAS7BDAT; this uses the ReadStat C library's own SAS7BDAT
writer as bundled in pyreadstat (``pyreadstat._readstat_writer.writer_entry_point``, the way
tests/data/README.md made ae_datetimes.sas7bdat). Date columns are SAS numeric dates (days
since 1960-01-01) with the DATE9. display format; doses, AE sequence numbers and MedDRA codes
are numeric; everything else is character. ReadStat notes that files its writer produces are
not guaranteed to open in SAS itself; trialpack reads SAS7BDAT through pyreadstat.

Run from this folder (pyreadstat 1.3.8 was used): python make_sas7bdat.py
"""
import datetime as dt
from pathlib import Path

import pandas as pd
from pyreadstat._readstat_writer import writer_entry_point

OUT = Path(__file__).resolve().parent / "osv-uc-201"
D = dt.date


def write(frame: pd.DataFrame, name: str, label: str, dates: list[str]) -> None:
    writer_entry_point(frame, str(OUT / f"{name}.sas7bdat"), writer_format="sas7bdat", file_label=label,
                       column_labels=None, version=9, table_name=name.upper(),
                       variable_format={c: "DATE9." for c in dates}, variable_informat=None)


DM = pd.DataFrame(
    [
        ["0001", "501", D(1984, 2, 11), "M", "WHITE", "NOT HISPANIC OR LATINO", D(2020, 9, 21), "OSV 300 MG IV Q4W"],
        ["0002", "501", D(1979, 8, 30), "F", "WHITE", "NOT HISPANIC OR LATINO", D(2020, 9, 28), "PLACEBO, THEN OSV 300 MG"],
        ["0003", "501", D(1992, 5, 17), "M", "WHITE", "HISPANIC OR LATINO", D(2020, 10, 5), "OSV 300 MG IV Q4W"],
        ["0004", "501", D(1968, 12, 3), "F", "BLACK OR AFRICAN AMERICAN", "NOT HISPANIC OR LATINO", D(2020, 10, 12), "PLACEBO, THEN OSV 300 MG"],
        ["0005", "502", D(1957, 3, 22), "M", "WHITE", "NOT HISPANIC OR LATINO", D(2020, 10, 19), "OSV 300 MG IV Q4W"],
        ["0006", "502", D(1988, 10, 9), "F", "WHITE", "NOT HISPANIC OR LATINO", D(2020, 10, 26), "PLACEBO, THEN OSV 300 MG"],
        ["0007", "502", D(1975, 6, 14), "M", "WHITE", "NOT HISPANIC OR LATINO", D(2020, 11, 2), "OSV 300 MG IV Q4W"],
        ["0008", "502", D(1990, 1, 27), "F", "WHITE", "NOT HISPANIC OR LATINO", D(2020, 11, 9), "PLACEBO, THEN OSV 300 MG"],
    ],
    columns=["SUBJID", "SITEID", "BRTHDT", "SEX", "RACE", "ETHNIC", "ICDT", "ARM"],
)

# one record per infusion (start = end = the infusion date)
INFUSIONS = {
    "0001": [("DB", "OSV", 300, D(2020, 10, 5)), ("DB", "OSV", 300, D(2020, 11, 2)), ("DB", "OSV", 300, D(2020, 11, 30)),
             ("OLE", "OSV", 300, D(2020, 12, 28)), ("OLE", "OSV", 300, D(2021, 1, 25)), ("OLE", "OSV", 300, D(2021, 2, 22))],
    "0002": [("DB", "PBO", 0, D(2020, 10, 12)), ("DB", "PBO", 0, D(2020, 11, 9)), ("DB", "PBO", 0, D(2020, 12, 7)),
             ("OLE", "OSV", 300, D(2021, 1, 4)), ("OLE", "OSV", 300, D(2021, 2, 1)), ("OLE", "OSV", 300, D(2021, 3, 1))],
    "0003": [("DB", "OSV", 300, D(2020, 10, 19)), ("DB", "OSV", 300, D(2020, 11, 16))],
    "0004": [("DB", "PBO", 0, D(2020, 10, 26)), ("DB", "PBO", 0, D(2020, 11, 23)), ("DB", "PBO", 0, D(2020, 12, 21)),
             ("OLE", "OSV", 300, D(2021, 1, 18)), ("OLE", "OSV", 300, D(2021, 2, 15)), ("OLE", "OSV", 300, D(2021, 3, 15))],
    "0005": [("DB", "OSV", 300, D(2020, 11, 2)), ("DB", "OSV", 300, D(2020, 11, 30)), ("DB", "OSV", 300, D(2020, 12, 28)),
             ("OLE", "OSV", 300, D(2021, 1, 25))],
    "0006": [("DB", "PBO", 0, D(2020, 11, 9)), ("DB", "PBO", 0, D(2020, 12, 7)), ("DB", "PBO", 0, D(2021, 1, 4)),
             ("OLE", "OSV", 300, D(2021, 2, 1)), ("OLE", "OSV", 300, D(2021, 3, 1)), ("OLE", "OSV", 300, D(2021, 3, 29))],
    "0007": [("DB", "OSV", 300, D(2020, 11, 16)), ("DB", "OSV", 300, D(2020, 12, 14)), ("DB", "OSV", 300, D(2021, 1, 11)),
             ("OLE", "OSV", 300, D(2021, 2, 8)), ("OLE", "OSV", 300, D(2021, 3, 8)), ("OLE", "OSV", 300, D(2021, 4, 5))],
    "0008": [("DB", "PBO", 0, D(2020, 11, 23)), ("DB", "PBO", 0, D(2020, 12, 21)), ("DB", "PBO", 0, D(2021, 1, 18))],
}
EX = pd.DataFrame(
    [[subj, per, trt, float(dose), day, day] for subj, rows in INFUSIONS.items() for per, trt, dose, day in rows],
    columns=["SUBJID", "EXPER", "EXTRT", "EXDOSE", "EXSTDT", "EXENDT"],
)

IRR = ["Infusion related reaction", 10051792, "Infusion related reaction", 10051792, "Infusion related reactions",
       10068755, "Administration site reactions", 10001316, "Injury, poisoning and procedural complications", 10022117]
HEADACHE = ["Headache", 10019211, "Headache", 10019211, "Headaches NEC", 10019233, "Headaches", 10019231,
            "Nervous system disorders", 10029205]
COLD = ["Common cold", 10010106, "Nasopharyngitis", 10028810, "Upper respiratory tract infections", 10046309,
        "Infections - pathogen unspecified", 10021879, "Infections and infestations", 10021881]
JOINT = ["Joint pain", 10023222, "Arthralgia", 10003239, "Joint related signs and symptoms", 10023232,
         "Joint disorders", 10023213, "Musculoskeletal and connective tissue disorders", 10028395]
HIVES = ["Hives", 10020096, "Urticaria", 10046735, "Urticarias", 10046750, "Epidermal and dermal conditions",
         10014982, "Skin and subcutaneous tissue disorders", 10040785]
UC = ["Ulcerative colitis aggravated", 10045367, "Colitis ulcerative", 10009900, "Colitis (excl infective)",
      10009888, "Gastrointestinal inflammatory conditions", 10017969, "Gastrointestinal disorders", 10017947]
FEVER = ["Fever", 10016558, "Pyrexia", 10037660, "Febrile disorders", 10016286, "Body temperature conditions",
         10005908, "General disorders and administration site conditions", 10018065]
SEPSIS = ["Sepsis", 10040047, "Sepsis", 10040047, "Sepsis, bacteraemia, viraemia and fungaemia NEC", 10040050,
          "Infections - pathogen unspecified", 10021879, "Infections and infestations", 10021881]
ANAEMIA = ["Anaemia", 10002034, "Anaemia", 10002034, "Anaemias NEC", 10002086,
           "Anaemias nonhaemolytic and marrow depression", 10002042, "Blood and lymphatic system disorders", 10005329]
ZOSTER = ["Shingles", 10040582, "Herpes zoster", 10019974, "Herpes viral infections", 10019973,
          "Viral infectious disorders", 10047438, "Infections and infestations", 10021881]
ABDO = ["Abdominal pain", 10000081, "Abdominal pain", 10000081,
        "Gastrointestinal and abdominal pains (excl oral and throat)", 10017926, "Gastrointestinal signs and symptoms",
        10018012, "Gastrointestinal disorders", 10017947]
NOT_SERIOUS = ["N", "N", "N", "N", "N", "N", "N"]   # AESER, AESDTH, AESLIFE, AESHOSP, AESDISAB, AESCONG, AESMIE
RR = "RECOVERED/RESOLVED"

AE = pd.DataFrame(
    [
        ["0001", 1.0, "Infusion reaction, first infusion", *IRR, D(2020, 10, 5), D(2020, 10, 5), "N", "MILD", *NOT_SERIOUS, "RELATED", RR, "DOSE NOT CHANGED"],
        ["0001", 2.0, "Headache", *HEADACHE, D(2021, 4, 3), D(2021, 4, 4), "N", "MILD", *NOT_SERIOUS, "NOT RELATED", RR, "NOT APPLICABLE"],
        ["0002", 1.0, "Common cold", *COLD, D(2020, 12, 20), D(2020, 12, 27), "N", "MILD", *NOT_SERIOUS, "NOT RELATED", RR, "DOSE NOT CHANGED"],
        ["0002", 2.0, "Joint pain knees", *JOINT, D(2021, 1, 20), D(2021, 1, 25), "N", "MILD", *NOT_SERIOUS, "NOT RELATED", RR, "DOSE NOT CHANGED"],
        ["0003", 1.0, "Hives after second infusion", *HIVES, D(2020, 11, 16), D(2020, 11, 20), "N", "MODERATE", *NOT_SERIOUS, "RELATED", RR, "DRUG WITHDRAWN"],
        ["0004", 1.0, "Worsening of ulcerative colitis", *UC, D(2020, 11, 5), D(2020, 11, 25), "N", "MODERATE", *NOT_SERIOUS, "NOT RELATED", RR, "DOSE NOT CHANGED"],
        ["0005", 1.0, "Fever", *FEVER, D(2021, 2, 6), D(2021, 2, 8), "N", "MODERATE", *NOT_SERIOUS, "NOT RELATED", RR, "DOSE NOT CHANGED"],
        ["0005", 2.0, "Sepsis", *SEPSIS, D(2021, 2, 8), D(2021, 2, 12), "N", "SEVERE", "Y", "Y", "N", "Y", "N", "N", "N", "POSSIBLY RELATED", "FATAL", "DRUG WITHDRAWN"],
        ["0007", 1.0, "Anaemia", *ANAEMIA, D(2020, 11, 10), D(2021, 1, 20), "N", "MILD", *NOT_SERIOUS, "NOT RELATED", RR, "NOT APPLICABLE"],
        ["0007", 2.0, "Shingles left flank", *ZOSTER, D(2021, 2, 20), D(2021, 3, 5), "N", "MODERATE", *NOT_SERIOUS, "POSSIBLY RELATED", RR, "DOSE NOT CHANGED"],
        ["0008", 1.0, "Abdominal pain", *ABDO, D(2021, 2, 1), D(2021, 2, 3), "N", "MILD", *NOT_SERIOUS, "NOT RELATED", RR, "NOT APPLICABLE"],
    ],
    columns=["SUBJID", "AESPID", "AETERM", "AELLT", "AELLTCD", "AEDECOD", "AEPTCD", "AEHLT", "AEHLTCD", "AEHLGT",
             "AEHLGTCD", "AEBODSYS", "AEBDSYCD", "AESTDT", "AEENDT", "AEONGO", "AESEV", "AESER", "AESDTH", "AESLIFE",
             "AESHOSP", "AESDISAB", "AESCONG", "AESMIE", "AEREL", "AEOUT", "AEACN"],
)

DS = pd.DataFrame(
    [
        ["0001", "COMPLETED DOUBLE-BLIND PERIOD", "COMPLETED", D(2020, 12, 27), "DB"],
        ["0001", "COMPLETED STUDY", "COMPLETED", D(2021, 4, 19), "OLE"],
        ["0002", "COMPLETED DOUBLE-BLIND PERIOD", "COMPLETED", D(2021, 1, 3), "DB"],
        ["0002", "COMPLETED STUDY", "COMPLETED", D(2021, 4, 26), "OLE"],
        ["0003", "DISCONTINUED AFTER SECOND INFUSION (URTICARIA)", "ADVERSE EVENT", D(2020, 12, 14), "DB"],
        ["0004", "COMPLETED DOUBLE-BLIND PERIOD", "COMPLETED", D(2021, 1, 17), "DB"],
        ["0004", "COMPLETED STUDY", "COMPLETED", D(2021, 5, 10), "OLE"],
        ["0005", "COMPLETED DOUBLE-BLIND PERIOD", "COMPLETED", D(2021, 1, 24), "DB"],
        ["0005", "DIED (SEPSIS)", "DEATH", D(2021, 2, 12), "OLE"],
        ["0006", "COMPLETED DOUBLE-BLIND PERIOD", "COMPLETED", D(2021, 1, 31), "DB"],
        ["0006", "COMPLETED STUDY", "COMPLETED", D(2021, 5, 24), "OLE"],
        ["0007", "COMPLETED DOUBLE-BLIND PERIOD", "COMPLETED", D(2021, 2, 7), "DB"],
        ["0007", "COMPLETED STUDY", "COMPLETED", D(2021, 5, 31), "OLE"],
        ["0008", "COMPLETED DOUBLE-BLIND PERIOD; DID NOT ENTER EXTENSION", "COMPLETED", D(2021, 2, 14), "DB"],
    ],
    columns=["SUBJID", "DSTERM", "DSDECOD", "DSSTDT", "DSPER"],
)

if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    write(DM, "dm", "Demographics export", ["BRTHDT", "ICDT"])
    write(AE, "ae", "Adverse events export", ["AESTDT", "AEENDT"])
    write(EX, "ex", "Infusion log export", ["EXSTDT", "EXENDT"])
    write(DS, "ds", "Disposition export", ["DSSTDT"])
    for name in ("dm", "ae", "ex", "ds"):
        print(OUT / f"{name}.sas7bdat")

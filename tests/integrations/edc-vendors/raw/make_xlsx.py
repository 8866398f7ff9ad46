"""Writes raw/fbx-gt-301/FBX-GT-301_export.xlsx: the FBX-GT-301 EDC vendor's export, one
workbook with one sheet per form (DM, AE, EX, DS).

Dates are TEXT cells in the vendor's DDMONYYYY style (e.g. "04MAR2021"; "UNAPR2021" for a
day the site did not know), not Excel date cells. Identifiers are text; site numbers, doses,
sequence numbers and MedDRA codes are numeric cells, as the vendor exports them.

Run from this folder: python make_xlsx.py   (openpyxl)
"""
from pathlib import Path

from openpyxl import Workbook

SHEETS = {
    "DM": [
        ["Subject", "SiteNumber", "DOB_RAW", "SEX", "RACE", "ETHNIC", "IC_DATE_RAW", "RANDARM"],
        ["001", 1101, "12JUN1961", "Male", "White", "Not Hispanic or Latino", "04MAR2021", "Fenobrixant 80 mg"],
        ["002", 1101, "03SEP1955", "Male", "Black or African American", "Not Hispanic or Latino", "08MAR2021", "Allopurinol 300 mg"],
        ["003", 1101, "21JAN1970", "Female", "White", "Hispanic or Latino", "15MAR2021", "Fenobrixant 80 mg"],
        ["004", 1102, "30NOV1963", "Male", "Asian", "Not Hispanic or Latino", "22MAR2021", "Allopurinol 300 mg"],
        ["005", 1102, "14FEB1958", "Male", "White", "Not Hispanic or Latino", "29MAR2021", "Fenobrixant 80 mg"],
        ["006", 1102, "07JUL1966", "Female", "White", "Not Hispanic or Latino", "31MAR2021", "Allopurinol 300 mg"],
    ],
    "AE": [
        ["Subject", "AESPID", "AETERM", "AETERM_LLT", "AETERM_LLT_CODE", "AETERM_PT", "AETERM_PT_CODE",
         "AETERM_HLT", "AETERM_HLT_CODE", "AETERM_HLGT", "AETERM_HLGT_CODE", "AETERM_SOC", "AETERM_SOC_CODE",
         "AESTDAT_RAW", "AEENDAT_RAW", "AEONGO", "AESEV", "AESER", "AESDTH", "AESLIFE", "AESHOSP", "AESDISAB",
         "AESCONG", "AESMIE", "AEREL", "AEOUT", "AEACN"],
        ["001", 1, "Gout flare right big toe", "Gout flare", 10083023, "Gout", 10018627, "Gout and related disorders",
         10018634, "Purine and pyrimidine metabolism disorders", 10037594, "Metabolism and nutrition disorders",
         10027433, "02APR2021", "08APR2021", "No", "Moderate", "No", "No", "No", "No", "No", "No", "No",
         "Not related", "Recovered/Resolved", "Dose not changed"],
        ["002", 1, "Maculopapular rash trunk", "Maculopapular rash", 10025595, "Rash maculo-papular", 10037868,
         "Rashes, eruptions and exanthems NEC", 10052566, "Epidermal and dermal conditions", 10014982,
         "Skin and subcutaneous tissue disorders", 10040785, "05APR2021", "20APR2021", "No", "Moderate", "No",
         "No", "No", "No", "No", "No", "No", "Related", "Recovered/Resolved", "Dose not changed"],
        ["004", 1, "Gout attack left ankle", "Gout flare", 10083023, "Gout", 10018627, "Gout and related disorders",
         10018634, "Purine and pyrimidine metabolism disorders", 10037594, "Metabolism and nutrition disorders",
         10027433, "UNAPR2021", "26APR2021", "No", "Moderate", "No", "No", "No", "No", "No", "No", "No",
         "Not related", "Recovered/Resolved", "Dose not changed"],
        ["004", 2, "Diarrhoea", "Diarrhoea", 10012735, "Diarrhoea", 10012735, "Diarrhoea (excl infective)", 10012736,
         "Gastrointestinal motility and defaecation conditions", 10017977, "Gastrointestinal disorders", 10017947,
         "01JUL2021", "03JUL2021", "No", "Mild", "No", "No", "No", "No", "No", "No", "No", "Not related",
         "Recovered/Resolved", "Not applicable"],
        ["005", 1, "Raised ALT", "ALT increased", 10001551, "Alanine aminotransferase increased", 10001551,
         "Liver function analyses", 10024690, "Hepatobiliary investigations", 10019807, "Investigations", 10022891,
         "17MAY2021", "01JUN2021", "No", "Moderate", "No", "No", "No", "No", "No", "No", "No", "Possibly related",
         "Recovered/Resolved", "Drug withdrawn"],
        ["006", 1, "Common cold", "Common cold", 10010106, "Nasopharyngitis", 10028810,
         "Upper respiratory tract infections", 10046309, "Infections - pathogen unspecified", 10021879,
         "Infections and infestations", 10021881, "01APR2021", "05APR2021", "No", "Mild", "No", "No", "No", "No",
         "No", "No", "No", "Not related", "Recovered/Resolved", "Not applicable"],
    ],
    "EX": [
        ["Subject", "EXTRT", "EXSTDAT_RAW", "EXENDAT_RAW", "EXDOSE", "EXDOSFRQ"],
        ["001", "Fenobrixant 80 mg", "18MAR2021", "14APR2021", 80, "QD"],
        ["001", "Fenobrixant 80 mg", "15APR2021", "09JUN2021", 80, "QD"],
        ["002", "Allopurinol 300 mg", "22MAR2021", "18APR2021", 300, "QD"],
        ["002", "Allopurinol 300 mg", "19APR2021", "13JUN2021", 300, "QD"],
        ["003", "Fenobrixant 80 mg", "29MAR2021", "25APR2021", 80, "QD"],
        ["003", "Fenobrixant 80 mg", "26APR2021", "20JUN2021", 80, "QD"],
        ["004", "Allopurinol 300 mg", "05APR2021", "02MAY2021", 300, "QD"],
        ["004", "Allopurinol 300 mg", "03MAY2021", "27JUN2021", 300, "QD"],
        ["005", "Fenobrixant 80 mg", "12APR2021", "09MAY2021", 80, "QD"],
        ["005", "Fenobrixant 80 mg", "10MAY2021", "20MAY2021", 80, "QD"],
        ["006", "Allopurinol 300 mg", "14APR2021", "11MAY2021", 300, "QD"],
        ["006", "Allopurinol 300 mg", "12MAY2021", "06JUL2021", 300, "QD"],
    ],
    "DS": [
        ["Subject", "DSTERM", "DSDECOD", "DSSTDAT_RAW"],
        ["001", "Completed", "Completed", "23JUN2021"],
        ["002", "Completed", "Completed", "27JUN2021"],
        ["003", "Completed", "Completed", "04JUL2021"],
        ["004", "Completed", "Completed", "11JUL2021"],
        ["005", "Discontinued: ALT increased", "Adverse event", "03JUN2021"],
        ["006", "Completed", "Completed", "20JUL2021"],
    ],
}


def main() -> None:
    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in SHEETS.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    out = Path(__file__).resolve().parent / "fbx-gt-301" / "FBX-GT-301_export.xlsx"
    wb.save(out)
    print(out)


if __name__ == "__main__":
    main()

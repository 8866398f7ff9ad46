"""report.render: iss-summary.json, RTF, XLSX, HTML (rendered in headless Chromium),
figures and the lineage file, on the minimal study and the hand-built synthetic analysis.

Expected numbers are computed in the tests directly from the ADaM frames with pandas and
scipy; the RTF is checked by a small independent RTF reader written here (group structure,
control words, cells), the XLSX by reading it back with openpyxl.
"""
from __future__ import annotations

import json
import re
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from report import tables as T
from report.catalogue import build_tables
from report import render as R
from tests.test_tables import GROUPS, minimal_analysis, of_group, synthetic_analysis, to_first_event

CHROMIUM = Path("/usr/bin/chromium")
CREATED = datetime(2026, 3, 1, 12, 0, 0)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    return minimal_analysis(tmp_path_factory.mktemp("mini-adam"))


@pytest.fixture(scope="module")
def syn():
    return synthetic_analysis()


@pytest.fixture(scope="module")
def mini_report(mini, tmp_path_factory):
    out = tmp_path_factory.mktemp("mini-report")
    return out, R.write_report(mini, out)


@pytest.fixture(scope="module")
def syn_report(syn, tmp_path_factory):
    out = tmp_path_factory.mktemp("syn-report")
    return out, R.write_report(syn, out, created=CREATED)


@pytest.fixture(scope="module", params=["synthetic", "minimal"])
def case(request, syn, mini, syn_report, mini_report):
    return (syn, *syn_report) if request.param == "synthetic" else (mini, *mini_report)


TABLE_NAMES = ("demographics", "disposition", "exposure", "teae-overview", "teae-soc-pt", "teae-severity",
               "related-teae-soc-pt", "serious-teae-soc-pt", "discontinuation-teae-soc-pt", "aesi-pt", "aesi-eair", "listing-deaths",
               "listing-sae", "listing-ae-discontinuation")
EXPECTED_FILES = {"iss-report.html", "iss-summary.json", "figures/eair-forest.png", "figures/eair-forest.svg",
                  "lineage/table-cells.parquet", "results/ard.csv", "results/reporting-event.json"} | \
        {f"tables/{n}.{ext}" for n in TABLE_NAMES for ext in ("rtf", "xlsx")}


def test_write_report_writes_every_output(case):
    _, out, files = case
    assert set(files) == EXPECTED_FILES
    for name, path in files.items():
        assert path == out / name and path.is_file() and path.stat().st_size > 0


# --------------------------------------------------------------------------------------
# iss-summary.json
# --------------------------------------------------------------------------------------
def load_summary(out: Path) -> dict:
    return json.loads((out / "iss-summary.json").read_text(encoding="utf-8"))


def test_summary_has_the_required_shape(case):
    analysis, out, _ = case
    s = load_summary(out)
    assert isinstance(s["participants"], int)
    assert isinstance(s["patient_years"]["all_cream"], float)
    labels = [g["label"] for g in analysis.iss.data["groups"]]
    assert list(s["patient_years"]["by_group"]) == labels
    assert all(isinstance(v, float) for v in s["patient_years"]["by_group"].values())
    names = [e["name"] for e in analysis.iss.events]
    assert [(e["event"], e["group"]) for e in s["events"]] == [(n, g) for n in names for g in labels]
    for e in s["events"]:
        assert isinstance(e["subjects"], int) and isinstance(e["events"], int)
        assert isinstance(e["patient_years_at_risk"], float)
        for key in ("eair_per_100py", "ci_lower", "ci_upper"):
            assert e[key] is None or isinstance(e[key], float)
        assert isinstance(e["ci_method"], str) and e["ci_method"]


def test_summary_values_equal_direct_computations(case):
    analysis, out, _ = case
    s = load_summary(out)
    data = analysis.datasets
    adsl, adex, tte, adae = data["ADSL"], data["ADEX"], data["ADAETTE"], data["ADAE"]
    assert s["participants"] == adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"].nunique()
    assert s["studies"] == adsl.loc[adsl["SAFFL"] == "Y", "STUDYID"].nunique()
    years = adex[adex["PARAMCD"] == "TRTDURY"]
    pooled = [g for g in analysis.iss.data["groups"] if g.get("pools")]
    assert s["all_cream_group"]["label"] == pooled[0]["label"]
    all_cream = of_group(years, pooled[0]["label"])["AVAL"].sum()   # the pooled group: TRTAG1
    assert s["patient_years"]["all_cream"] == pytest.approx(all_cream)
    for label, py in s["patient_years"]["by_group"].items():
        assert py == pytest.approx(of_group(years, label)["AVAL"].sum())
    members = {g["label"]: g.get("pools") or [g["label"]] for g in analysis.iss.data["groups"]}
    events = {e["name"]: e for e in analysis.iss.events}
    teae = adae[(adae["TRTEMFL"] == "Y") & adae["USUBJID"].isin(adsl.loc[adsl["SAFFL"] == "Y", "USUBJID"])]
    for e in s["events"]:
        event = events[e["event"]]
        part = to_first_event(of_group(tte[tte["PARAMCD"] == event["paramcd"]], e["group"]))
        n, years_at_risk = int((part["CNSR"] == 0).sum()), float(part["AVAL"].sum())
        assert e["subjects"] == n and e["patient_years_at_risk"] == pytest.approx(years_at_risk)
        records = teae[teae["TRTA"].isin(members[e["group"]])]
        if event.get("serious"):
            records = records[records["AESER"] == "Y"]
        if "cq" in event:
            records = records[records[f"CQ{event['cq']:02d}NAM"] == event["name"]]
        assert e["events"] == len(records), (e["event"], e["group"])
        if years_at_risk == 0:
            assert e["eair_per_100py"] is None and e["ci_lower"] is None and e["ci_upper"] is None
            continue
        assert e["eair_per_100py"] == pytest.approx(100 * n / years_at_risk)
        assert e["ci_lower"] == pytest.approx(100 * stats.gamma.ppf(0.025, n) / years_at_risk if n else 0.0)
        assert e["ci_upper"] == pytest.approx(100 * stats.gamma.ppf(0.975, n + 1) / years_at_risk)


def test_summary_lists_zero_subject_groups_and_comparisons(syn_report):
    out, _ = syn_report
    s = load_summary(out)
    mid = [e for e in s["events"] if e["group"] == "Mid"]
    assert len(mid) == 4 and all(e["subjects"] == 0 and e["patient_years_at_risk"] == 0.0 for e in mid)
    assert [g["participants"] for g in s["groups"]] == [2, 0, 5, 3, 7]
    assert s["patient_years"]["by_group"]["Mid"] == 0.0
    mh = [c for c in s["comparisons"] if c["method"].startswith("Mantel-Haenszel") and
          c["comparison"] == "rate difference" and c["event"] == "Any TEAE"]
    assert [c["treatment"] for c in mh] == ["Low", "High", "All active"]   # Mid has no subjects
    assert s["created"] == CREATED.isoformat()
    assert s["overview"]["deaths"]["subjects"] == {"Low": 0, "Mid": 0, "High": 1, "Placebo": 1, "All active": 1}


def test_summary_all_cream_without_a_pooled_group_is_the_sum_of_active_groups(tmp_path):
    from tests.test_tables import SYN_CONFIG, make_analysis

    base = synthetic_analysis()
    config = {**SYN_CONFIG, "groups": [g for g in SYN_CONFIG["groups"] if not g.get("pools")]}
    data = {k: v.drop(columns=[c for c in v if c.startswith("TRTAG")]) for k, v in base.datasets.items()}
    analysis = make_analysis(config, data["ADSL"], data["ADAE"], data["ADEX"], data["ADAETTE"])
    s = R.iss_summary(analysis)
    assert s["all_cream_group"] == {**s["all_cream_group"], "label": "Low + Mid + High", "in_config": False}
    by = s["patient_years"]["by_group"]
    assert s["patient_years"]["all_cream"] == pytest.approx(by["Low"] + by["Mid"] + by["High"])


def test_summary_is_strict_json(case):
    _, out, _ = case
    text = (out / "iss-summary.json").read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    json.loads(text, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))


# --------------------------------------------------------------------------------------
# RTF: an independent reader
# --------------------------------------------------------------------------------------
TOKEN = re.compile(r"\\([{}\\])|\\u(-?\d+)\*?|\\([a-zA-Z]+)(-?\d+)? ?|([{}])|([^\\{}\r\n]+)|[\r\n]")


def rtf_check_groups(text: str) -> None:
    """The document is one group opened by {\\rtf1; braces balance (escaped ones aside)."""
    assert text.startswith("{\\rtf1")
    depth, i = 0, 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            assert depth >= 0, f"unbalanced '}}' at {i}"
            if depth == 0:
                assert text[i + 1:].strip() == "", "content after the document group"
        i += 1
    assert depth == 0


def rtf_read(text: str) -> tuple[str, list[str]]:
    """(plain text, table cells in order): \\pard starts and \\cell ends a cell's text,
    \\line is a line break, \\uN a Unicode character, other control words are formatting."""
    plain, cells, current = [], [], []
    for esc, uni, word, _, brace, chars in TOKEN.findall(text):
        piece = ""
        if esc:
            piece = esc
        elif uni:
            piece = chr(int(uni) % 65536)
        elif word == "cell":
            cells.append("".join(current).strip())
            current = []
            plain.append("\n")
            continue
        elif word in ("pard", "row"):
            current = []
        elif word in ("line", "par"):
            piece = "\n"
        elif chars:
            piece = chars
        current.append(piece)
        plain.append(piece)
    return "".join(plain), cells


def assert_rows_in_order(cells: list[str], rows: list[list[str]]) -> None:
    pos = 0
    for row in rows:
        for start in range(pos, len(cells) - len(row) + 1):
            if cells[start:start + len(row)] == row:
                pos = start + len(row)
                break
        else:
            pytest.fail(f"row {row} not found in the RTF cells after position {pos}")


def test_rtf_parses_and_holds_titles_headers_cells_and_footnotes(case):
    analysis, out, _ = case
    for table in build_tables(analysis).values():
        raw = (out / "tables" / f"{table.name}.rtf").read_bytes()
        text = raw.decode("ascii")
        rtf_check_groups(text)
        assert "\\landscape" in text and "\\chpgn" in text            # landscape pages numbered
        plain, cells = rtf_read(text)
        cells = [c.replace("\u2007", "") for c in cells]  # decimal-alignment padding (report.rtf_pages)
        for title in (analysis.iss.get("title"), table.caption, table.population):
            assert title in plain
        header = [table.stub_header] + [c.header for c in table.columns]
        assert_rows_in_order(cells, [header])
        grid = table.grid()
        keys = [c.key for c in table.columns]
        assert_rows_in_order(cells, [[label, *texts] for label, texts in
                                     zip(grid["row_label"], grid[keys].to_numpy().tolist())])
        for note in table.footnotes:
            assert note in plain


def test_rtf_escapes_braces_and_backslashes(syn):
    table = T.overview_table(syn)
    table.rows.loc[0, "row_label"] = "Any {TEAE} \\ all"
    text = R.render_rtf(table, syn.iss).decode("ascii")
    rtf_check_groups(text)
    assert "Any {TEAE} \\ all" in rtf_read(text)[1]
    assert R.rtf_escape("a{b}\\c\nd") == "a\\{b\\}\\\\c\\line d"


# --------------------------------------------------------------------------------------
# XLSX
# --------------------------------------------------------------------------------------
def test_xlsx_opens_and_matches_the_table(case):
    from openpyxl import load_workbook

    analysis, out, _ = case
    for table in build_tables(analysis).values():
        wb = load_workbook(out / "tables" / f"{table.name}.xlsx")
        ws = wb[f"{table.kind} {table.number}"]
        values = [[c.value for c in row] for row in ws.iter_rows()]
        assert values[1][0] == table.caption and values[2][0] == table.population
        header_at = next(i for i, row in enumerate(values) if row[0] == table.stub_header)
        assert values[header_at][1:len(table.columns) + 1] == [c.header for c in table.columns]
        grid = table.grid()
        keys = [c.key for c in table.columns]
        for offset, (label, texts) in enumerate(zip(grid["row_label"], grid[keys].to_numpy().tolist()), start=1):
            row = values[header_at + offset]
            assert row[0] == label
            assert [v if v is not None else "" for v in row[1:len(keys) + 1]] == texts
        column_a = [row[0] for row in values]
        for note in table.footnotes:
            assert note in column_a
        sheet = wb["cells"]
        rows = list(sheet.iter_rows(values_only=True))
        assert list(rows[0]) == T.CELL_COLUMNS and len(rows) == len(table.cells) + 1
        got = pd.DataFrame(rows[1:], columns=rows[0])
        assert got["text"].fillna("").tolist() == table.cells["text"].tolist()  # "" is an empty cell
        np.testing.assert_allclose(got["value"].astype(float), table.cells["value"].astype(float))


def test_xlsx_formula_like_text_stays_text(syn_report):
    from openpyxl import load_workbook

    out, _ = syn_report
    path = out / "tables" / "teae-soc-pt.xlsx"
    ws = load_workbook(path)["Table 5"]
    hits = [c for row in ws.iter_rows() for c in row if c.value == "=1+1"]
    assert hits and all(c.data_type == "s" for c in hits)
    with zipfile.ZipFile(path) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet1.xml").decode("utf-8")


# --------------------------------------------------------------------------------------
# figure, lineage, reproducibility
# --------------------------------------------------------------------------------------
def test_figures_are_valid_png_and_svg(case):
    _, out, _ = case
    png = (out / "figures" / "eair-forest.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    pixels = matplotlib.image.imread(out / "figures" / "eair-forest.png")
    assert pixels.shape[1] == 1500 and pixels.std() > 0.05                    # 10 in at 150 dpi, not blank
    root = ElementTree.parse(out / "figures" / "eair-forest.svg").getroot()
    assert root.tag.endswith("svg")
    svg = (out / "figures" / "eair-forest.svg").read_text(encoding="utf-8")
    assert "<dc:date>" not in svg


def test_forest_plot_shows_the_aesis(syn):
    rates = T.event_rates(syn)
    rows = R.forest_rows(rates, syn.iss)
    assert rows["event"].unique().tolist() == ["Infections", "Malignancies"]
    assert len(rows) == 2 * len(GROUPS)


def test_lineage_file_is_the_tables_lineage(case):
    analysis, out, _ = case
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = out / "lineage" / "table-cells.parquet"
    assert pq.read_schema(path).field("AESEQ").type == pa.int64()
    got = pd.read_parquet(path).astype({"AESEQ": "Int64"})
    assert list(got.columns) == T.LINEAGE_COLUMNS
    expected = T.lineage_frame(build_tables(analysis))
    got = got.astype({c: "str" for c in T.LINEAGE_COLUMNS if c != "AESEQ"})
    pd.testing.assert_frame_equal(got, expected)
    assert set(got["table"]) == {name for name, t in build_tables(analysis).items() if len(t.rows) or
                                 t.kind == "Table"}  # an empty listing has no cells to trace
    tables = got["table"].map({name: i for i, name in enumerate(build_tables(analysis))})
    assert tables.is_monotonic_increasing  # in report order


def test_lineage_keeps_every_tables_records_in_table_row_column_order(syn):
    tables = build_tables(syn)
    lin = T.lineage_frame(tables)
    for name, table in tables.items():
        part = lin[lin["table"] == name]
        assert len(part) == len(table.lineage), name
        rows = part["row_id"].map({r: i for i, r in enumerate(table.rows["row_id"])}).fillna(-1)  # header first
        cols = part["column"].map({c.key: i for i, c in enumerate(table.columns)}).fillna(-1)
        key = rows * 1000 + cols
        assert key.is_monotonic_increasing, name
        within = part[(part["row_id"] == part["row_id"].iloc[0]) & (part["column"] == part["column"].iloc[0])]
        subjects = within[["dataset", "STUDYID", "USUBJID"]].astype(str).agg("|".join, axis=1).tolist()
        assert subjects == sorted(subjects), name


def test_same_input_same_bytes(syn, syn_report, tmp_path):
    out, files = syn_report
    again = R.write_report(syn, tmp_path / "again", created=CREATED)
    for name, path in files.items():
        assert again[name].read_bytes() == path.read_bytes(), name


def test_created_defaults_to_the_config_timestamp(mini_report):
    out, _ = mini_report
    assert load_summary(out)["created"] == "2026-01-15T09:00:00"
    assert "2026-01-15T09:00:00" in (out / "iss-report.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------------------
# HTML
# --------------------------------------------------------------------------------------
def test_html_is_self_contained_and_holds_every_table(case):
    analysis, out, _ = case
    html = (out / "iss-report.html").read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    lowered = html.lower()
    for forbidden in ("<script", "<link", "<img src=\"http", "src=\"http", "href=\"http", "@import", "url(http",
                      "<iframe"):
        assert forbidden not in lowered, forbidden
    import html as h

    for table in build_tables(analysis).values():
        assert f'data-table="{table.name}"' in html
        assert h.escape(table.caption) in html
        for text in table.cells["text"]:
            assert f">{h.escape(text)}</td>" in html
    assert "<svg" in html and "<figure>" in html


def _chromium(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    profile = tmp_path / "profile"
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180, check=True)


#: Run in the page after it is laid out (a copy of the report with this before </body>): the
#: boxes (x, y, width, height in CSS pixels of the page) of every ISS table and of the figure.
BOX_SCRIPT = """<script>
(() => {
  const box = e => { const r = e.getBoundingClientRect(); return [r.left + scrollX, r.top + scrollY, r.width, r.height]; };
  const out = {tables: {}, figure: null, height: document.documentElement.scrollHeight};
  document.querySelectorAll('table[data-table]').forEach(t => { out.tables[t.dataset.table] = box(t); });
  const svg = document.querySelector('figure svg');
  out.figure = svg ? box(svg) : null;
  document.body.setAttribute('data-boxes', JSON.stringify(out));
})();
</script>"""


def _region(pixels: np.ndarray, box: list[float]) -> np.ndarray:
    x, y, w, h = (int(round(v)) for v in box)
    return pixels[y:y + h, x:x + w, :3]


def _text_ink(region: np.ndarray) -> float:
    """Share of the region's pixel rows that hold text: a row with dark pixels (glyph strokes) in
    more than one place; table rules and shading alone do not count."""
    dark = region.mean(axis=2) < 0.5
    return float((dark.sum(axis=1) > 3).mean())


@pytest.mark.browser
@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium (/usr/bin/chromium) is not installed")
def test_html_report_renders_in_headless_chromium(syn, syn_report, tmp_path):
    """Chromium lays out every table and the figure (DOM boxes of real size), and the screenshot
    shows them: each table's region holds dark text on the page's white, the figure's region
    holds the plot's marks in several colours."""
    import html
    import json

    import matplotlib.image

    out, _ = syn_report
    page = (out / "iss-report.html").read_text(encoding="utf-8")
    probed = tmp_path / "iss-report.html"
    probed.write_text(page.replace("</body>", BOX_SCRIPT + "\n</body>"), encoding="utf-8")
    url = probed.resolve().as_uri()
    dom = _chromium(["--window-size=1400,3000", "--dump-dom", url], tmp_path).stdout
    for table in build_tables(syn).values():
        assert f'data-table="{table.name}"' in dom
    assert re.search(r"<figure><svg[^>]*>.*?<path", dom, flags=re.S), "the figure is not in the rendered DOM"
    boxes = json.loads(html.unescape(re.search(r'data-boxes="([^"]*)"', dom).group(1)))
    assert set(boxes["tables"]) == {t.name for t in build_tables(syn).values()}
    for name, (_, _, width, height) in boxes["tables"].items():
        assert width > 400 and height > 40, (name, width, height)              # laid out, not collapsed
    assert boxes["figure"] is not None and boxes["figure"][2] > 300 and boxes["figure"][3] > 150
    height = int(boxes["height"])
    shot = tmp_path / "report.png"
    _chromium([f"--screenshot={shot}", f"--window-size=1400,{height}", "--hide-scrollbars", url], tmp_path)
    pixels = matplotlib.image.imread(shot)
    assert pixels.shape[:2] == (height, 1400)
    for name, box in boxes["tables"].items():
        assert _text_ink(_region(pixels, box)) > 0.3, f"table {name} is not visible in the screenshot"
    figure = _region(pixels, boxes["figure"])
    drawn = (figure.min(axis=2) < 0.9).mean()                                  # anything not near white
    colours = np.unique((figure * 255).astype(np.uint8).reshape(-1, 3), axis=0)
    assert drawn > 0.02 and len(colours) > 20, "the figure is not visible in the screenshot"


# --------------------------------------------------------------------------------------
# the demo integration (DESIGN.md: "767 participants and 509.62 patient-years of exposure
# to the cream, no MACE, thromboembolic events, malignancies or deaths, and two serious
# infections, both on the 1.5% cream")
# --------------------------------------------------------------------------------------
@pytest.mark.slow
def test_demo_report_carries_the_published_headline_numbers(demo_package):
    s = load_summary(demo_package / "report")
    assert s["participants"] == 767
    assert round(s["patient_years"]["all_cream"], 2) == 509.62
    by_event: dict[str, dict[str, int]] = {}
    for e in s["events"]:
        by_event.setdefault(e["event"], {})[e["group"]] = e["subjects"]
    cream = s["all_cream_group"]["label"]
    for name in ("Major adverse cardiovascular events", "Thromboembolic events", "Malignancies", "Deaths"):
        assert set(by_event[name].values()) == {0}, name
    infections = by_event["Serious infections"]
    assert infections[cream] == 2 and infections["Cream 1.5%"] == 2
    assert sum(v for g, v in infections.items() if g != cream) == 2
    assert all(v == 0 for v in s["overview"]["deaths"]["subjects"].values())

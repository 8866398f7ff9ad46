"""Cross-check a define.xml against the datasets it describes (any Define-XML 2.x define).

:func:`cross_check` takes the define (path, bytes, lxml tree) and the data as DataFrames,
optionally with what the dataset files store (labels, lengths, types: an ``XptMetadata``
from :func:`fileformats.xpt.read_xpt`, or a dict of the same shape) and the folder the
define's ``def:leaf`` hrefs are relative to. Rules (ids in :data:`specs.findings.RULES`),
in the order they run (Define-XML 2.1 section 5; FDA sdTCG; the P21/CORE families of
standards reference section 6.11):

1. datasets: every described dataset has data unless ``def:HasNoData="Yes"`` (DD0101),
   every dataset is described (DD0102), HasNoData agrees with the data (DD0116, DD0117),
   the file's dataset label equals the Description (DD0110);
2. variables: present in both (DD0103, DD0104), in OrderNumber order (DD0105);
3. per variable, and per value-level slice (rows where its where clause holds): type
   (DD0106: integers without fractions, ISO 8601 values of a kind their DataType holds), Length not shorter than the longest value
   (DD0107; SignificantDigits too) and for text equal to it (DD0108, warning), Length
   equal to the file's stored length for text (DD0109), label (DD0111), values in an
   enumerated codelist (DD0112), no nulls where Mandatory="Yes" (DD0115), HasNoData
   agrees (DD0116, DD0117);
4. KeySequence variables identify records uniquely (DD0113);
5. every ``def:leaf`` file exists (DD0114) when ``folder`` is given.

Codelist membership: a value absent from the define's codelist is an error whatever the
list's extensibility — for an extensible CDISC list the define must carry the extended
value (``def:ExtendedValue="Yes"``), so a missing value means define and data disagree.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import pandas as pd
from lxml import etree

from define import _xml as X
from define._doc import DefineDoc, read_define
from define.facts import coded_text, facts, is_numeric_column, missing, range_mask
from specs import findings
from specs.columns import is_in
from specs.iso8601 import DTC_DATATYPES, dtc_outside_datatype

NUMERIC = frozenset({"integer", "float"})


def _get(entry: Any, key: str, default: Any = None) -> Any:
    if isinstance(entry, Mapping):
        return entry.get(key, default)
    return getattr(entry, key, default)


def _file_variables(meta: Any) -> dict[str, Any]:
    if meta is None:
        return {}
    return {str(_get(v, "name")).upper(): v for v in (_get(meta, "variables") or [])}


def cross_check(
    define: str | os.PathLike | bytes | etree._ElementTree | DefineDoc,
    datasets: Mapping[str, pd.DataFrame],
    *,
    folder: str | os.PathLike | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Findings where define.xml and the datasets disagree (see the module docstring).

    ``metadata`` maps dataset names to what the files store: objects or dicts with
    ``label`` and ``variables`` (each with ``name``, ``label``, ``length`` and ``type``
    ``"numeric"``/``"character"``), as ``read_xpt`` returns them.
    """
    doc = read_define(define)
    frames = {str(k).upper(): v for k, v in datasets.items()}
    metas = {str(k).upper(): v for k, v in (metadata or {}).items()}
    groups = doc.group_by_name()
    out = []
    for name, group in groups.items():
        out.append(_dataset(doc, name, group, frames.get(name), metas.get(name)))
    for name in frames:
        if name not in groups:
            out.append(findings.make("DD0102", name, None, message=f"{name} is not described in define.xml",
                                     file=doc.file))
    if folder is not None:
        out.append(check_leaves(doc, folder))
    return findings.concat(out)


def _dataset(doc: DefineDoc, name: str, group, df: pd.DataFrame | None, meta: Any) -> pd.DataFrame | None:
    no_data = doc.attr(group, "def:HasNoData") == "Yes"
    if df is None:
        if no_data:
            return None
        return findings.make("DD0101", name, None, message=f"{name} is described in define.xml but there "
                                                           "are no data", file=doc.file)
    df = df.reset_index(drop=True)
    out = []
    if no_data and len(df):
        out.append(findings.make("DD0116", name, None, message=f"{name} has def:HasNoData=\"Yes\" but "
                                                               f"{len(df)} records", file=doc.file))
    if not no_data and not len(df) and doc.ns == X.DEF:
        out.append(findings.make("DD0117", name, None, message=f"{name} has no records but def:HasNoData "
                                                               "is not set", file=doc.file))
    label = _get(meta, "label") if meta is not None else None
    if label is not None and label != (doc.description(group) or ""):
        out.append(findings.make("DD0110", name, None, values=[label], file=doc.file,
                                 message=f"dataset label {label!r} differs from define.xml "
                                         f"{doc.description(group)!r}"))
    refs = _ordered_refs(group)
    items = [(ref, doc.items.get(ref.get("ItemOID") or "")) for ref in refs]
    items = [(ref, item) for ref, item in items if item is not None]
    out.append(_presence_and_order(doc, name, [item.get("Name") for _, item in items], df))
    file_vars = _file_variables(meta)
    for ref, item in items:
        var = item.get("Name")
        if var not in df.columns:
            continue
        out.append(_variable(doc, name, item, ref, df[var], None, file_vars.get(var.upper()), len(df)))
        out.append(_value_level(doc, name, item, df))
    out.append(_keys(doc, name, items, df))
    return findings.gather(out)


def _ordered_refs(parent) -> list:
    refs = parent.findall(X.odm("ItemRef"))
    if refs and all(r.get("OrderNumber") for r in refs):
        return sorted(refs, key=lambda r: int(r.get("OrderNumber")))
    return refs


def _presence_and_order(doc: DefineDoc, ds: str, described: list[str], df: pd.DataFrame) -> pd.DataFrame | None:
    out = []
    columns = [str(c) for c in df.columns]
    for var in described:
        if var not in columns:
            out.append(findings.make("DD0104", ds, var, message=f"{ds}.{var} is in define.xml but not in "
                                                                "the data", file=doc.file))
    for var in columns:
        if var not in described:
            out.append(findings.make("DD0103", ds, var, message=f"{ds}.{var} is in the data but not in "
                                                                "define.xml", file=doc.file))
    in_define = [v for v in described if v in columns]
    in_data = [v for v in columns if v in described]
    if in_define != in_data:
        i = next(k for k, (a, b) in enumerate(zip(in_define, in_data)) if a != b)
        out.append(findings.make("DD0105", ds, in_data[i], file=doc.file,
                                 message=f"position {i + 1} of {ds} holds {in_data[i]}; define.xml "
                                         f"(OrderNumber) puts {in_define[i]} there"))
    return findings.gather(out)


def _rows(rule: str, ds: str, var: str, mask: np.ndarray, series: pd.Series, message, file) -> pd.DataFrame | None:
    """One finding per masked row; rows are 1-based positions in the dataset (the index)."""
    if not mask.any():
        return None
    return findings.make(rule, ds, var, rows=_positions(series, mask) + 1, values=series[mask].astype(object),
                         message=message, file=file)


def _variable(doc: DefineDoc, ds: str, item, ref, series: pd.Series, where: str | None, file_var: Any,
              n_rows: int, var: str | None = None) -> pd.DataFrame | None:
    """Checks of one ItemDef against its column (``series`` may be a value-level slice of ``var``)."""
    var = var or item.get("Name")
    what = f"{ds}.{var}" + (f" where {where}" if where else "")
    data_type = item.get("DataType") or "text"
    file = doc.file
    miss = missing(series)  # once per column: the checks below all need it
    out = [_type(doc, ds, var, what, data_type, series, miss)]
    if out[0] is None:
        out.append(_length(doc, ds, var, what, item, series, miss))
    if file_var is not None and where is None:
        out.append(_file_attributes(doc, ds, var, item, file_var))
    if ref.get("Mandatory") == "Yes" and miss.any():
        out.append(_rows("DD0115", ds, var, miss, series, f"{what} is Mandatory=\"Yes\" but null", file))
    has_data = bool((~miss).any())
    flagged = doc.attr(ref, "def:HasNoData") == "Yes"
    if flagged and has_data:
        out.append(findings.make("DD0116", ds, var, file=file,
                                 message=f"{what} has def:HasNoData=\"Yes\" but holds values"))
    elif not flagged and not has_data and n_rows and doc.ns == X.DEF:  # HasNoData is new in 2.1
        out.append(findings.make("DD0117", ds, var, file=file,
                                 message=f"{what} has no values but def:HasNoData is not set"))
    out.append(_codelist(doc, ds, var, what, item, series, miss))
    return findings.gather(out)


def _positions(series: pd.Series, mask: np.ndarray) -> np.ndarray:
    """0-based row positions in the dataset of the masked values (the frame's index is a RangeIndex)."""
    return np.asarray(series.index.to_numpy()[mask], dtype="int64")


def _type(doc: DefineDoc, ds: str, var: str, what: str, data_type: str, series: pd.Series,
          miss: np.ndarray) -> pd.DataFrame | None:
    """Numeric DataTypes need numbers (integers without fractions); text needs character data."""
    if miss.all():
        return None
    if data_type not in NUMERIC:
        if is_numeric_column(series):
            return findings.make("DD0106", ds, var, file=doc.file, message=f"{what} is {data_type} (character) "
                                                                           "in define.xml but the data are numeric")
        if data_type in DTC_DATATYPES:
            return _iso_type(doc, ds, var, what, data_type, series, miss)
        return None
    if pd.api.types.is_datetime64_any_dtype(series) or pd.api.types.is_timedelta64_dtype(series):
        return None          # SAS dates/times: whole days or seconds
    if is_numeric_column(series):
        numbers = series.astype("float64")
    else:
        numbers = pd.to_numeric(series.astype("string").str.strip().where(~miss), errors="coerce")
        bad = numbers.isna().to_numpy() & ~miss
        if bad.any():
            return _rows("DD0106", ds, var, bad, series, f"{what} is {data_type} in define.xml; the value is "
                                                         "not a number", doc.file)
    if data_type != "integer":
        return None
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    fraction = np.isfinite(values) & (values != np.round(values))
    return _rows("DD0106", ds, var, fraction, series, f"{what} is integer in define.xml; the value has a "
                                                      "fractional part", doc.file)


#: What a value of each ISO 8601 DataType is, for DD0106 messages.
ISO_VALUE_KINDS = {
    "date": "a complete date", "datetime": "a complete date and time", "partialDate": "a right-truncated date",
    "partialDatetime": "a date with a time, right-truncated", "incompleteDatetime": "a date/time with a missing "
    "component", "intervalDatetime": "an interval",
}


def _iso_type(doc: DefineDoc, ds: str, var: str, what: str, data_type: str, series: pd.Series,
              miss: np.ndarray) -> pd.DataFrame | None:
    """ISO 8601 DataTypes (Define-XML 2.1 section 4.3.1): every value must be one the declared
    type holds (:data:`specs.iso8601.DTC_DATATYPES`) — a time in a ``partialDate`` column, or a
    truncated date in a ``date`` column, is a DataType the define does not state."""
    outside = dtc_outside_datatype(series.where(~miss), data_type)
    out = []
    for kind in sorted(outside.dropna().unique()):
        mask = (outside == kind).fillna(False).to_numpy(dtype=bool)
        why = ("not an ISO 8601 date/time" if kind == "invalid"
               else f"{ISO_VALUE_KINDS[kind]} ({kind}), which {data_type} does not hold")
        out.append(_rows("DD0106", ds, var, mask, series, f"{what} is {data_type} in define.xml; the value is {why}",
                         doc.file))
    return findings.gather(out)


def _length(doc: DefineDoc, ds: str, var: str, what: str, item, series: pd.Series,
            miss: np.ndarray) -> pd.DataFrame | None:
    data_type = item.get("DataType")
    length = item.get("Length")
    if length is None or data_type not in ("text", "integer", "float"):
        return None
    observed = facts(series, data_type, doc.attr(item, "def:DisplayFormat"), miss=miss)
    if not observed.has_data:
        return None
    out = []
    length = int(length)
    if observed.length > length:
        out.append(findings.make("DD0107", ds, var, values=[observed.length], file=doc.file,
                                 message=f"{what}: define.xml Length {length} is shorter than the longest value "
                                         f"({observed.length}{' bytes' if data_type == 'text' else ' digits'})"))
    elif data_type == "text" and observed.length < length:
        out.append(findings.make("DD0108", ds, var, values=[observed.length], file=doc.file,
                                 message=f"{what}: define.xml Length {length} is longer than the longest value "
                                         f"({observed.length} bytes); FDA expects them equal"))
    digits = item.get("SignificantDigits")
    if data_type == "float" and digits is not None and observed.significant_digits > int(digits):
        out.append(findings.make("DD0107", ds, var, values=[observed.significant_digits], file=doc.file,
                                 message=f"{what}: define.xml SignificantDigits {digits} is fewer than the data "
                                         f"need ({observed.significant_digits})"))
    return findings.gather(out)


def _file_attributes(doc: DefineDoc, ds: str, var: str, item, file_var: Any) -> pd.DataFrame | None:
    out = []
    label = _get(file_var, "label")
    described = doc.description(item)
    if label is not None and described is not None and label != described:
        out.append(findings.make("DD0111", ds, var, values=[label], file=doc.file,
                                 message=f"{ds}.{var}: label {label!r} in the data file differs from define.xml "
                                         f"{described!r}"))
    kind = str(_get(file_var, "type") or "")
    length = _get(file_var, "length")
    if kind.startswith("char") and item.get("DataType") in NUMERIC:
        out.append(findings.make("DD0106", ds, var, file=doc.file,
                                 message=f"{ds}.{var} is character in the data file but {item.get('DataType')} "
                                         "in define.xml"))
    elif kind.startswith("num") and item.get("DataType") not in NUMERIC:
        out.append(findings.make("DD0106", ds, var, file=doc.file,
                                 message=f"{ds}.{var} is numeric in the data file but {item.get('DataType')} "
                                         "in define.xml"))
    elif kind.startswith("char") and length is not None and item.get("Length") is not None \
            and int(length) != int(item.get("Length")):
        out.append(findings.make("DD0109", ds, var, values=[int(length)], file=doc.file,
                                 message=f"{ds}.{var}: the data file stores length {int(length)}, define.xml says "
                                         f"Length {item.get('Length')}"))
    return findings.gather(out)


def _codelist(doc: DefineDoc, ds: str, var: str, what: str, item, series: pd.Series,
              miss: np.ndarray) -> pd.DataFrame | None:
    ref = item.find(X.odm("CodeListRef"))
    if ref is None:
        return None
    cl = doc.codelists.get(ref.get("CodeListOID") or "")
    if cl is None or cl.find(X.odm("ExternalCodeList")) is not None:
        return None
    allowed = [t.get("CodedValue") for t in cl if t.tag in (X.odm("EnumeratedItem"), X.odm("CodeListItem"))]
    numeric_list, numeric_data = cl.get("DataType") in NUMERIC, is_numeric_column(series)
    if numeric_data:                 # numbers compare as their coded text (1.0 -> "1")
        values = coded_text(series)
    elif numeric_list:               # text against a numeric list: both sides as numbers' text
        values = coded_text(pd.to_numeric(series, errors="coerce"))
        allowed = coded_text(pd.to_numeric(pd.Series(allowed, dtype=object), errors="coerce")).dropna().tolist()
    else:
        values = series
    outside = ~is_in(values, allowed) & ~miss
    return _rows("DD0112", ds, var, outside, series, f"{what}: value is not in codelist {cl.get('OID')} "
                                                     f"({cl.get('Name')})", doc.file)


def _where_mask(doc: DefineDoc, wc, df: pd.DataFrame) -> np.ndarray | None:
    """Rows where every RangeCheck of a WhereClauseDef holds; None if it tests another dataset."""
    mask = np.ones(len(df), dtype=bool)
    for rc in wc.findall(X.odm("RangeCheck")):
        target = doc.items.get(doc.attr(rc, "def:ItemOID") or "")
        column = None if target is None else target.get("Name")
        if column not in df.columns:
            return None
        values = [(cv.text or "") for cv in rc.findall(X.odm("CheckValue"))]
        mask &= range_mask(df[column], rc.get("Comparator") or "EQ", values)
    return mask


def _value_level(doc: DefineDoc, ds: str, item, df: pd.DataFrame) -> pd.DataFrame | None:
    vl_ref = item.find(doc.d("ValueListRef"))
    if vl_ref is None:
        return None
    vl = doc.value_lists.get(vl_ref.get("ValueListOID") or "")
    if vl is None:
        return None
    out = []
    column = df[item.get("Name")]
    for ref in _ordered_refs(vl):
        vitem = doc.items.get(ref.get("ItemOID") or "")
        if vitem is None:
            continue
        mask = np.zeros(len(df), dtype=bool)
        labels = []
        for wref in ref.findall(doc.d("WhereClauseRef")):
            wc = doc.where_clauses.get(wref.get("WhereClauseOID") or "")
            clause = None if wc is None else _where_mask(doc, wc, df)
            if clause is None:
                break
            mask |= clause
            labels.append(wref.get("WhereClauseOID"))
        else:
            subset = column[mask]
            out.append(_variable(doc, ds, vitem, ref, subset, " or ".join(labels), None, len(subset),
                                 var=item.get("Name")))
    return findings.gather(out)


def _keys(doc: DefineDoc, ds: str, items: list, df: pd.DataFrame) -> pd.DataFrame | None:
    keyed = sorted(((int(ref.get("KeySequence")), item.get("Name")) for ref, item in items
                    if ref.get("KeySequence")), key=lambda p: p[0])
    keys = [name for _, name in keyed]
    if not keys or any(k not in df.columns for k in keys) or not len(df):
        return None
    dup = df.duplicated(subset=keys, keep="first").to_numpy()
    if not dup.any():
        return None
    idx = np.flatnonzero(dup)
    shown = df[keys[0]].iloc[idx].astype("string").fillna("")
    for k in keys[1:]:
        shown = shown + " | " + df[k].iloc[idx].astype("string").fillna("")
    return findings.make("DD0113", ds, ", ".join(keys), rows=idx + 1, values=shown, file=doc.file,
                         message=f"{ds}: duplicate key ({', '.join(keys)}) — KeySequence variables must "
                                 "identify records uniquely")


def check_leaves(doc: DefineDoc | str | os.PathLike, folder: str | os.PathLike) -> pd.DataFrame:
    """DD0114 for every ``def:leaf`` whose relative ``xlink:href`` names no file in ``folder``."""
    doc = read_define(doc)
    base = Path(folder)
    out = []
    for leaf_id, leaf in doc.leaves.items():
        href = doc.attr(leaf, "xlink:href") or ""
        if "://" in href or href.startswith("#"):
            continue
        target = base / href.split("#", 1)[0]
        if not target.is_file():
            parent = leaf.getparent()
            ds = parent.get("Name") if parent is not None and parent.tag == X.odm("ItemGroupDef") else None
            out.append(findings.make("DD0114", ds, None, rows=[leaf.sourceline] if leaf.sourceline else None,
                                     values=[href], file=doc.file,
                                     message=f"def:leaf {leaf_id} points at {href}, which does not exist in "
                                             f"{base}"))
    return findings.concat(out)

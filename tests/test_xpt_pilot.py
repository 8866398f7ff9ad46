"""fileformats.xpt on the CDISC pilot's SAS-written SDTM files (../shared/data).

* read_xpt's values equal pyreadstat's on every file (ts.xpt is cp1252 text);
* reading then writing with the same metadata reproduces the NAMESTR records and the whole
  observation section byte for byte, and the headers differ at most in the timestamps and
  the SAS version / OS strings; with those passed too, the whole file is identical.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pyreadstat
import pytest

from fileformats.xpt import read_xpt, write_xpt
from specs.errors import InputError

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SDTM = DATA / "cdiscpilot01" / "sdtm"
FILES = sorted(SDTM.glob("*.xpt")) if SDTM.is_dir() else []
pytestmark = pytest.mark.skipif(not FILES, reason="../shared/data/cdiscpilot01/sdtm is absent")
IDS = [p.name for p in FILES]


def _observation_start(data: bytes) -> int:
    return data.index(b"HEADER RECORD*******OBS     HEADER RECORD") + 80


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_values_equal_pyreadstat(path):
    ours, meta = read_xpt(path)
    theirs, their_meta = pyreadstat.read_xport(str(path), encoding=None if meta.encoding == "ascii"
                                               else meta.encoding)
    assert list(ours.columns) == list(theirs.columns) and len(ours) == len(theirs)
    for column in ours.columns:
        a, b = ours[column], theirs[column]
        if meta.variable(column).numeric:
            np.testing.assert_array_equal(a.to_numpy(dtype=float), b.to_numpy(dtype=float),
                                          err_msg=f"{path.name} {column}")
        else:
            assert a.tolist() == b.tolist(), f"{path.name} {column}"
    assert [v.label for v in meta.variables] == their_meta.column_labels
    assert meta.name == their_meta.table_name


def test_ts_needs_cp1252_and_gets_it():
    ts = SDTM / "ts.xpt"
    frame, meta = read_xpt(ts)
    assert meta.encoding == "cp1252"
    assert "Patients with Probable Mild to Moderate Alzheimer’s Disease" in frame["TSVAL"].tolist()


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_read_then_write_is_byte_exact(path, tmp_path):
    frame, meta = read_xpt(path)
    text = {"profile": "fda"} if meta.encoding == "ascii" else {"profile": "utf8",
                                                                 "encoding": meta.encoding}
    original = path.read_bytes()

    # Same dataset and variable metadata, our own header strings and today's timestamps.
    written = write_xpt(frame, tmp_path / path.name, name=meta.name, label=meta.label,
                        variables=meta.variables, special_missing=meta.special_missing, **text)
    ours = written.read_bytes()
    start = _observation_start(original)
    assert _observation_start(ours) == start
    assert ours[640:start] == original[640:start], "NAMESTR header and records"
    assert ours[start:] == original[start:], "observations"
    differing = {i for i in range(0, start, 80) if ours[i:i + 80] != original[i:i + 80]}
    assert differing <= {80, 160, 400, 480}  # the two real headers and two member records
    for offset in sorted(differing):
        a, b = bytearray(ours[offset:offset + 80]), bytearray(original[offset:offset + 80])
        for lo, hi in ((24, 40), (64, 80)) if offset in (80, 400) else ((0, 16),):
            a[lo:hi] = b[lo:hi] = b" " * (hi - lo)  # timestamps, SAS version, OS name
        assert a == b, f"header record at byte {offset} differs beyond timestamps/version/OS"

    # With the header strings and timestamps too, the whole file is identical.
    again = write_xpt(frame, tmp_path / path.name, **meta.write_options(), **text)
    assert again.read_bytes() == original


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_sas_positions_tile_the_row_in_namestr_order(path):
    """What SAS writes, and what the reader's position check (below) takes as normal."""
    meta = read_xpt(path, convert_dates=False)[1]
    ends = np.cumsum([v.length for v in meta.variables])
    assert [v.position for v in meta.variables] == [0, *ends[:-1].tolist()]


@pytest.mark.parametrize(("shift", "message"), [
    (1, "variable DOMAIN: position 13 (length 2) leaves byte 12 of the row to no variable"),
    (-1, "variable DOMAIN: position 11 (length 2) overlaps the last 1 byte"),
])
def test_a_shifted_position_is_refused_with_its_offset(tmp_path, shift, message):
    data = bytearray((SDTM / "dm.xpt").read_bytes())
    npos = 8 * 80 + 140 + 84  # variable 2's NAMESTR, field npos (STUDYID is 12 bytes)
    assert int.from_bytes(data[npos:npos + 4], "big") == 12
    data[npos:npos + 4] = (12 + shift).to_bytes(4, "big")
    (tmp_path / "dm.xpt").write_bytes(bytes(data))
    with pytest.raises(InputError, match=rf"dm\.xpt, byte offset {npos}: {re.escape(message)}"):
        read_xpt(tmp_path / "dm.xpt")


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_metadata_from_the_headers_alone_equals_the_full_read(path):
    """read_xpt_metadata reads the header records and the last record only: the SAS-written
    files' names, labels, types, lengths, positions, formats and row counts, as read_xpt
    gives them."""
    from fileformats.xpt import read_xpt_metadata

    full = read_xpt(path)[1]
    head = read_xpt_metadata(path)
    assert head.variables == full.variables
    assert (head.name, head.label, head.nobs, head.version, head.created) == \
           (full.name, full.label, full.nobs, full.version, full.created)

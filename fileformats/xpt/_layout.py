"""Byte layout of a SAS XPORT version 5 file (SAS TS-140): header records and NAMESTRs.

The file is a stream of 80-byte records, each blank-padded:

1. library header, 2-3. first and second real header (SAS version, OS, created, modified),
4. member header (NAMESTR length 140), 5. descriptor header, 6-7. member data records
(dataset name, created; modified, dataset label, dataset type), 8. NAMESTR header with the
variable count, 9. one 140-byte NAMESTR per variable, back to back, blank-padded to a
multiple of 80, 10. OBS header, 11. observations back to back, blank-padded to 80.

Version 8 (``LIBV8``) differs in the header names, carries long names and labels, and the
observation count; :func:`parse_library_header` recognises it so the reader can say so.
"""
from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from datetime import datetime

RECORD = 80
NAMESTR_LENGTH = 140
NAMESTR_STRUCT = struct.Struct(">hhhh8s40s8shhh2s8shhl52s")
assert NAMESTR_STRUCT.size == NAMESTR_LENGTH

_PREFIX = b"HEADER RECORD*******"
_SUFFIX = b"HEADER RECORD!!!!!!!"


def _header(name: bytes, digits: bytes) -> bytes:
    record = _PREFIX + name.ljust(8) + _SUFFIX + digits + b"  "
    assert len(record) == RECORD
    return record


LIBRARY_HEADER = _header(b"LIBRARY", b"0" * 30)
MEMBER_HEADER = _header(b"MEMBER", b"000000000000000001600000000140")
DESCRIPTOR_HEADER = _header(b"DSCRPTR", b"0" * 30)
OBS_HEADER = _header(b"OBS", b"0" * 30)
LIBRARY_HEADER_V8 = _header(b"LIBV8", b"0" * 30)


def namestr_header(count: int) -> bytes:
    """NAMESTR header: ``000000`` + 4-digit variable count + 20 zeros."""
    return _header(b"NAMESTR", b"000000" + b"%04d" % count + b"0" * 20)


_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_STAMP = re.compile(rb"(\d\d)([A-Z]{3})(\d\d):(\d\d):(\d\d):(\d\d)")


def format_timestamp(moment: datetime) -> bytes:
    """``ddMMMyy:hh:mm:ss`` (16 bytes, upper-case month, two-digit year) as SAS writes it."""
    return b"%02d%s%02d:%02d:%02d:%02d" % (
        moment.day, _MONTHS[moment.month - 1].encode(), moment.year % 100,
        moment.hour, moment.minute, moment.second)


def parse_timestamp(raw: bytes) -> datetime | None:
    """Inverse of :func:`format_timestamp`; two-digit years 00-68 are 20xx, 69-99 19xx
    (the POSIX ``%y`` window). None when the field is not a valid timestamp."""
    match = _STAMP.fullmatch(raw.strip())
    if not match or match.group(2).decode() not in _MONTHS:
        return None
    day, month, year, hour, minute, second = match.groups()
    yy = int(year)
    try:
        return datetime(2000 + yy if yy < 69 else 1900 + yy, _MONTHS.index(month.decode()) + 1,
                        int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None


def first_real_header(sas_version: bytes, os_name: bytes, created: bytes) -> bytes:
    return b"SAS     SAS     SASLIB  " + sas_version + os_name + b" " * 24 + created


def second_real_header(modified: bytes) -> bytes:
    return modified + b" " * 64


def member_record_1(name: bytes, sas_version: bytes, os_name: bytes, created: bytes) -> bytes:
    return b"SAS     " + name + b"SASDATA " + sas_version + os_name + b" " * 24 + created


def member_record_2(modified: bytes, label: bytes, dataset_type: bytes) -> bytes:
    return modified + b" " * 16 + label + dataset_type


@dataclass(frozen=True)
class Namestr:
    """One NAMESTR record to write, fields as TS-140 names them (the label, already encoded
    under the text profile, is passed to :func:`pack_namestr` separately)."""

    ntype: int          # 1 numeric, 2 character
    length: int         # nlng
    number: int         # nvar0 (SAS writes 1-based)
    name: str
    format: str         # nform
    format_length: int  # nfl
    format_decimals: int  # nfd
    justification: int  # nfj
    informat: str
    informat_length: int
    informat_decimals: int
    position: int       # npos


def pack_namestr(ns: Namestr, label: bytes) -> bytes:
    """140 bytes; ``label`` is the already-encoded, blank-padded 40-byte label."""
    return NAMESTR_STRUCT.pack(
        ns.ntype, 0, ns.length, ns.number, ns.name.encode("ascii").ljust(8), label,
        ns.format.encode("ascii").ljust(8), ns.format_length, ns.format_decimals,
        ns.justification, b"\x00\x00", ns.informat.encode("ascii").ljust(8),
        ns.informat_length, ns.informat_decimals, ns.position, b"\x00" * 52)


def pad(data: bytes, fill: bytes = b" ") -> bytes:
    """Blank-pad to a whole number of 80-byte records."""
    return data + fill * (-len(data) % RECORD)

"""The one clock of a build: ``SOURCE_DATE_EPOCH`` (reproducible-builds.org) or the time now.

Every timestamp a file carries (XPT headers, define.xml CreationDateTime, Dataset-JSON,
workbooks) comes from the caller's ``created`` when given, else from :func:`default_created`.
"""
from __future__ import annotations

import os
from datetime import datetime, timezone

from specs.errors import InputError


def source_date_epoch(text: str) -> datetime:
    """SOURCE_DATE_EPOCH: whole seconds since 1970-01-01 UTC, as a naive UTC datetime. A malformed
    value is an error, as the specification asks, not a silent fall-back to the clock."""
    try:
        if not text.strip().isdigit():
            raise ValueError(text)
        return datetime.fromtimestamp(int(text), tz=timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        raise InputError(f"SOURCE_DATE_EPOCH={text!r} is not a whole number of seconds since 1970-01-01 "
                         "(UTC) in the range of dates") from None


def default_created(*, aware: bool = False) -> datetime:
    """SOURCE_DATE_EPOCH if set, else the local time now, in whole seconds; without a time zone
    (XPT headers, workbooks) or, with ``aware``, with its UTC offset (ISO 8601 in define.xml and
    Dataset-JSON)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        moment = source_date_epoch(epoch)
        return moment.replace(tzinfo=timezone.utc) if aware else moment
    now = datetime.now().replace(microsecond=0)
    return now.astimezone() if aware else now


def check_environment() -> None:
    """Refuse a malformed SOURCE_DATE_EPOCH up front, even when a config fixes the time: the
    libraries that write figures and tables read it too."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None:
        source_date_epoch(epoch)

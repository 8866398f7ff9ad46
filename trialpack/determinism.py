"""Same inputs, same bytes: fix the timestamps that libraries put into files.

openpyxl stamps the workbook's created/modified properties with the clock and zipfile
stamps every member with the local time; both are set from the build's ``created``.
"""
from __future__ import annotations

import os
import zipfile
from datetime import datetime
from pathlib import Path


def fix_workbook_dates(workbook, created: datetime) -> None:
    workbook.properties.created = created
    workbook.properties.modified = created
    workbook.properties.lastModifiedBy = "trialpack"
    workbook.properties.creator = "trialpack"


def normalise_zip(path: Path, created: datetime) -> None:
    """Rewrite a zip (xlsx) with every member dated ``created``, in the same order."""
    stamp = (max(created.year, 1980), created.month, created.day, created.hour, created.minute, created.second)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o600 << 16
            dst.writestr(fixed, data)
    os.replace(tmp, path)

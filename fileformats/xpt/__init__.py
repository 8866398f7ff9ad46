"""SAS XPORT version 5 I/O: exact, strict and fast.

``write_xpt(df, path, *, name, label, variables, profile="fda", ...)`` writes one dataset
per file as SAS TS-140 describes it and the FDA requires it, checking every name, label and
value first and truncating nothing. ``read_xpt(path) -> (DataFrame, XptMetadata)`` reads it
back, with every missing-value code, format, label and length, so that
``write_xpt(df, out, **meta.write_options())`` reproduces the NAMESTRs and observations
byte for byte.
"""
from fileformats.xpt._meta import XptMetadata, XptVariable
from fileformats.xpt._reader import read_xpt, read_xpt_metadata
from fileformats.xpt._writer import FIVE_GB, write_xpt

__all__ = ["FIVE_GB", "XptMetadata", "XptVariable", "read_xpt", "read_xpt_metadata", "write_xpt"]

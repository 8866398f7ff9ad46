"""``trialpack.xpt``: the README's name for SAS XPORT v5 I/O, kept for users' code.

A thin re-export of :mod:`fileformats.xpt`, where the reader and writer live (the file-formats
floor; see the README's Architecture section). The application may import the floors below it.
"""
from fileformats.xpt import FIVE_GB, XptMetadata, XptVariable, read_xpt, read_xpt_metadata, write_xpt

__all__ = ["FIVE_GB", "XptMetadata", "XptVariable", "read_xpt", "read_xpt_metadata", "write_xpt"]

"""``trialpack.datasetjson``: the README's name for Dataset-JSON v1.1 I/O, kept for users' code.

A thin re-export of :mod:`fileformats.datasetjson`, where the reader and writer live (the
file-formats floor; see the README's Architecture section). The application may import the floors
below it. (A package rather than a module file so that git records trialpack/datasetjson.py as
moved to fileformats/datasetjson.py, and ``git blame`` follows it.)
"""
from fileformats.datasetjson import DatasetJsonColumn, DatasetJsonMetadata, read_dataset_json, write_dataset_json

__all__ = ["DatasetJsonColumn", "DatasetJsonMetadata", "read_dataset_json", "write_dataset_json"]

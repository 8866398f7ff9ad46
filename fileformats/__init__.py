"""fileformats: the file formats, which know nothing of SDTM or ADaM (floor 2, above specs).

>>> from fileformats.xpt import read_xpt, write_xpt        # also as trialpack.xpt (README)
>>> from fileformats.datasetjson import read_dataset_json, write_dataset_json
>>> from fileformats.rawio import read_raw                  # raw CSV/XLSX/SAS7BDAT -> text frames

Holds:

* ``xpt/`` SAS XPORT version 5 reader and writer (IBM doubles, NAMESTRs, the FDA's rules), with
  its optional C row fill ``xpt/_rowfill.c`` (extension ``_trialpack_xpt``);
* ``datasetjson`` CDISC Dataset-JSON v1.1 (``.json``, ``.ndjson``) against the packaged schemas
  (``data/schemas/``);
* ``rawio`` raw EDC exports (CSV, XLSX, SAS7BDAT) read as text with their file and row, with the
  optional C CSV scanner ``_csvscan.c`` (extension ``_trialpack_csv``);
* ``pdf`` an exact PDF writer with embedded font subsets (``data/fonts/``), and ``textdoc``
  flowing text documents on it (headings, paragraphs, tables);
* ``_sasdates`` SAS dates, datetimes and times <-> numpy; ``_variables`` the variable metadata
  the dataset writers accept in any of its forms;
* ``native`` the loader of the optional C kernels; ``pagecache`` large files written and read
  without filling the page cache, and the digests their writers made.

May import: ``specs`` (errors, the model, column helpers, SAS formats) and third-party libraries;
never ``sdtm``, ``adam``, ``define``, ``report`` or ``trialpack`` (tests/test_layering.py). This
``__init__`` imports nothing, so that a module here loads only what it needs.
"""

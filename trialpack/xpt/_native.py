"""The optional C row fill (module ``_trialpack_xpt``, built from ``_rowfill.c`` by setup.py).

When it is installed the encoders hand each chunk of rows to it: one pass per variable,
without temporary arrays, the GIL released. Without it (no C compiler at install time, or
``TRIALPACK_XPT_NUMPY=1`` in the environment) the same bytes come from numpy; tests hold
the two paths equal. Only the fill is in C: every check runs in Python before it.
"""
from __future__ import annotations

import os


def _load():
    if os.environ.get("TRIALPACK_XPT_NUMPY", "") not in ("", "0"):
        return None
    try:
        import _trialpack_xpt
    except ImportError:
        return None
    return _trialpack_xpt


#: The C module, or None: the encoders read it at each fill (tests switch it off).
kernel = _load()

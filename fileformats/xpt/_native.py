"""The optional C row fill (module ``_trialpack_xpt``, built from ``_rowfill.c`` by setup.py).

When it is installed the encoders hand each chunk of rows to it: one pass per variable,
without temporary arrays, the GIL released. Without it (no C compiler at install time, or
``TRIALPACK_XPT_NUMPY=1`` in the environment) the same bytes come from numpy; tests hold
the two paths equal. Only the fill is in C: every check runs in Python before it.
"""
from __future__ import annotations

from fileformats.native import load

#: The C module, or None: the encoders read it at each fill (tests switch it off).
kernel = load("_trialpack_xpt", "TRIALPACK_XPT_NUMPY")

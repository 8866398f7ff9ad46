"""The optional C kernels (fileformats.native) are built wherever a C compiler is: ``pip install .``
compiles them (setup.py), and only their environment switch turns them off."""
from __future__ import annotations

import os
import shutil

import pytest

from fileformats import rawio
from fileformats.xpt import _native


@pytest.mark.parametrize("kernel, switch, extension", [
    (lambda: _native.kernel, "TRIALPACK_XPT_NUMPY", "_trialpack_xpt"),     # the XPT row fill
    (lambda: rawio._csv_kernel, "TRIALPACK_CSV_NUMPY", "_trialpack_csv"),   # the CSV record layout
], ids=["xpt", "csv"])
def test_each_kernel_is_built_where_a_compiler_is(kernel, switch, extension):
    if os.environ.get(switch, "") not in ("", "0"):
        pytest.skip(f"{switch} switches the kernel off")
    if not (shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")):
        pytest.skip("no C compiler: numpy does the kernel's work")
    assert kernel() is not None, f"pip install . should have built the {extension} extension"

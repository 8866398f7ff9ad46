"""The optional C kernels (see fileformats/native.py): the XPT writer's row fill
(fileformats/xpt/_rowfill.c) and the raw CSV reader's record layout (fileformats/_csvscan.c);
everything else is in pyproject.toml. Without a C compiler the build goes on and numpy does
their work instead."""
import sys

from setuptools import Extension, setup

COMPILE_ARGS = [] if sys.platform == "win32" else ["-O2"]

setup(ext_modules=[
    Extension("_trialpack_xpt", ["fileformats/xpt/_rowfill.c"], optional=True, extra_compile_args=COMPILE_ARGS),
    Extension("_trialpack_csv", ["fileformats/_csvscan.c"], optional=True, extra_compile_args=COMPILE_ARGS),
])

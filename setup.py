"""The optional C row fill of the XPT writer (trialpack/xpt/_rowfill.c); everything else is in
pyproject.toml. Without a C compiler the build goes on and trialpack.xpt uses numpy instead."""
import sys

from setuptools import Extension, setup

setup(ext_modules=[Extension(
    "_trialpack_xpt", ["trialpack/xpt/_rowfill.c"], optional=True,
    extra_compile_args=[] if sys.platform == "win32" else ["-O2"],
)])

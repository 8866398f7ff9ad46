"""The README is the user's manual: its Python examples run as written, in the folder it names
(the demo's input folder, ``trialpack demo`` then ``cd demo/demo-input``)."""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_readme_python_examples_run_as_written(demo_package, tmp_path):
    blocks = python_blocks((ROOT / "README.md").read_text(encoding="utf-8"))
    assert blocks, "the README has Python examples"
    work = tmp_path / "demo-input"
    shutil.copytree(demo_package / "demo-input", work)
    here = os.getcwd()
    os.chdir(work)
    try:
        for block in blocks:
            namespace: dict = {"__name__": "__readme__"}
            exec(compile(block, "README.md", "exec"), namespace)   # noqa: S102 - the README's own examples
    finally:
        os.chdir(here)
    assert (work / "output" / "manifest.json").is_file() and (work / "define.xml").is_file()
    assert namespace["result"].summary()["participants"] == 767


def test_readme_demo_summary_is_what_the_demo_prints(tmp_path_factory):
    """The end summary the README quotes is the one the demo prints, line for line (but for the
    rows it elides with "..." and the output folder's name)."""
    from tests.cli_support import demo_package

    package, printed = demo_package(tmp_path_factory)
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = text[text.index("Package written to output"):]
    block = block[:block.index("```")].splitlines()
    got = printed.replace(str(package), "output").splitlines()
    quoted = [line for line in block if line.strip() != "..."]
    assert quoted and all(line in got for line in quoted), [line for line in quoted if line not in got]

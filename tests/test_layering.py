"""The house has floors (README "Architecture"): each package imports only from the packages
below it, nothing imports the application package ``trialpack``, and no files import each other
in a circle.

Floors, bottom to top: ``specs`` (metadata) < ``fileformats`` (XPT, Dataset-JSON, raw readers,
PDF: no SDTM or ADaM) < ``sdtm`` < ``adam`` (derivations only) < ``define`` < ``report`` (rates,
table frames, rendering) < ``trialpack`` (the application). ``define`` imports neither ``sdtm``
nor ``adam`` and neither imports it, so its place among them is free; it sits above them as the
design card has it, the last floor that writes submission files, below the report that reads
the analysis.

Every import is read from the source with ast: at module level and inside functions alike, for a
function's import is as much a dependency of its file as a module's (it only runs later: an
import inside a function is how a circle hides). Relative imports are resolved; only imports of
the packages above count (the standard library and third-party libraries are not floors).
"""
from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: Bottom to top: a package may import the packages before it here, never one after it.
FLOORS = ("specs", "fileformats", "sdtm", "adam", "define", "report", "trialpack")
APPLICATION = "trialpack"
#: Top-level folders that are not packages of the distribution.
NOT_PACKAGES = {"tests", "tools", "bench", "examples", "docs", "build", "dist"}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(path): path for floor in FLOORS for path in sorted((ROOT / floor).rglob("*.py"))}


@dataclass(frozen=True)
class Import:
    importer: str   # the importing module
    imported: str   # the module of ours it imports (a package's ``__init__`` under the package's name)
    line: int

    @property
    def where(self) -> str:
        return f"{MODULES[self.importer].relative_to(ROOT).as_posix()}:{self.line}"

    def floors(self) -> tuple[str, str]:
        return self.importer.split(".")[0], self.imported.split(".")[0]


def _ours(name: str) -> str | None:
    """The module of ours that ``import name`` names: ``name`` itself, or the nearest package
    above it (``from specs.model import Spec`` -> ``specs.model``); None for other libraries."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def _imports_of(module: str) -> list[Import]:
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # from . import x, from ..y import z
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([node.module] if node.module else []))
            else:
                base = node.module
            # ``from pkg import name``: the submodule pkg.name where there is one, else pkg itself
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
        else:
            continue
        for name in names:
            target = _ours(name)
            if target is not None and target != module:
                found.append(Import(module, target, node.lineno))
    return found


IMPORTS = list(dict.fromkeys(imp for module in MODULES for imp in _imports_of(module)))  # once per line


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of ``graph`` with more than one node (Tarjan), each in
    a stable order."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return out


def _describe(circle: list[str], edges: list[Import]) -> str:
    inside = set(circle)
    return "; ".join(f"{imp.where} imports {imp.imported}" for imp in edges
                     if imp.importer in inside and imp.imported in inside)


def test_every_package_is_a_floor():
    """A new top-level package takes its place in FLOORS (and in the README's picture)."""
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py") if p.parent.name not in NOT_PACKAGES}
    assert packages == set(FLOORS)


def test_the_modules_are_read():
    assert len(MODULES) > 50 and all(floor in MODULES for floor in FLOORS)
    assert any(imp.importer == "sdtm.mapping" and imp.imported == "fileformats.rawio" for imp in IMPORTS)


def test_no_package_imports_a_floor_above_it():
    above = [f"{imp.where} imports {imp.imported} ({imp.floors()[1]} is above {imp.floors()[0]})"
             for imp in IMPORTS if FLOORS.index(imp.floors()[1]) > FLOORS.index(imp.floors()[0])]
    assert not above, "imports of a floor above:\n" + "\n".join(above)


def test_nothing_imports_the_application():
    up = [f"{imp.where} imports {imp.imported}" for imp in IMPORTS
          if imp.floors()[1] == APPLICATION and imp.floors()[0] != APPLICATION]
    assert not up, "imports of the application package:\n" + "\n".join(up)


def test_no_package_cycle():
    """Whatever the order of FLOORS says: the packages' own import graph has no cycle."""
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        importer, imported = imp.floors()
        if importer != imported:
            graph.setdefault(importer, set()).add(imported)
    crossing = [imp for imp in IMPORTS if imp.floors()[0] != imp.floors()[1]]
    cycles = [" <-> ".join(c) + ": " + "; ".join(f"{imp.where} imports {imp.imported}" for imp in crossing
                                                if set(imp.floors()) <= set(c))
              for c in _circles(graph)]
    assert not cycles, "package cycles:\n" + "\n".join(cycles)


def test_no_file_circle():
    """No two files (modules) import each other, directly or through others, whether the
    imports are at module level or inside functions."""
    graph: dict[str, set[str]] = {}
    for imp in IMPORTS:
        graph.setdefault(imp.importer, set()).add(imp.imported)
    circles = [" <-> ".join(c) + ": " + _describe(c, IMPORTS) for c in _circles(graph)]
    assert not circles, "file circles:\n" + "\n".join(circles)


def test_the_python_api_names_are_the_file_formats_own():
    """README "Python API": ``trialpack.xpt`` and ``trialpack.datasetjson`` re-export the file
    formats floor, the same objects."""
    for public, home in (("trialpack.xpt", "fileformats.xpt"), ("trialpack.datasetjson", "fileformats.datasetjson")):
        public_module, home_module = importlib.import_module(public), importlib.import_module(home)
        assert public_module.__all__ == home_module.__all__
        assert all(getattr(public_module, name) is getattr(home_module, name) for name in home_module.__all__)


def test_the_floors_write_the_application_version():
    """The floors below the application read trialpack's version from its installed distribution
    (they may not import ``trialpack``): the same version the application reports."""
    import trialpack
    from define.writer import TRIALPACK_VERSION as in_define
    from fileformats.datasetjson import TRIALPACK_VERSION as in_dataset_json
    from report.render import TRIALPACK_VERSION as in_report

    assert in_define == in_dataset_json == in_report == metadata.version("trialpack") == trialpack.__version__

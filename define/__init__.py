"""define: Define-XML 2.1 writer, schema validation, define/data cross-checks, HTML view.

>>> import define
>>> define.write_define(spec, frames, "out/define.xml", created=when)      # define.xml + define2-1.xsl
>>> define.validate_define("out/define.xml")                                # schema + business rules
>>> define.cross_check("out/define.xml", frames, folder="out")             # define <-> data
>>> define.write_define_html("out/define.xml", "out/define.html")
>>> spec, found = define.read_define("out/define.xml")                      # define.xml -> Spec

Holds: ``writer`` (define.xml from a spec and its datasets), ``reader`` (define.xml -> spec),
``validate`` (XSD and business rules), ``crosscheck`` (define <-> data), ``html`` (define.html),
``facts`` (what the data say about a variable), ``arm`` (Analysis Results Metadata, ARM 1.0,
and its schema), ``whereclause`` (def:WhereClauseDef elements), ``_doc`` and ``_xml`` (parsing,
namespaces, schemas).

May import: ``specs``, ``fileformats``, ``sdtm`` and ``adam`` (it needs only ``specs`` today);
never ``report`` or ``trialpack`` (tests/test_layering.py). The version it writes as
SourceSystemVersion comes from trialpack's installed distribution, not from the application.
"""
from define.crosscheck import check_leaves, cross_check
from define.html import write_define_html
from define.reader import DefineImport, read_define
from define.validate import validate_define
from define.writer import build_define, write_define

__all__ = ["build_define", "check_leaves", "cross_check", "validate_define", "write_define",
           "write_define_html", "DefineImport", "read_define"]

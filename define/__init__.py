"""define: Define-XML 2.1 writer, schema validation, define/data cross-checks, HTML view.

>>> import define
>>> define.write_define(spec, frames, "out/define.xml", created=when)      # define.xml + define2-1.xsl
>>> define.validate_define("out/define.xml")                                # schema + business rules
>>> define.cross_check("out/define.xml", frames, folder="out")             # define <-> data
>>> define.write_define_html("out/define.xml", "out/define.html")
>>> spec, found = define.read_define("out/define.xml")                      # define.xml -> Spec
"""
from define.crosscheck import check_leaves, cross_check
from define.html import write_define_html
from define.reader import DefineImport, read_define
from define.validate import validate_define
from define.writer import build_define, write_define

__all__ = ["build_define", "check_leaves", "cross_check", "validate_define", "write_define",
           "write_define_html", "DefineImport", "read_define"]

"""define: Define-XML 2.1 writer, schema validation, define/data cross-checks, HTML view."""

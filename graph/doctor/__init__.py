"""`legacygraph doctor`: will the gateway work on this site? Read-only checks per source.

`report.py` holds the report and the verdict per field (`judge`); each source's checks are in a
module of their own here, named in its `SourceSpec.diagnose`; `run.py` runs them all.
"""

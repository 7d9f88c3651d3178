"""`legacygraph record`: the gateway's own calls to an operator's site, as a redacted corpus in
the format of `tests/recordings/` that the replay tests run on.

`transport.py` keeps each request the gateway sends and its answer; `redact.py` replaces
tokens, keys, e-mails, names and free text (the same input, the same replacement); `operations.py`
holds the fixed read-only GraphQL operations per source; `run.py` runs them and writes the files.
"""

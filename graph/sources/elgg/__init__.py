"""Elgg (social groups): the gateway's signed application key, plus the caller's user token.

`source.py`: its `SourceSpec` and loaders; `settings.py`: its `[sources.elgg]` section;
`doctor.py`: its read-only checks for `legacygraph doctor`.
"""

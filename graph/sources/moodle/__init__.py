"""Moodle (courses): a web service token; no guests.

`source.py`: its `SourceSpec` and loaders; `settings.py`: its `[sources.moodle]` section;
`doctor.py`: its read-only checks for `legacygraph doctor`.
"""

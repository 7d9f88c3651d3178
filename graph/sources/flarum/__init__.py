"""Flarum (discussions): `Authorization: Token`, guests allowed.

`source.py`: its `SourceSpec` and loaders; `settings.py`: its `[sources.flarum]` section;
`doctor.py`: its read-only checks for `legacygraph doctor`.
"""

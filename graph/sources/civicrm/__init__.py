"""CiviCRM (contacts): the site key and a user's api key; no guests.

`source.py`: its `SourceSpec` and loaders; `settings.py`: its `[sources.civicrm]` section;
`doctor.py`: its read-only checks for `legacygraph doctor`.
"""

"""Eqsash (a module/method CMS): the site's api key, plus the caller's token; guests allowed.

`source.py`: its `SourceSpec` and loaders; `settings.py`: its `[sources.eqsash]` section.
"""

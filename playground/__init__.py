"""The playground's built page (`dist/`) and its saved example queries (`examples/`), shipped
with the gateway as package data; `graph/server/playground.py` serves them. The sources of the page
(`src/`, `package.json`) stay in the repository: `make playground` rebuilds `dist/`."""

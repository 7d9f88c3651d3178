"""Print the project's dependencies without their version bounds, for `make upgrade-check`.

Every runtime dependency and those of the `otel` and `test` extras, markers kept, so that a
throwaway virtualenv can take the newest release of each and run the tests against them.
"""

from __future__ import annotations

import pathlib
import re
import tomllib

__all__ = ["unpinned"]

# A requirement's name, its extras, then its bounds up to the marker: "name[extra]>=1,<2; marker".
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9._-]+)(\[[^\]]*\])?[^;]*(;.*)?$")


def unpinned(pyproject: pathlib.Path) -> list[str]:
    project = tomllib.loads(pyproject.read_text())["project"]
    lines = list(project["dependencies"])
    for extra in ("otel", "test"):
        lines += project["optional-dependencies"][extra]
    names = []
    for line in lines:
        match = REQUIREMENT.match(line)
        if match is None:
            raise ValueError(f"not a requirement: {line!r}")
        name, _extras, marker = match.groups()
        if name != project["name"]:
            names.append(name + (marker or ""))
    return names


if __name__ == "__main__":
    print("\n".join(unpinned(pathlib.Path(__file__).parent.parent / "pyproject.toml")))

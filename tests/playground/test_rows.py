"""The export's CSV writer (playground/src/rows.js), run by Node on the source the page is built
from."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import missing_tool

ROWS = Path(__file__).resolve().parents[2] / "playground" / "src" / "rows.js"


def export(data: Any) -> tuple[Any, str]:
    node = shutil.which("node")
    if node is None:
        missing_tool("node is not installed (apt-get install nodejs)")
    script = (
        f"import {{ firstList, toCsv }} from {json.dumps(ROWS.as_uri())};"
        f"const rows = firstList({json.dumps(data)});"
        "process.stdout.write(JSON.stringify([rows, rows ? toCsv(rows) : '']));"
    )
    done = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    rows, text = json.loads(done.stdout)
    return rows, text


def test_the_first_list_is_found_depth_first_and_flattened() -> None:
    data = {
        "viewer": {"flarum": {"username": "bea"}},
        "discussions": {
            "totalCount": 2,
            "nodes": [
                {"title": "Rota", "author": {"displayName": "Bea"}, "tags": [{"name": "a"}]},
                {"title": 'Bake sale, 3 "big" cakes', "author": None, "tags": []},
            ],
        },
    }
    rows, text = export(data)
    assert rows == data["discussions"]["nodes"]
    parsed = list(csv.DictReader(io.StringIO(text)))
    # Columns are the union of every row's fields: a null author is a column of its own.
    assert parsed[0] == {
        "title": "Rota",
        "author.displayName": "Bea",
        "tags": '[{"name":"a"}]',
        "author": "",
    }
    assert parsed[1] == {
        "title": 'Bake sale, 3 "big" cakes',
        "author.displayName": "",
        "tags": "[]",
        "author": "",
    }


def test_a_cell_that_looks_like_a_formula_stays_text() -> None:
    _, text = export({"nodes": [{"title": '=HYPERLINK("x")'}, {"title": "-1"}, {"title": "ok"}]})
    titles = [row["title"] for row in csv.DictReader(io.StringIO(text))]
    assert titles == ['\'=HYPERLINK("x")', "'-1", "ok"]


def test_no_list_means_nothing_to_export() -> None:
    assert export({"viewer": {"flarum": None}})[0] is None

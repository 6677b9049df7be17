"""docs/services.md says what is implemented: its table must be what the providers really have.

The "of N" totals are the operations of the botocore models the table was generated with; a newer botocore
adds operations (answered 501 until implemented), so only the implemented counts and pages must match."""

import re
from pathlib import Path

from overcast.coverage import table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "services.md"
ROW = re.compile(r"^\| (\S+) \| (\d+) of \d+ \| (.*) \|$", re.M)


def test_services_page_matches_the_providers():
    documented = ROW.findall(DOCS.read_text())
    assert documented == ROW.findall(table()), (
        "docs/services.md is stale: regenerate its table with python -m overcast.coverage"
    )

"""docs/services.md says what is implemented: its table must be what the providers really have."""

from pathlib import Path

from overcast.coverage import table

DOCS = Path(__file__).resolve().parents[2] / "docs" / "services.md"


def test_services_page_matches_the_providers():
    assert table() in DOCS.read_text(), (
        "docs/services.md is stale: regenerate its table with python -m overcast.coverage"
    )

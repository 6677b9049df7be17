"""docs/services/cloudformation.md shows the resource types the registry has, as the registry declares them."""

from __future__ import annotations

from pathlib import Path

from overcast.services.cloudformation.resources import registry, table

DOC = Path(__file__).resolve().parents[3] / "docs" / "services" / "cloudformation.md"


def test_the_page_carries_the_generated_table():
    assert table() in DOC.read_text(), "regenerate it: python -m overcast.services.cloudformation.resources"


def test_every_handler_names_its_service_and_its_attributes_once():
    for type_name, handler in registry().items():
        assert type_name.startswith("AWS::") and handler.service, type_name
        assert len(set(handler.attributes)) == len(handler.attributes), type_name

"""A data dir written before table tags moved to the kit's table opens with its tables' tags."""

import json

from overcast.services.dynamodb.store import MIGRATIONS, Store
from overcast.services.kit.store import TagStore
from overcast.services.kit.tags import ResourceTags
from overcast.state import Database


def meta(arn: str, tags: list[dict] | None) -> str:
    document = {
        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "BillingMode": "PAY_PER_REQUEST",
        "TableArn": arn,
        "TableId": "id",
        "_created": 1733550000.123456,
    }
    if tags is not None:
        document["Tags"] = tags
    return json.dumps(document)


def test_table_tags_move_to_the_kit_table(tmp_path):
    db = Database(tmp_path / "overcast.db")
    db.migrate("dynamodb", MIGRATIONS[:3])  # a data dir from before table tags moved to the kit's table
    tables = [
        (
            "000000000000",
            "us-east-1",
            "Orders",
            [{"Key": "zeta", "Value": "1"}, {"Key": "alpha", "Value": ""}],
        ),
        ("111111111111", "eu-west-1", "Users", [{"Key": "team", "Value": "b"}]),
        ("000000000000", "us-east-1", "Bare", []),
        ("000000000000", "us-east-1", "Older", None),  # a table whose meta never had Tags
    ]
    for account, region, name, tags in tables:
        arn = f"arn:aws:dynamodb:{region}:{account}:table/{name}"
        db.execute(
            "INSERT INTO ddb_tables (account, region, name, meta) VALUES (?, ?, ?, ?)",
            (account, region, name, meta(arn, tags)),
        )
    db.close()

    db = Database(tmp_path / "overcast.db")
    store = Store(db)
    tags = ResourceTags(TagStore(db))
    orders = "arn:aws:dynamodb:us-east-1:000000000000:table/Orders"
    assert list(tags.get(orders).items()) == [("zeta", "1"), ("alpha", "")]
    assert tags.get("arn:aws:dynamodb:eu-west-1:111111111111:table/Users") == {"team": "b"}
    assert tags.get("arn:aws:dynamodb:us-east-1:000000000000:table/Bare") == {}
    assert db.all("SELECT DISTINCT service, resource_type FROM resource_tags") == [("dynamodb", "table")]
    table = store.table("000000000000", "us-east-1", "Orders")
    assert "Tags" not in table.meta  # the definition no longer carries them
    assert table.meta["_created"] == 1733550000.123456 and table.arn == orders
    assert store.table("000000000000", "us-east-1", "Older").meta["TableId"] == "id"
    db.close()

"""A data dir written before topic tags moved to the kit's table opens with its topics' tags."""

from overcast.services.kit.store import TagStore
from overcast.services.kit.tags import ResourceTags
from overcast.services.sns.store import MIGRATIONS, SnsStore
from overcast.state import Database


def test_topic_tags_move_to_the_kit_table(tmp_path):
    db = Database(tmp_path / "overcast.db")
    db.migrate("sns", MIGRATIONS[:3])  # a data dir from before topic tags moved to the kit's table
    topics = [
        (
            "arn:aws:sns:us-east-1:000000000000:news",
            "000000000000",
            "us-east-1",
            "news",
            '{"zeta": "1", "alpha": "2"}',
        ),
        ("arn:aws:sns:eu-west-1:111111111111:alerts", "111111111111", "eu-west-1", "alerts", '{"team": "b"}'),
        ("arn:aws:sns:us-east-1:000000000000:bare", "000000000000", "us-east-1", "bare", "{}"),
    ]
    for arn, account, region, name, tags in topics:
        db.execute(
            "INSERT INTO sns_topics (arn, account, region, name, fifo, attributes, tags, created_at) "
            "VALUES (?, ?, ?, ?, 0, '{}', ?, 0)",
            (arn, account, region, name, tags),
        )
    db.close()

    db = Database(tmp_path / "overcast.db")
    store = SnsStore(db)
    tags = ResourceTags(TagStore(db))
    assert list(tags.get("arn:aws:sns:us-east-1:000000000000:news").items()) == [
        ("zeta", "1"),
        ("alpha", "2"),
    ]
    assert tags.get("arn:aws:sns:eu-west-1:111111111111:alerts") == {"team": "b"}
    assert tags.get("arn:aws:sns:us-east-1:000000000000:bare") == {}
    assert db.all("SELECT DISTINCT service, resource_type, account FROM resource_tags ORDER BY account") == [
        ("sns", "topic", "000000000000"),
        ("sns", "topic", "111111111111"),
    ]
    assert store.topic("arn:aws:sns:us-east-1:000000000000:news").name == "news"  # the topic reads as before
    db.close()

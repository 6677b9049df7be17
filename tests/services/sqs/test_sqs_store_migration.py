"""Data dirs written by earlier versions open with their data intact: messages from before message ids dropped
AUTOINCREMENT, queue tags from before they moved to the kit's table."""

from overcast.services.kit.store import TagStore
from overcast.services.kit.tags import ResourceTags
from overcast.services.sqs.store import MIGRATIONS, SqsStore
from overcast.state import Database


def test_messages_survive_the_autoincrement_migration(tmp_path):
    db = Database(tmp_path / "overcast.db")
    db.migrate("sqs", MIGRATIONS[:1])  # the schema of a data dir from before the migration
    db.execute(
        "INSERT INTO sqs_queues (account, region, name, fifo, attributes, created_at, modified_at) "
        "VALUES ('000000000000', 'us-east-1', 'q', 0, '{}', 0, 0)"
    )
    for i in range(3):
        db.execute(
            "INSERT INTO sqs_messages (queue_id, message_id, body, md5_body, sender_id, sent_at, enqueued_at, "
            "visible_at, group_id) VALUES (1, ?, 'body', 'md5', 'sender', 1, 1, ?, ?)",
            (f"m{i}", float(i), "g" if i == 1 else None),
        )
    db.close()

    db = Database(tmp_path / "overcast.db")
    SqsStore(db)
    assert db.one("SELECT version FROM schema_versions WHERE namespace = 'sqs'") == (len(MIGRATIONS),)
    assert db.all("SELECT id, message_id, visible_at, group_id FROM sqs_messages ORDER BY id") == [
        (1, "m0", 0.0, None),
        (2, "m1", 1.0, "g"),
        (3, "m2", 2.0, None),
    ]
    schema = db.one("SELECT sql FROM sqlite_master WHERE name = 'sqs_messages'")[0]
    assert "AUTOINCREMENT" not in schema
    indexes = {name for (name,) in db.all("SELECT name FROM sqlite_master WHERE tbl_name = 'sqs_messages'")}
    assert {"sqs_messages_visible", "sqs_messages_enqueued", "sqs_messages_group"} <= indexes
    cursor = db.execute(
        "INSERT INTO sqs_messages (queue_id, message_id, body, md5_body, sender_id, sent_at, enqueued_at, "
        "visible_at) VALUES (1, 'm3', 'body', 'md5', 'sender', 1, 1, 3)"
    )
    assert cursor.lastrowid == 4  # still above every stored id
    assert db.all("PRAGMA integrity_check") == [("ok",)]
    db.close()


def test_queue_tags_move_to_the_kit_table(tmp_path):
    db = Database(tmp_path / "overcast.db")
    db.migrate("sqs", MIGRATIONS[:3])  # a data dir from before queue tags moved to the kit's table
    db.execute(
        "INSERT INTO sqs_queues (account, region, name, fifo, attributes, tags, created_at, modified_at) "
        "VALUES ('000000000000', 'us-east-1', 'tagged', 0, '{}', ?, 0, 0), "
        "('111111111111', 'eu-west-1', 'other', 0, '{}', '{\"team\": \"b\"}', 0, 0), "
        "('000000000000', 'us-east-1', 'bare', 0, '{}', '{}', 0, 0)",
        ('{"zeta": "1", "alpha": "2", "env": "prod"}',),
    )
    db.close()

    db = Database(tmp_path / "overcast.db")
    SqsStore(db)
    tags = ResourceTags(TagStore(db))
    assert tags.get("arn:aws:sqs:us-east-1:000000000000:tagged") == {"zeta": "1", "alpha": "2", "env": "prod"}
    assert list(tags.get("arn:aws:sqs:us-east-1:000000000000:tagged")) == [
        "zeta",
        "alpha",
        "env",
    ]  # kept order
    assert tags.get("arn:aws:sqs:eu-west-1:111111111111:other") == {"team": "b"}
    assert tags.get("arn:aws:sqs:us-east-1:000000000000:bare") == {}
    assert db.all("SELECT DISTINCT service, resource_type FROM resource_tags") == [("sqs", "queue")]
    assert db.all("SELECT DISTINCT tags FROM sqs_queues") == [("{}",)]
    db.close()

"""A data dir written before log group tags moved to the kit's table opens with its tags."""

import boto3

from overcast.config import Config
from overcast.services.logs.store import MIGRATIONS
from overcast.state import Database
from overcast.testing import OvercastServer

TAGS_IN_THE_KIT = 2  # MIGRATIONS[2] copies logs_groups.tags into resource_tags


def test_log_group_tags_survive_the_move_to_the_kit(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = Database(data / "overcast.db")
    db.migrate("logs", MIGRATIONS[:TAGS_IN_THE_KIT])  # the schema of a data dir from before the move
    for name, tags in (("/app/tagged", '{"team": "a", "env": "prod"}'), ("/app/plain", "{}")):
        db.execute(
            "INSERT INTO logs_groups (account, region, name, created_at, group_class, tags) "
            "VALUES ('000000000000', 'us-east-1', ?, 0, 'STANDARD', ?)",
            (name, tags),
        )
    db.close()

    server = OvercastServer(Config(data_dir=data, log_level="warning")).start()
    try:
        logs = boto3.client(
            "logs",
            region_name="us-east-1",
            endpoint_url=server.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        assert logs.list_tags_log_group(logGroupName="/app/tagged")["tags"] == {"team": "a", "env": "prod"}
        arn = "arn:aws:logs:us-east-1:000000000000:log-group:/app/tagged"
        assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a", "env": "prod"}
        assert logs.list_tags_log_group(logGroupName="/app/plain")["tags"] == {}
        logs.untag_log_group(logGroupName="/app/tagged", tags=["env"])
        assert logs.list_tags_for_resource(resourceArn=arn)["tags"] == {"team": "a"}
    finally:
        server.stop()

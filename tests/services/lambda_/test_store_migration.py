"""A data dir written before function tags moved to the kit's table opens with its tags."""

import boto3

from overcast.config import Config
from overcast.services.lambda_.store import MIGRATIONS
from overcast.state import Database
from overcast.testing import OvercastServer

TAGS_IN_THE_KIT = 3  # MIGRATIONS[3] copies lambda_functions.tags into resource_tags


def test_function_tags_survive_the_move_to_the_kit(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    db = Database(data / "overcast.db")
    db.migrate("lambda", MIGRATIONS[:TAGS_IN_THE_KIT])  # the schema of a data dir from before the move
    for name, tags in (("tagged", '{"team": "a", "env": "prod"}'), ("plain", "{}")):
        db.execute(
            "INSERT INTO lambda_functions (account, region, name, tags) VALUES ('000000000000', 'us-east-1', ?, ?)",
            (name, tags),
        )
    db.close()

    server = OvercastServer(Config(data_dir=data, log_level="warning")).start()
    try:
        lam = boto3.client(
            "lambda",
            region_name="us-east-1",
            endpoint_url=server.endpoint,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )
        arn = "arn:aws:lambda:us-east-1:000000000000:function:tagged"
        assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a", "env": "prod"}
        assert lam.list_tags(Resource=arn.replace("tagged", "plain"))["Tags"] == {}
        lam.untag_resource(Resource=arn, TagKeys=["env"])
        lam.tag_resource(Resource=arn, Tags={"cost": "1"})
        assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a", "cost": "1"}
    finally:
        server.stop()
    db = Database(data / "overcast.db")
    assert db.one("SELECT version FROM schema_versions WHERE namespace = 'lambda'") == (len(MIGRATIONS),)
    db.close()

"""A data dir written when S3 kept bucket tags as a bucket configuration opens with its tags intact: they are
moved to the kit's table of every service's tags, and S3's own API reads them there."""

import json

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.services.kit.store import TagStore
from overcast.services.s3.store import MIGRATIONS, S3Store
from overcast.state import Database
from overcast.testing import OvercastServer
from tests.helpers import error_of

OWNER = "000000000000"
TAGS = [
    {"Key": "team", "Value": "data"},
    {"Key": "cost-centre", "Value": "42"},
    {"Key": "empty", "Value": ""},
]


def _old_data_dir(path) -> None:
    """What the version before the kit's tags left: schema 4 of S3's tables, tags as a 'tagging' document."""
    db = Database(path / "overcast.db")
    db.migrate("s3", MIGRATIONS[:4])
    for bucket_id, name, region in ((1, "tagged", "us-east-1"), (2, "plain", "eu-west-1")):
        db.execute(
            "INSERT INTO s3_buckets (id, name, account, region, created, ownership) "
            "VALUES (?, ?, ?, ?, 0, 'BucketOwnerEnforced')",
            (bucket_id, name, OWNER, region),
        )
    db.execute(
        "INSERT INTO s3_bucket_configs (bucket_id, kind, config_id, body) VALUES (1, 'tagging', '', ?)",
        (json.dumps({"TagSet": TAGS}),),
    )
    cors = {"CORSRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]}
    db.execute(
        "INSERT INTO s3_bucket_configs (bucket_id, kind, config_id, body) VALUES (1, 'cors', '', ?)",
        (json.dumps(cors),),
    )
    db.close()


def test_bucket_tags_survive_the_move_to_the_kit(tmp_path):
    _old_data_dir(tmp_path)
    with OvercastServer(Config(data_dir=tmp_path, log_level="warning")) as server:
        s3 = server.client("s3")
        assert s3.get_bucket_tagging(Bucket="tagged")["TagSet"] == TAGS  # in the order they were put
        assert s3.get_bucket_cors(Bucket="tagged")["CORSRules"][0]["AllowedMethods"] == ["GET"]
        with pytest.raises(ClientError) as raised:
            s3.get_bucket_tagging(Bucket="plain")
        assert error_of(raised) == ("NoSuchTagSet", 404)
        s3.put_bucket_tagging(Bucket="tagged", Tagging={"TagSet": [{"Key": "team", "Value": "web"}]})
        assert s3.get_bucket_tagging(Bucket="tagged")["TagSet"] == [{"Key": "team", "Value": "web"}]

    db = Database(tmp_path / "overcast.db")
    assert db.one("SELECT version FROM schema_versions WHERE namespace = 's3'") == (len(MIGRATIONS),)
    assert db.all("SELECT kind FROM s3_bucket_configs WHERE kind = 'tagging'") == []
    assert db.all(
        "SELECT arn, tag_key, tag_value, account, region, service, resource_type FROM resource_tags"
    ) == [("arn:aws:s3:::tagged", "team", "web", OWNER, "us-east-1", "s3", "bucket")]
    db.close()


def test_the_move_keeps_every_tag_where_the_tagging_api_finds_it(tmp_path):
    _old_data_dir(tmp_path)
    db = Database(tmp_path / "overcast.db")
    tags = TagStore(db)  # the platform makes the kit's table before any service
    S3Store(db)
    assert tags.tags("arn:aws:s3:::tagged") == {"team": "data", "cost-centre": "42", "empty": ""}
    assert tags.tagged(OWNER, "us-east-1", [("s3", "bucket")], "", 10) == [
        ("arn:aws:s3:::tagged", {"team": "data", "cost-centre": "42", "empty": ""})
    ]
    assert tags.tagged(OWNER, "eu-west-1", [("s3", None)], "", 10) == []
    db.close()

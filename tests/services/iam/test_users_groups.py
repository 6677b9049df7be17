"""IAM users, groups and membership through boto3: ids, ARNs, paths, pagination, conflicts and errors."""

import sqlite3

import pytest
from botocore.exceptions import ClientError

from overcast.config import Config
from overcast.testing import OvercastServer
from tests.helpers import code_of, error_of, message_of


def test_create_user_has_aws_shaped_ids(overcast):
    iam = overcast.client("iam")
    user = iam.create_user(UserName="alice", Path="/engineering/")["User"]
    assert user["UserId"].startswith("AIDA") and len(user["UserId"]) == 21
    assert user["Arn"] == "arn:aws:iam::000000000000:user/engineering/alice"
    assert iam.get_user(UserName="alice")["User"]["UserId"] == user["UserId"]


def test_duplicate_user_names_are_case_insensitive(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="Alice")
    with pytest.raises(ClientError) as raised:
        iam.create_user(UserName="alice")
    assert error_of(raised) == ("EntityAlreadyExists", 409)


def test_missing_user_is_no_such_entity(overcast):
    with pytest.raises(ClientError) as raised:
        overcast.client("iam").get_user(UserName="nobody")
    assert (*error_of(raised), message_of(raised)) == (
        "NoSuchEntity",
        404,
        "The user with name nobody cannot be found.",
    )


def test_list_users_pages_with_marker_and_path_prefix(overcast):
    iam = overcast.client("iam")
    for i in range(5):
        iam.create_user(UserName=f"user{i}", Path="/team/" if i % 2 else "/")
    first = iam.list_users(MaxItems=2)
    assert first["IsTruncated"] and [u["UserName"] for u in first["Users"]] == ["user0", "user1"]
    rest = iam.list_users(Marker=first["Marker"])
    assert [u["UserName"] for u in rest["Users"]] == ["user2", "user3", "user4"] and not rest["IsTruncated"]
    team = iam.list_users(PathPrefix="/team/")["Users"]
    assert [u["UserName"] for u in team] == ["user1", "user3"]
    paginated = [
        u["UserName"]
        for page in iam.get_paginator("list_users").paginate(PaginationConfig={"PageSize": 2})
        for u in page["Users"]
    ]
    assert len(paginated) == 5


def test_rename_user_keeps_policies_and_groups(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="old")
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="old")
    iam.put_user_policy(
        UserName="old",
        PolicyName="p",
        PolicyDocument='{"Version":"2012-10-17","Statement":'
        '[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}',
    )
    iam.update_user(UserName="old", NewUserName="new", NewPath="/moved/")
    assert iam.get_user(UserName="new")["User"]["Arn"].endswith(":user/moved/new")
    assert iam.list_user_policies(UserName="new")["PolicyNames"] == ["p"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="new")["Groups"]] == ["devs"]


def test_rename_group_keeps_members_and_refuses_a_taken_name(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="dana")
    iam.create_group(GroupName="ops")
    iam.create_group(GroupName="taken")
    iam.add_user_to_group(GroupName="ops", UserName="dana")
    with pytest.raises(ClientError) as raised:
        iam.update_group(GroupName="ops", NewGroupName="TAKEN")  # names are case-insensitive
    assert error_of(raised) == ("EntityAlreadyExists", 409)
    iam.update_group(GroupName="ops", NewGroupName="sre", NewPath="/teams/")
    group = iam.get_group(GroupName="sre")
    assert group["Group"]["Arn"].endswith(":group/teams/sre")
    assert [u["UserName"] for u in group["Users"]] == ["dana"]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="dana")["Groups"]] == ["sre"]


def test_delete_user_conflicts_until_cleaned_up(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="carol")
    key = iam.create_access_key(UserName="carol")["AccessKey"]
    with pytest.raises(ClientError) as raised:
        iam.delete_user(UserName="carol")
    assert (*error_of(raised), message_of(raised)) == (
        "DeleteConflict",
        409,
        "Cannot delete entity, must delete access keys first.",
    )
    iam.delete_access_key(UserName="carol", AccessKeyId=key["AccessKeyId"])
    iam.delete_user(UserName="carol")
    with pytest.raises(ClientError):
        iam.get_user(UserName="carol")


def test_groups_membership_and_deletion(overcast):
    iam = overcast.client("iam")
    group = iam.create_group(GroupName="admins")["Group"]
    assert group["GroupId"].startswith("AGPA") and group["Arn"].endswith(":group/admins")
    iam.create_user(UserName="dan")
    iam.add_user_to_group(GroupName="admins", UserName="dan")
    assert [u["UserName"] for u in iam.get_group(GroupName="admins")["Users"]] == ["dan"]
    with pytest.raises(ClientError) as raised:
        iam.delete_group(GroupName="admins")
    assert code_of(raised) == "DeleteConflict"
    iam.remove_user_from_group(GroupName="admins", UserName="dan")
    iam.delete_group(GroupName="admins")
    assert iam.list_groups()["Groups"] == []


def test_user_tags(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="erin", Tags=[{"Key": "team", "Value": "blue"}])
    iam.tag_user(UserName="erin", Tags=[{"Key": "cost", "Value": "42"}])
    iam.untag_user(UserName="erin", TagKeys=["team"])
    assert iam.list_user_tags(UserName="erin")["Tags"] == [{"Key": "cost", "Value": "42"}]


def test_get_user_without_name_is_the_caller(overcast):
    iam = overcast.client("iam")
    iam.create_user(UserName="frank")
    key = iam.create_access_key(UserName="frank")["AccessKey"]
    own = overcast.client(
        "iam", aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"]
    )
    assert own.get_user()["User"]["UserName"] == "frank"


def test_tags_come_back_by_key_and_follow_a_rename(overcast):
    iam = overcast.client("iam")
    tags = [{"Key": "team", "Value": "red"}, {"Key": "env", "Value": "prod"}]
    created = iam.create_user(UserName="tagged", Tags=tags)["User"]
    by_key = sorted(tags, key=lambda t: t["Key"])
    assert created["Tags"] == by_key
    iam.tag_user(UserName="tagged", Tags=[{"Key": "cost", "Value": "42"}])
    iam.update_user(UserName="tagged", NewUserName="renamed", NewPath="/moved/")
    expected = [{"Key": "cost", "Value": "42"}, *by_key]
    assert iam.list_user_tags(UserName="renamed")["Tags"] == expected
    assert iam.get_user(UserName="renamed")["User"]["Tags"] == expected
    iam.create_user(UserName="tagged")  # the old name is free again, and has no tags
    assert iam.list_user_tags(UserName="tagged")["Tags"] == []


def test_a_marker_from_elsewhere_is_refused(overcast):
    iam = overcast.client("iam")
    for name in ("a", "b", "c"):
        iam.create_user(UserName=name)
        iam.create_group(GroupName=name)
    users = iam.list_users(MaxItems=1)
    assert users["IsTruncated"] and users["Users"][0]["UserName"] == "a"
    for marker in ("not-a-marker", users["Marker"]):  # a made-up one, or one of another listing
        with pytest.raises(ClientError) as raised:
            iam.list_groups(Marker=marker)
        assert (*error_of(raised), message_of(raised)) == ("InvalidInput", 400, "Invalid Marker.")
    assert [u["UserName"] for u in iam.list_users(Marker=users["Marker"])["Users"]] == ["b", "c"]


def test_tags_written_by_an_earlier_version_are_kept(tmp_path):
    """Versions before the kit kept IAM's tags in their own table (iam_tags): a data directory they wrote
    still shows its tags, in responses and to the policy engine."""
    config = Config(data_dir=tmp_path, log_level="warning")
    with OvercastServer(config) as server:
        server.client("iam").create_user(UserName="alice")
    with sqlite3.connect(
        tmp_path / "overcast.db"
    ) as db:  # the row an earlier version wrote for Tags=team:red
        db.execute("INSERT INTO iam_tags VALUES ('000000000000', 'user', 'alice', 'team', 'red')")
    db.close()
    with OvercastServer(config) as server:
        iam = server.client("iam")
        assert iam.list_user_tags(UserName="alice")["Tags"] == [{"Key": "team", "Value": "red"}]
        assert iam.get_user(UserName="alice")["User"]["Tags"] == [{"Key": "team", "Value": "red"}]
    with OvercastServer(config) as server:  # moved once: still there after another restart
        assert server.client("iam").list_user_tags(UserName="alice")["Tags"] == [
            {"Key": "team", "Value": "red"}
        ]

"""S3 under `--iam enforce` through the platform's policy engine: the source of a copy is authorized as a read
(issue 13, finding 1); bucket policies are evaluated like every resource policy: an explicit Deny binds the
owner's own users, conditions and NotPrincipal hold (finding 2); PutBucketPolicy validates what it stores."""

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from botocore.exceptions import ClientError

from tests.helpers import error_of, message_of
from tests.policy.servers import client_as, document, user_with_key


def _policy(iam, name: str, *statements) -> str:
    return iam.create_policy(PolicyName=name, PolicyDocument=document(*statements))["Policy"]["Arn"]


@pytest.fixture
def buckets(enforced):
    s3 = enforced.client("s3")
    src, dst = f"src-{uuid.uuid4().hex[:8]}", f"dst-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    s3.put_object(Bucket=src, Key="secret.csv", Body=b"a,b\n1,2\n")
    return s3, src, dst


def _copier(enforced, src: str, dst: str, *extra):
    """A user allowed s3:* on `dst` (and whatever `extra` says), nothing else."""
    iam = enforced.client("iam")
    allow_dst = {
        "Effect": "Allow",
        "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{dst}", f"arn:aws:s3:::{dst}/*"],
    }
    arn = _policy(iam, f"copier-{uuid.uuid4().hex[:6]}", allow_dst, *extra)
    return client_as(enforced, "s3", user_with_key(enforced, f"copier-{uuid.uuid4().hex[:6]}", arn))


def test_copy_object_needs_the_source_read_and_an_explicit_deny_on_it_holds(enforced, buckets):
    s3, src, dst = buckets
    allow_src = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{src}/*"}
    deny_src = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{src}/*"}
    nothing_on_source = _copier(enforced, src, dst)
    denied = _copier(enforced, src, dst, allow_src, deny_src)
    allowed = _copier(enforced, src, dst, allow_src)
    for copier in (nothing_on_source, denied):
        with pytest.raises(ClientError) as raised:
            copier.copy_object(Bucket=dst, Key="stolen.csv", CopySource={"Bucket": src, "Key": "secret.csv"})
        assert error_of(raised) == ("AccessDenied", 403)
        assert f"s3:GetObject on resource: arn:aws:s3:::{src}/secret.csv" in message_of(raised)
    with pytest.raises(ClientError):
        s3.head_object(Bucket=dst, Key="stolen.csv")
    allowed.copy_object(Bucket=dst, Key="copy.csv", CopySource={"Bucket": src, "Key": "secret.csv"})
    assert allowed.get_object(Bucket=dst, Key="copy.csv")["Body"].read() == b"a,b\n1,2\n"


def test_upload_part_copy_needs_the_source_read(enforced, buckets):
    _s3, src, dst = buckets
    deny_src = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{src}/*"}
    copier = _copier(enforced, src, dst, deny_src)
    upload = copier.create_multipart_upload(Bucket=dst, Key="big")["UploadId"]
    with pytest.raises(ClientError) as raised:
        copier.upload_part_copy(
            Bucket=dst,
            Key="big",
            UploadId=upload,
            PartNumber=1,
            CopySource={"Bucket": src, "Key": "secret.csv"},
        )
    assert error_of(raised) == ("AccessDenied", 403)


def test_copying_a_source_version_needs_get_object_version(enforced, buckets):
    s3, src, dst = buckets
    s3.put_bucket_versioning(Bucket=src, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=src, Key="v", Body=b"one")["VersionId"]
    only_current = _copier(
        enforced, src, dst, {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{src}/*"}
    )
    only_current.copy_object(Bucket=dst, Key="latest", CopySource={"Bucket": src, "Key": "v"})
    with pytest.raises(ClientError) as raised:
        only_current.copy_object(
            Bucket=dst, Key="old", CopySource={"Bucket": src, "Key": "v", "VersionId": version}
        )
    assert "s3:GetObjectVersion" in message_of(raised)
    with_versions = _copier(
        enforced,
        src,
        dst,
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:GetObjectVersion"],
            "Resource": f"arn:aws:s3:::{src}/*",
        },
    )
    with_versions.copy_object(
        Bucket=dst, Key="old", CopySource={"Bucket": src, "Key": "v", "VersionId": version}
    )


def _owner_user(enforced):
    iam = enforced.client("iam")
    arn = _policy(
        iam, f"all-s3-{uuid.uuid4().hex[:6]}", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    )
    return client_as(enforced, "s3", user_with_key(enforced, f"dev-{uuid.uuid4().hex[:6]}", arn))


def test_a_bucket_policy_deny_with_a_condition_binds_the_owners_own_users(enforced, buckets):
    s3, bucket, _ = buckets
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "DenyUnencryptedUploads",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                        "Condition": {"Null": {"s3:x-amz-server-side-encryption": "true"}},
                    }
                ],
            }
        ),
    )
    dev = _owner_user(enforced)
    with pytest.raises(ClientError) as raised:
        dev.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert error_of(raised) == ("AccessDenied", 403)
    assert "explicit deny in a resource-based policy" in message_of(raised)
    dev.put_object(Bucket=bucket, Key="sealed", Body=b"x", ServerSideEncryption="AES256")
    assert dev.get_object(Bucket=bucket, Key="sealed")["Body"].read() == b"x"
    with pytest.raises(ClientError) as raised:  # the root of the owning account is bound too
        s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    assert error_of(raised) == ("AccessDenied", 403)


def test_not_principal_in_a_bucket_policy_is_evaluated(enforced, buckets):
    s3, bucket, _ = buckets
    iam = enforced.client("iam")
    arn = _policy(iam, "all-s3", {"Effect": "Allow", "Action": "s3:*", "Resource": "*"})
    boss = client_as(enforced, "s3", user_with_key(enforced, "boss", arn))
    dev = client_as(enforced, "s3", user_with_key(enforced, "dev", arn))
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "NotPrincipal": {"AWS": iam.get_user(UserName="boss")["User"]["Arn"]},
                        "Action": "s3:GetObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                    }
                ],
            }
        ),
    )
    with pytest.raises(ClientError) as raised:
        dev.get_object(Bucket=bucket, Key="secret.csv")
    assert error_of(raised) == ("AccessDenied", 403)
    assert boss.get_object(Bucket=bucket, Key="secret.csv")["Body"].read() == b"a,b\n1,2\n"


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Principal": 7}, "Invalid principal in policy"),
        ({"Principal": ["*"]}, "Invalid principal in policy"),
        ({"Principal": {"AWS": "not-an-account"}}, "Invalid principal in policy"),
        ({"Principal": "*", "Resource": None}, "Policy has invalid resource"),
        ({"Principal": "*", "Resource": "arn:aws:s3:::another-bucket/*"}, "Policy has invalid resource"),
        ({"Principal": "*", "Effect": "Maybe"}, "Invalid effect: Maybe"),
    ],
)
def test_put_bucket_policy_refuses_what_aws_refuses(overcast, statement, message):
    s3 = overcast.client("s3")
    bucket = f"pol-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    base = {"Effect": "Deny", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    policy = {"Version": "2012-10-17", "Statement": [{**base, **statement}]}
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert error_of(raised) == ("MalformedPolicy", 400)
    assert message_of(raised) == message


def test_put_bucket_policy_answers_204(overcast):
    s3 = overcast.client("s3")
    bucket = f"pol-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    policy = document(
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:DeleteBucket",
            "Resource": f"arn:aws:s3:::{bucket}",
        }
    )
    answer = s3.put_bucket_policy(Bucket=bucket, Policy=policy)
    assert answer["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert s3.get_bucket_policy(Bucket=bucket)["Policy"] == policy


def test_a_policy_nested_980_levels_deep_is_malformed_not_a_500(overcast):
    s3 = overcast.client("s3")
    bucket = f"pol-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_policy(Bucket=bucket, Policy='{"a":' * 980 + "1" + "}" * 980)
    assert error_of(raised) == ("MalformedPolicy", 400)


def test_a_request_naming_a_version_is_authorized_as_the_version_action(enforced, buckets):
    s3, bucket, _ = buckets
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    iam = enforced.client("iam")
    versions_only = {
        "Effect": "Allow",
        "Action": "s3:GetObjectVersion",
        "Resource": f"arn:aws:s3:::{bucket}/*",
    }
    reader = client_as(
        enforced, "s3", user_with_key(enforced, "archivist", _policy(iam, "versions", versions_only))
    )
    assert reader.get_object(Bucket=bucket, Key="v", VersionId=version)["Body"].read() == b"one"
    with pytest.raises(ClientError) as raised:
        reader.get_object(Bucket=bucket, Key="v")
    assert "s3:GetObject on resource" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        reader.delete_object(Bucket=bucket, Key="v", VersionId=version)
    assert "s3:DeleteObjectVersion on resource" in message_of(raised)


def test_delete_objects_authorizes_each_key_as_delete_object_would(enforced, buckets):
    """`aws s3 rm --recursive` and boto3's batch deletes use DeleteObjects: a policy on `bucket/*` allows it,
    and each key is authorized on its own (a denied key is an AccessDenied entry of Errors, the rest go)."""
    s3, bucket, _ = buckets
    for key in ("tmp/a", "tmp/b", "keep/c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    iam = enforced.client("iam")
    allow_objects = {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    deny_keep = {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/keep/*"}
    cleaner = client_as(
        enforced,
        "s3",
        user_with_key(enforced, "cleaner", _policy(iam, "cleaner", allow_objects, deny_keep)),
    )
    result = cleaner.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "tmp/a"}, {"Key": "keep/c"}, {"Key": "tmp/b"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["tmp/a", "tmp/b"]
    [error] = result["Errors"]
    assert (error["Key"], error["Code"], error["Message"]) == ("keep/c", "AccessDenied", "Access Denied")
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/c", "secret.csv"]


def test_delete_objects_naming_a_version_needs_delete_object_version(enforced, buckets):
    s3, bucket, _ = buckets
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    version = s3.put_object(Bucket=bucket, Key="v", Body=b"one")["VersionId"]
    iam = enforced.client("iam")
    allow_delete = {"Effect": "Allow", "Action": "s3:DeleteObject", "Resource": f"arn:aws:s3:::{bucket}/*"}
    deleter = client_as(
        enforced, "s3", user_with_key(enforced, "deleter", _policy(iam, "deleter", allow_delete))
    )
    result = deleter.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "v", "VersionId": version}]})
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in result["Errors"]] == [
        ("v", version, "AccessDenied")
    ]
    assert s3.get_object(Bucket=bucket, Key="v", VersionId=version)["Body"].read() == b"one"
    marker = deleter.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "v"}]})["Deleted"][0]
    assert marker["DeleteMarker"] is True


def test_bypassing_governance_retention_needs_its_own_permission(enforced):
    s3 = enforced.client("s3")
    bucket = f"locked-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    until = datetime.now(UTC) + timedelta(days=1)
    versions = [
        s3.put_object(
            Bucket=bucket, Key=key, Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until
        )["VersionId"]
        for key in ("a", "b")
    ]
    iam = enforced.client("iam")
    everything = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    no_bypass = {"Effect": "Deny", "Action": "s3:BypassGovernanceRetention", "Resource": "*"}
    plain = client_as(
        enforced, "s3", user_with_key(enforced, "plain", _policy(iam, "plain", everything, no_bypass))
    )
    admin = client_as(enforced, "s3", user_with_key(enforced, "admin", _policy(iam, "admin", everything)))

    with pytest.raises(ClientError) as raised:
        plain.delete_object(Bucket=bucket, Key="a", VersionId=versions[0], BypassGovernanceRetention=True)
    assert error_of(raised) == ("AccessDenied", 403)
    assert "s3:BypassGovernanceRetention" in message_of(raised)
    refused = plain.delete_objects(
        Bucket=bucket,
        Delete={"Objects": [{"Key": "b", "VersionId": versions[1]}]},
        BypassGovernanceRetention=True,
    )
    assert [(e["Key"], e["Code"]) for e in refused["Errors"]] == [("b", "AccessDenied")]
    with pytest.raises(ClientError) as raised:
        plain.put_object_retention(
            Bucket=bucket,
            Key="a",
            VersionId=versions[0],
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until - timedelta(hours=1)},
            BypassGovernanceRetention=True,
        )
    assert "s3:BypassGovernanceRetention" in message_of(raised)

    admin.delete_object(Bucket=bucket, Key="a", VersionId=versions[0], BypassGovernanceRetention=True)
    assert "Versions" not in s3.list_object_versions(Bucket=bucket, Prefix="a")


def _writer(enforced, name: str, bucket: str, *actions: str):
    iam = enforced.client("iam")
    allow = {"Effect": "Allow", "Action": ["s3:PutObject", *actions], "Resource": f"arn:aws:s3:::{bucket}/*"}
    return client_as(enforced, "s3", user_with_key(enforced, name, _policy(iam, name, allow)))


def test_writing_tags_or_an_acl_with_an_object_needs_their_own_permissions(enforced, buckets):
    """AWS's conditionally required permissions: tags set by PutObject, CreateMultipartUpload or a copy that
    replaces them need s3:PutObjectTagging; an ACL set with the object needs s3:PutObjectAcl."""
    _s3, src, bucket = buckets
    plain = _writer(enforced, "plain-writer", bucket, "s3:GetObject")
    plain.put_object(Bucket=bucket, Key="a", Body=b"x")
    refused = [
        lambda: plain.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="team=blue"),
        lambda: plain.put_object(Bucket=bucket, Key="t", Body=b"x", ACL="bucket-owner-full-control"),
        lambda: plain.create_multipart_upload(Bucket=bucket, Key="t", Tagging="team=blue"),
        lambda: plain.copy_object(
            Bucket=bucket,
            Key="t",
            CopySource={"Bucket": bucket, "Key": "a"},
            TaggingDirective="REPLACE",
            Tagging="team=blue",
        ),
    ]
    for attempt, action in zip(refused, ["Tagging", "Acl", "Tagging", "Tagging"], strict=True):
        with pytest.raises(ClientError) as raised:
            attempt()
        assert error_of(raised) == ("AccessDenied", 403)
        assert f"s3:PutObject{action} on resource: arn:aws:s3:::{bucket}/t" in message_of(raised)
    plain.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "a"})  # tags copied

    tagger = _writer(enforced, "tagger", bucket, "s3:GetObject", "s3:PutObjectTagging", "s3:GetObjectTagging")
    tagger.put_object(Bucket=bucket, Key="t", Body=b"x", Tagging="team=blue")
    assert tagger.get_object_tagging(Bucket=bucket, Key="t")["TagSet"] == [{"Key": "team", "Value": "blue"}]


def test_creating_a_bucket_with_settings_needs_the_settings_permissions(enforced):
    iam = enforced.client("iam")
    allow = {"Effect": "Allow", "Action": "s3:CreateBucket", "Resource": "*"}
    creator = client_as(enforced, "s3", user_with_key(enforced, "creator", _policy(iam, "creator", allow)))
    name = f"made-{uuid.uuid4().hex[:8]}"
    refused = {
        "s3:PutBucketObjectLockConfiguration": {"ObjectLockEnabledForBucket": True},
        "s3:PutBucketOwnershipControls": {"ObjectOwnership": "ObjectWriter"},
        "s3:TagResource": {"CreateBucketConfiguration": {"Tags": [{"Key": "team", "Value": "blue"}]}},
        "s3:PutBucketAcl": {"ACL": "private"},
    }
    for action, settings in refused.items():
        with pytest.raises(ClientError) as raised:
            creator.create_bucket(Bucket=name, **settings)
        assert error_of(raised) == ("AccessDenied", 403)
        assert f"{action} on resource: arn:aws:s3:::{name}" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        enforced.client("s3").head_bucket(Bucket=name)
    assert error_of(raised)[1] == 404
    creator.create_bucket(Bucket=name)


def test_policies_can_test_an_objects_existing_tags(enforced, buckets):
    """s3:ExistingObjectTag/<key>: reads allowed by the object's own tags (AWS's object ABAC)."""
    s3, bucket, _ = buckets
    s3.put_object(Bucket=bucket, Key="open", Body=b"o", Tagging="classification=public")
    s3.put_object(Bucket=bucket, Key="closed", Body=b"c", Tagging="classification=secret")
    s3.put_object(Bucket=bucket, Key="untagged", Body=b"u")
    iam = enforced.client("iam")
    public_only = {
        "Effect": "Allow",
        "Action": ["s3:GetObject", "s3:GetObjectTagging"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"s3:ExistingObjectTag/classification": "public"}},
    }
    reader = client_as(
        enforced, "s3", user_with_key(enforced, "tag-reader", _policy(iam, "tag-reader", public_only))
    )
    assert reader.get_object(Bucket=bucket, Key="open")["Body"].read() == b"o"
    assert reader.get_object_tagging(Bucket=bucket, Key="open")["TagSet"][0]["Value"] == "public"
    for key in ("closed", "untagged"):
        with pytest.raises(ClientError) as raised:
            reader.get_object(Bucket=bucket, Key=key)
        assert error_of(raised) == ("AccessDenied", 403)


def test_configuration_deletes_and_lists_are_authorized_as_aws_names_them(enforced, buckets):
    """Deleting a configuration is its Put action, listing them its Get action (there is no
    s3:DeletePublicAccessBlock or s3:ListBucketInventoryConfigurations)."""
    s3, bucket, _ = buckets
    inventory = {
        "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{bucket}", "Format": "CSV"}},
        "IsEnabled": True,
        "Id": "weekly",
        "IncludedObjectVersions": "Current",
        "Schedule": {"Frequency": "Weekly"},
    }
    s3.put_bucket_inventory_configuration(Bucket=bucket, Id="weekly", InventoryConfiguration=inventory)
    iam = enforced.client("iam")
    allow = {
        "Effect": "Allow",
        "Action": [
            "s3:GetInventoryConfiguration",
            "s3:PutInventoryConfiguration",
            "s3:PutBucketPublicAccessBlock",
            "s3:PutBucketOwnershipControls",
            "s3:PutMetricsConfiguration",
        ],
        "Resource": f"arn:aws:s3:::{bucket}",
    }
    admin = client_as(
        enforced, "s3", user_with_key(enforced, "config-admin", _policy(iam, "config-admin", allow))
    )
    listed = admin.list_bucket_inventory_configurations(Bucket=bucket)["InventoryConfigurationList"]
    assert [c["Id"] for c in listed] == ["weekly"]
    admin.delete_bucket_inventory_configuration(Bucket=bucket, Id="weekly")
    admin.delete_public_access_block(Bucket=bucket)
    admin.delete_bucket_ownership_controls(Bucket=bucket)
    with pytest.raises(ClientError) as raised:
        admin.delete_bucket_metrics_configuration(Bucket=bucket, Id="none")
    assert error_of(raised)[1] == 404  # allowed, and there is no such configuration
    with pytest.raises(ClientError) as raised:
        admin.list_bucket_metrics_configurations(Bucket=bucket)
    assert "s3:GetMetricsConfiguration" in message_of(raised)


def test_get_object_attributes_needs_the_read_and_the_attributes_permissions(enforced, buckets):
    s3, bucket, other = buckets
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_versioning(Bucket=other, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=other, Key="k", Body=b"x")
    iam = enforced.client("iam")

    def reader(name, *actions):
        allow = {"Effect": "Allow", "Action": list(actions), "Resource": "arn:aws:s3:::*/*"}
        return client_as(enforced, "s3", user_with_key(enforced, name, _policy(iam, name, allow)))

    plain = reader("attr-plain", "s3:GetObject", "s3:GetObjectAttributes")
    versions = reader("attr-versions", "s3:GetObjectVersion", "s3:GetObjectVersionAttributes")
    only_read = reader("attr-read", "s3:GetObject", "s3:GetObjectVersion")
    wanted = ["ObjectSize"]
    assert plain.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=wanted)["ObjectSize"] == 1
    assert versions.get_object_attributes(Bucket=other, Key="k", ObjectAttributes=wanted)["ObjectSize"] == 1
    for client, name, action in (
        (only_read, bucket, "s3:GetObjectAttributes"),
        (plain, other, "s3:GetObjectVersionAttributes"),  # a versioned bucket: the version permissions
        (versions, bucket, "s3:GetObjectAttributes"),
    ):
        with pytest.raises(ClientError) as raised:
            client.get_object_attributes(Bucket=name, Key="k", ObjectAttributes=wanted)
        assert f"{action} on resource" in message_of(raised)


def test_the_owners_root_can_always_manage_a_policy_that_locks_everyone_out(enforced, buckets):
    """AWS: the bucket owner's root may Get/Put/DeleteBucketPolicy even when the policy denies it."""
    s3, bucket, _ = buckets
    deny_all = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
            }
        ],
    }
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny_all))
    with pytest.raises(ClientError) as raised:
        s3.get_object(Bucket=bucket, Key="secret.csv")
    assert error_of(raised) == ("AccessDenied", 403)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == deny_all
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny_all))
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="secret.csv")["Body"].read() == b"a,b\n1,2\n"
    everything = {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}
    iam = enforced.client("iam")
    admin = client_as(
        enforced, "s3", user_with_key(enforced, "policy-admin", _policy(iam, "policy-admin", everything))
    )
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(deny_all))
    with pytest.raises(ClientError) as raised:  # the owner's users stay bound by it
        admin.delete_bucket_policy(Bucket=bucket)
    assert error_of(raised) == ("AccessDenied", 403)


@pytest.mark.parametrize(("account", "allowed"), [("000000000000", True), ("999999999999", False)])
def test_policies_can_pin_the_buckets_account(enforced, buckets, account, allowed):
    """s3:ResourceAccount: the account that owns the bucket (data-perimeter policies)."""
    s3, bucket, _ = buckets
    iam = enforced.client("iam")
    pinned = {
        "Effect": "Allow",
        "Action": "s3:GetObject",
        "Resource": "*",
        "Condition": {"StringEquals": {"s3:ResourceAccount": account}},
    }
    name = f"pinned-{account[:3]}"
    reader = client_as(enforced, "s3", user_with_key(enforced, name, _policy(iam, name, pinned)))
    if allowed:
        assert reader.get_object(Bucket=bucket, Key="secret.csv")["Body"].read() == b"a,b\n1,2\n"
    else:
        with pytest.raises(ClientError) as raised:
            reader.get_object(Bucket=bucket, Key="secret.csv")
        assert error_of(raised) == ("AccessDenied", 403)


def test_a_bucket_policy_can_require_conditional_writes(enforced, buckets):
    """AWS's example: Deny s3:PutObject unless the request carries If-None-Match (s3:if-none-match)."""
    s3, bucket, _ = buckets
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                        "Condition": {"Null": {"s3:if-none-match": "true"}},
                    }
                ],
            }
        ),
    )
    writer = _owner_user(enforced)
    with pytest.raises(ClientError) as raised:
        writer.put_object(Bucket=bucket, Key="new", Body=b"x")
    assert error_of(raised) == ("AccessDenied", 403)
    writer.put_object(Bucket=bucket, Key="new", Body=b"x", IfNoneMatch="*")


def test_an_identity_policy_can_require_settings_of_new_buckets(enforced):
    """s3:x-amz-object-ownership and s3:LocationConstraint on CreateBucket (AWS's policy examples)."""
    iam = enforced.client("iam")
    allow = {
        "Effect": "Allow",
        "Action": "s3:CreateBucket",
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "s3:x-amz-object-ownership": "BucketOwnerEnforced",
                "s3:LocationConstraint": "eu-west-1",
            }
        },
    }
    also = {"Effect": "Allow", "Action": "s3:PutBucketOwnershipControls", "Resource": "*"}
    creator = client_as(
        enforced, "s3", user_with_key(enforced, "pinned-creator", _policy(iam, "pinned-creator", allow, also))
    )
    name = f"pinned-{uuid.uuid4().hex[:8]}"
    for settings in (
        {"ObjectOwnership": "ObjectWriter", "CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}},
        {
            "ObjectOwnership": "BucketOwnerEnforced",
            "CreateBucketConfiguration": {"LocationConstraint": "us-west-2"},
        },
        {"ObjectOwnership": "BucketOwnerEnforced"},
    ):
        with pytest.raises(ClientError) as raised:
            creator.create_bucket(Bucket=name, **settings)
        assert error_of(raised) == ("AccessDenied", 403)
    eu = enforced.client("s3", region="eu-west-1")
    eu_creator = client_as(
        enforced,
        "s3",
        user_with_key(enforced, "pinned-eu", _policy(iam, "pinned-eu", allow, also)),
        "eu-west-1",
    )
    eu_creator.create_bucket(
        Bucket=name,
        ObjectOwnership="BucketOwnerEnforced",
        CreateBucketConfiguration={"LocationConstraint": "eu-west-1"},
    )
    assert eu.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"


def test_a_bucket_policy_can_cap_retention_periods(enforced):
    """AWS's example: deny retention longer than N days (s3:object-lock-remaining-retention-days)."""
    s3 = enforced.client("s3")
    bucket = f"capped-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": ["s3:PutObjectRetention", "s3:PutObject"],
                        "Resource": f"arn:aws:s3:::{bucket}/*",
                        "Condition": {
                            "NumericGreaterThan": {"s3:object-lock-remaining-retention-days": "10"}
                        },
                    }
                ],
            }
        ),
    )
    writer = _owner_user(enforced)
    now = datetime.now(UTC)
    with pytest.raises(ClientError) as raised:
        writer.put_object(
            Bucket=bucket,
            Key="k",
            Body=b"x",
            ObjectLockMode="GOVERNANCE",
            ObjectLockRetainUntilDate=now + timedelta(days=30),
        )
    assert error_of(raised) == ("AccessDenied", 403)
    writer.put_object(
        Bucket=bucket,
        Key="k",
        Body=b"x",
        ObjectLockMode="GOVERNANCE",
        ObjectLockRetainUntilDate=now + timedelta(days=5),
    )
    with pytest.raises(ClientError) as raised:
        writer.put_object_retention(
            Bucket=bucket,
            Key="k",
            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + timedelta(days=20)},
        )
    assert error_of(raised) == ("AccessDenied", 403)
    writer.put_object_retention(
        Bucket=bucket, Key="k", Retention={"Mode": "GOVERNANCE", "RetainUntilDate": now + timedelta(days=8)}
    )


def test_put_object_tagging_is_tested_against_the_requested_tags(enforced, buckets):
    """s3:RequestObjectTagKeys on PutObjectTagging (its TagSet), as on PutObject (its x-amz-tagging)."""
    s3, bucket, _ = buckets
    iam = enforced.client("iam")
    only_team = {
        "Effect": "Allow",
        "Action": ["s3:PutObjectTagging", "s3:PutObject"],
        "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"ForAllValues:StringEquals": {"s3:RequestObjectTagKeys": ["team"]}},
    }
    tagger = client_as(
        enforced, "s3", user_with_key(enforced, "team-tagger", _policy(iam, "team-tagger", only_team))
    )
    tagger.put_object_tagging(
        Bucket=bucket, Key="secret.csv", Tagging={"TagSet": [{"Key": "team", "Value": "a"}]}
    )
    with pytest.raises(ClientError) as raised:
        tagger.put_object_tagging(
            Bucket=bucket, Key="secret.csv", Tagging={"TagSet": [{"Key": "cost", "Value": "b"}]}
        )
    assert error_of(raised) == ("AccessDenied", 403)
    with pytest.raises(ClientError) as raised:
        tagger.put_object(Bucket=bucket, Key="new", Body=b"x", Tagging="cost=b")
    assert error_of(raised) == ("AccessDenied", 403)
    tagger.put_object(Bucket=bucket, Key="new", Body=b"x", Tagging="team=b")

"""The AWS CLI assumes a role from a named profile (role_arn + source_profile) against Overcast."""

import pytest

from tests.helpers import aws
from tests.policy.servers import document


@pytest.mark.slow
def test_cli_profile_with_role_arn_assumes_the_role(overcast, tmp_path):
    iam = overcast.client("iam")
    iam.create_user(UserName="cli-user")
    key = iam.create_access_key(UserName="cli-user")["AccessKey"]
    role = iam.create_role(
        RoleName="cli-role",
        AssumeRolePolicyDocument=document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::000000000000:user/cli-user"},
                "Action": "sts:AssumeRole",
            }
        ),
    )["Role"]["Arn"]
    config = tmp_path / "config"
    config.write_text(
        "[profile base]\nregion = us-east-1\n"
        f"[profile deploy]\nrole_arn = {role}\nsource_profile = base\nrole_session_name = from-cli\n"
        "region = us-east-1\n"
    )
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[base]\naws_access_key_id = {key['AccessKeyId']}\n"
        f"aws_secret_access_key = {key['SecretAccessKey']}\n"
    )
    # An explicit --profile makes the CLI ignore AWS_* credentials in the environment.
    env = {
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
        "HOME": str(tmp_path),
    }
    assumed = aws(overcast, "sts", "get-caller-identity", "--profile", "deploy", env=env)
    assert assumed["Arn"] == "arn:aws:sts::000000000000:assumed-role/cli-role/from-cli"
    base = aws(overcast, "sts", "get-caller-identity", "--profile", "base", env=env)
    assert base["Arn"] == "arn:aws:iam::000000000000:user/cli-user"

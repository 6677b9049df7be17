"""The Python runtimes ship boto3 and botocore as AWS's do, and a function's own packaged copy wins."""

SHOW_SDK = """
import boto3, botocore
def handler(event, context):
    return {"boto3": boto3.__version__, "botocore": botocore.__version__, "from": boto3.__file__}
"""


def test_runtime_sdk_is_there(make_function, invoke_json):
    make_function("sdk-runtime", SHOW_SDK)
    _, payload = invoke_json("sdk-runtime")
    assert payload["boto3"] and payload["botocore"]
    assert "/site-packages/" in payload["from"]


def test_packaged_boto3_wins(make_function, invoke_json):
    own = {"app.py": SHOW_SDK, "boto3/__init__.py": "__version__ = '0.0-packaged'\n"}
    make_function("sdk-packaged", files=own)
    _, payload = invoke_json("sdk-packaged")
    assert payload["boto3"] == "0.0-packaged" and "/site-packages/" not in payload["from"]

"""The REST API control plane: AWS's defaults, errors and patch operations; OpenAPI import and export;
TestInvokeMethod; the AWS CLI."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tests.helpers import aws, error_of, message_of
from tests.services.apigateway.conftest import call, resource_at


def test_a_new_api_has_a_root_resource_and_the_default_models(apigw):
    api = apigw.create_rest_api(name="fresh", description="d")
    assert api["apiKeySource"] == "HEADER"
    assert api["endpointConfiguration"] == {"types": ["EDGE"], "ipAddressType": "ipv4"}
    assert api["disableExecuteApiEndpoint"] is False
    resources = apigw.get_resources(restApiId=api["id"])["items"]
    assert resources == [{"id": api["rootResourceId"], "path": "/"}]
    assert sorted(m["name"] for m in apigw.get_models(restApiId=api["id"])["items"]) == ["Empty", "Error"]
    assert [a["id"] for a in apigw.get_rest_apis()["items"]] == [api["id"]]


def test_errors_are_awss(apigw):
    with pytest.raises(ClientError) as raised:
        apigw.get_rest_api(restApiId="missing")
    assert error_of(raised) == ("NotFoundException", 404)
    assert message_of(raised) == "Invalid API identifier specified 000000000000:missing"
    api = apigw.create_rest_api(name="e")
    with pytest.raises(ClientError) as raised:
        apigw.get_resource(restApiId=api["id"], resourceId="nope")
    assert message_of(raised) == "Invalid Resource identifier specified"
    root = api["rootResourceId"]
    apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="a")
    with pytest.raises(ClientError) as raised:
        apigw.create_resource(restApiId=api["id"], parentId=root, pathPart="a")
    assert error_of(raised) == ("ConflictException", 409)
    with pytest.raises(ClientError) as raised:
        apigw.get_method(restApiId=api["id"], resourceId=root, httpMethod="GET")
    assert message_of(raised) == "Invalid Method identifier specified"
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE")
    with pytest.raises(ClientError) as raised:
        apigw.get_integration(restApiId=api["id"], resourceId=root, httpMethod="GET")
    assert message_of(raised) == "No integration defined for method"
    with pytest.raises(ClientError) as raised:
        apigw.create_deployment(restApiId=api["id"], stageName="x")
    assert error_of(raised) == ("BadRequestException", 400)
    assert message_of(raised) == "No integration defined for method"
    with pytest.raises(ClientError) as raised:
        apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="POST", authorizationType="CUSTOM")
    assert error_of(raised) == ("BadRequestException", 400)
    with pytest.raises(ClientError) as raised:
        apigw.update_rest_api(
            restApiId=api["id"], patchOperations=[{"op": "replace", "path": "/nope", "value": "x"}]
        )
    assert message_of(raised) == "Invalid patch path /nope"


def test_patch_operations(apigw):
    api = apigw.create_rest_api(name="p")
    updated = apigw.update_rest_api(
        restApiId=api["id"],
        patchOperations=[
            {"op": "replace", "path": "/name", "value": "renamed"},
            {"op": "add", "path": "/binaryMediaTypes/image~1png", "value": ""},
            {"op": "replace", "path": "/endpointConfiguration/types/0", "value": "REGIONAL"},
        ],
    )
    assert updated["name"] == "renamed"
    assert updated["binaryMediaTypes"] == ["image/png"]
    assert updated["endpointConfiguration"]["types"] == ["REGIONAL"]
    updated = apigw.update_rest_api(
        restApiId=api["id"], patchOperations=[{"op": "remove", "path": "/binaryMediaTypes/image~1png"}]
    )
    assert "binaryMediaTypes" not in updated


def test_resources_methods_and_integrations_round_trip(apigw):
    api = apigw.create_rest_api(name="r")
    pets = resource_at(apigw, api["id"], "/pets/{id}")
    method = apigw.put_method(
        restApiId=api["id"],
        resourceId=pets,
        httpMethod="GET",
        authorizationType="NONE",
        requestParameters={"method.request.path.id": True},
    )
    assert method == {**method, "httpMethod": "GET", "authorizationType": "NONE", "apiKeyRequired": False}
    integration = apigw.put_integration(
        restApiId=api["id"],
        resourceId=pets,
        httpMethod="GET",
        type="HTTP",
        integrationHttpMethod="GET",
        uri="http://example.com/pets/{id}",
    )
    assert integration["passthroughBehavior"] == "WHEN_NO_MATCH"
    assert integration["timeoutInMillis"] == 29000
    assert integration["cacheNamespace"] == pets
    apigw.put_method_response(restApiId=api["id"], resourceId=pets, httpMethod="GET", statusCode="200")
    apigw.put_integration_response(
        restApiId=api["id"], resourceId=pets, httpMethod="GET", statusCode="200", selectionPattern=""
    )
    embedded = apigw.get_resource(restApiId=api["id"], resourceId=pets, embed=["methods"])
    got = embedded["resourceMethods"]["GET"]
    assert got["methodIntegration"]["integrationResponses"]["200"]["statusCode"] == "200"
    assert got["methodResponses"]["200"] == {"statusCode": "200"}
    listed = {r["path"]: r for r in apigw.get_resources(restApiId=api["id"])["items"]}
    assert listed["/pets/{id}"]["resourceMethods"] == {"GET": {}}
    apigw.delete_resource(restApiId=api["id"], resourceId=listed["/pets"]["id"])
    assert [r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]] == ["/"]


OPENAPI = {
    "openapi": "3.0.1",
    "info": {"title": "PetStore", "version": "1.0"},
    "paths": {
        "/pets": {
            "get": {
                "parameters": [
                    {"name": "type", "in": "query", "required": False, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{"statusCode": 200}'},
                    "responses": {
                        "default": {
                            "statusCode": "200",
                            "responseTemplates": {
                                "application/json": '[{"id": 1, "type": "$input.params(\'type\')"}]'
                            },
                        }
                    },
                },
            },
            "post": {
                "requestBody": {
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}
                },
                "x-amazon-apigateway-request-validator": "body",
                "responses": {"200": {"description": "ok"}},
                "x-amazon-apigateway-integration": {
                    "type": "mock",
                    "requestTemplates": {"application/json": '{"statusCode": 200}'},
                    "responses": {"default": {"statusCode": "200"}},
                },
            },
        }
    },
    "components": {
        "schemas": {
            "Pet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
        }
    },
    "x-amazon-apigateway-request-validators": {
        "body": {"validateRequestBody": True, "validateRequestParameters": False}
    },
}


def test_import_deploy_and_export_openapi(overcast, apigw):
    api = apigw.import_rest_api(body=json.dumps(OPENAPI).encode())
    assert api["name"] == "PetStore" and api["version"] == "1.0"
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    answer = call(overcast, api["id"], "v1", "/pets?type=cat")
    assert answer.status == 200 and answer.json() == [{"id": 1, "type": "cat"}]
    bad = call(
        overcast,
        api["id"],
        "v1",
        "/pets",
        method="POST",
        body={"nope": 1},
        headers={"Content-Type": "application/json"},
    )
    assert bad.status == 400 and bad.json() == {"message": "Invalid request body"}
    exported = apigw.get_export(
        restApiId=api["id"], stageName="v1", exportType="oas30", parameters={"extensions": "integrations"}
    )
    document = json.loads(exported["body"].read())
    assert document["openapi"].startswith("3.0")
    assert set(document["paths"]["/pets"]) == {"get", "post"}
    assert document["paths"]["/pets"]["get"]["x-amazon-apigateway-integration"]["type"] == "mock"
    assert "Pet" in document["components"]["schemas"]
    swagger = json.loads(
        apigw.get_export(restApiId=api["id"], stageName="v1", exportType="swagger")["body"].read()
    )
    assert swagger["swagger"] == "2.0" and swagger["basePath"] == "/v1"
    # PutRestApi overwrite replaces the definition
    smaller = {**OPENAPI, "paths": {"/only": OPENAPI["paths"]["/pets"]}}
    apigw.put_rest_api(restApiId=api["id"], mode="overwrite", body=json.dumps(smaller).encode())
    assert sorted(r["path"] for r in apigw.get_resources(restApiId=api["id"])["items"]) == ["/", "/only"]


def test_test_invoke_method_runs_the_undeployed_api(apigw):
    api = apigw.import_rest_api(body=json.dumps(OPENAPI).encode())
    resources = {r["path"]: r["id"] for r in apigw.get_resources(restApiId=api["id"])["items"]}
    result = apigw.test_invoke_method(
        restApiId=api["id"],
        resourceId=resources["/pets"],
        httpMethod="GET",
        pathWithQueryString="/pets?type=dog",
    )
    assert result["status"] == 200
    assert json.loads(result["body"]) == [{"id": 1, "type": "dog"}]
    assert "Method completed with status: 200" in result["log"]


def test_stages_deployments_and_tags(apigw):
    api = apigw.import_rest_api(body=json.dumps(OPENAPI).encode())
    deployment = apigw.create_deployment(restApiId=api["id"], description="first")
    stage = apigw.create_stage(
        restApiId=api["id"],
        stageName="beta",
        deploymentId=deployment["id"],
        variables={"a": "1"},
        tags={"team": "x"},
    )
    assert stage["tags"] == {"team": "x"} and stage["variables"] == {"a": "1"}
    with pytest.raises(ClientError) as raised:
        apigw.create_stage(restApiId=api["id"], stageName="beta", deploymentId=deployment["id"])
    assert error_of(raised) == ("ConflictException", 409)
    with pytest.raises(ClientError) as raised:
        apigw.delete_deployment(restApiId=api["id"], deploymentId=deployment["id"])
    assert error_of(raised) == ("BadRequestException", 400)
    arn = f"arn:aws:apigateway:us-east-1::/restapis/{api['id']}"
    apigw.tag_resource(resourceArn=arn, tags={"env": "dev"})
    assert apigw.get_tags(resourceArn=arn)["tags"] == {"env": "dev"}
    assert apigw.get_rest_api(restApiId=api["id"])["tags"] == {"env": "dev"}
    apigw.untag_resource(resourceArn=arn, tagKeys=["env"])
    assert apigw.get_tags(resourceArn=arn)["tags"] == {}
    stage = apigw.update_stage(
        restApiId=api["id"],
        stageName="beta",
        patchOperations=[
            {"op": "replace", "path": "/variables/b", "value": "2"},
            {"op": "remove", "path": "/variables/a"},
            {"op": "replace", "path": "/~1pets/GET/caching/enabled", "value": "true"},
        ],
    )
    assert stage["variables"] == {"b": "2"}
    assert stage["methodSettings"]["pets/GET"]["cachingEnabled"] is True
    assert [s["stageName"] for s in apigw.get_stages(restApiId=api["id"])["item"]] == ["beta"]


MOCK_COUNTER = """
import json
def handler(event, context):
    return {"statusCode": 200, "body": json.dumps({"run": context.aws_request_id})}
"""


def test_stage_cache_serves_within_its_ttl(overcast, apigw, lam, make_function):
    """Each invocation of the function answers its own request id: a cached answer repeats an earlier one."""
    from tests.services.apigateway.conftest import allow_invoke, proxy_method

    arn = make_function("counter", MOCK_COUNTER)
    api = apigw.create_rest_api(name="cached")
    proxy_method(apigw, api["id"], "/n", "GET", arn)
    allow_invoke(lam, "counter", api["id"])
    apigw.create_deployment(
        restApiId=api["id"], stageName="prod", cacheClusterEnabled=True, cacheClusterSize="0.5"
    )
    apigw.update_stage(
        restApiId=api["id"],
        stageName="prod",
        patchOperations=[
            {"op": "replace", "path": "/*/*/caching/enabled", "value": "true"},
            {"op": "replace", "path": "/*/*/caching/ttlInSeconds", "value": "60"},
        ],
    )

    def run() -> str:
        return call(overcast, api["id"], "prod", "/n").json()["run"]

    first = run()
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", overcast.config.port, timeout=30)
    connection.request("GET", f"/_overcast/execute-api/{api['id']}/prod/n")
    hit = connection.getresponse()
    assert json.loads(hit.read())["run"] == first
    assert len([v for k, v in hit.getheaders() if k.lower() == "x-amzn-requestid"]) == 1  # its own, only
    connection.close()
    overcast.advance_clock("61s")
    expired = run()
    assert expired != first
    apigw.flush_stage_cache(restApiId=api["id"], stageName="prod")
    flushed = run()
    assert flushed not in (first, expired)
    assert run() == flushed
    # a canary taking every request skips the stage cache unless its useStageCache says otherwise
    apigw.create_deployment(
        restApiId=api["id"],
        stageName="prod",
        canarySettings={"percentTraffic": 100.0, "useStageCache": False},
    )
    one, two = run(), run()
    assert len({one, two, flushed}) == 3
    apigw.update_stage(
        restApiId=api["id"],
        stageName="prod",
        patchOperations=[{"op": "replace", "path": "/canarySettings/useStageCache", "value": "true"}],
    )
    assert run() == flushed  # the stage's cached answer


@pytest.mark.slow
def test_the_aws_cli(overcast):
    api = aws(overcast, "apigateway", "create-rest-api", "--name", "cli-api")
    assert api["name"] == "cli-api"
    listed = aws(overcast, "apigateway", "get-rest-apis")
    assert [item["id"] for item in listed["items"]] == [api["id"]]


def test_access_logs_reach_cloudwatch_logs(overcast, apigw):
    from tests.waiting import wait_for

    logs = overcast.client("logs")
    logs.create_log_group(logGroupName="api-access")
    api = apigw.import_rest_api(body=json.dumps(OPENAPI).encode())
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    apigw.update_stage(
        restApiId=api["id"],
        stageName="v1",
        patchOperations=[
            {
                "op": "replace",
                "path": "/accessLogSettings/destinationArn",
                "value": "arn:aws:logs:us-east-1:000000000000:log-group:api-access",
            },
            {
                "op": "replace",
                "path": "/accessLogSettings/format",
                "value": '{"requestId":"$context.requestId","method":"$context.httpMethod","path":"$context.resourcePath","status":"$context.status"}',
            },
        ],
    )
    answer = call(overcast, api["id"], "v1", "/pets")
    events = wait_for(lambda: logs.filter_log_events(logGroupName="api-access")["events"], timeout=30)
    line = json.loads(events[0]["message"])
    assert line == {
        "requestId": answer.headers["x-amzn-requestid"],
        "method": "GET",
        "path": "/pets",
        "status": "200",
    }


def test_a_resource_policy_denies_by_source_ip(overcast, apigw):
    api = apigw.import_rest_api(body=json.dumps(OPENAPI).encode())
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*",
            },
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "execute-api:Invoke",
                "Resource": "execute-api:/*/POST/*",
                "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}},
            },
        ],
    }
    apigw.update_rest_api(
        restApiId=api["id"],
        patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}],
    )
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    assert call(overcast, api["id"], "v1", "/pets").status == 200
    denied = call(
        overcast,
        api["id"],
        "v1",
        "/pets",
        method="POST",
        body={"name": "x"},
        headers={"Content-Type": "application/json"},
    )
    assert denied.status == 403
    assert denied.json()["message"] == (
        "User: anonymous is not authorized to perform: execute-api:Invoke on resource: "
        f"arn:aws:execute-api:us-east-1:000000000000:{api['id']}/v1/POST/pets with an explicit deny"
    )


@pytest.mark.parametrize(
    "body",
    [
        b"not a definition",
        b'{"openapi": "3.0.1", "paths": {"/x": {"get": {"parameters": "nope"}}}}',
        b'{"swagger": "2.0", "paths": {"/x": {"get": {"responses": [1, 2]}}}}',
        b'{"openapi": "3.0.1", "paths": {"/x": {"get": {"x-amazon-apigateway-integration": {"responses": {"default": 5}}}}}}',
    ],
)
def test_bad_definitions_are_bad_requests(apigw, body):
    with pytest.raises(ClientError) as raised:
        apigw.import_rest_api(body=body)
    assert error_of(raised) == ("BadRequestException", 400)


def test_bad_templates_are_refused_when_put(apigw):
    api = apigw.create_rest_api(name="t")
    root = api["rootResourceId"]
    apigw.put_method(restApiId=api["id"], resourceId=root, httpMethod="GET", authorizationType="NONE")
    with pytest.raises(ClientError) as raised:
        apigw.put_integration(
            restApiId=api["id"],
            resourceId=root,
            httpMethod="GET",
            type="MOCK",
            requestTemplates={"application/json": "#if($x"},
        )
    assert error_of(raised) == ("BadRequestException", 400)


def test_documentation_parts_versions_and_vpc_links(apigw):
    api = apigw.create_rest_api(name="documented")
    part = apigw.create_documentation_part(
        restApiId=api["id"],
        location={"type": "METHOD", "path": "/pets", "method": "GET"},
        properties='{"description": "Lists pets"}',
    )
    assert part["location"] == {"type": "METHOD", "path": "/pets", "method": "GET"}
    with pytest.raises(ClientError) as raised:
        apigw.create_documentation_part(
            restApiId=api["id"],
            location={"type": "METHOD", "path": "/pets", "method": "GET"},
            properties="{}",
        )
    assert error_of(raised) == ("ConflictException", 409)
    with pytest.raises(ClientError) as raised:
        apigw.create_documentation_part(restApiId=api["id"], location={"type": "API"}, properties="not json")
    assert error_of(raised) == ("BadRequestException", 400)
    assert [p["id"] for p in apigw.get_documentation_parts(restApiId=api["id"], type="METHOD")["items"]] == [
        part["id"]
    ]
    version = apigw.create_documentation_version(
        restApiId=api["id"], documentationVersion="1.0", description="first"
    )
    assert version["version"] == "1.0"
    assert [v["version"] for v in apigw.get_documentation_versions(restApiId=api["id"])["items"]] == ["1.0"]
    link = apigw.create_vpc_link(
        name="link", targetArns=["arn:aws:elasticloadbalancing:us-east-1:000000000000:loadbalancer/net/nlb/1"]
    )
    assert link["status"] == "AVAILABLE"
    assert apigw.get_vpc_link(vpcLinkId=link["id"])["name"] == "link"
    apigw.delete_vpc_link(vpcLinkId=link["id"])
    assert apigw.get_vpc_links()["items"] == []


def test_import_documentation_parts_merges_or_overwrites(apigw):
    api = apigw.create_rest_api(name="imported-docs")
    kept = apigw.create_documentation_part(
        restApiId=api["id"], location={"type": "MODEL", "name": "Pet"}, properties='{"title": "Pet"}'
    )
    replaced = apigw.create_documentation_part(
        restApiId=api["id"],
        location={"type": "METHOD", "path": "/pets", "method": "GET"},
        properties='{"summary": "old"}',
    )
    definition = {
        "openapi": "3.0.1",
        "info": {"title": "docs", "version": "1"},
        "paths": {},
        "x-amazon-apigateway-documentation": {
            "version": "1.0",
            "documentationParts": [
                {"location": {"type": "API"}, "properties": {"description": "The pet store"}},
                {
                    "location": {"type": "METHOD", "path": "/pets", "method": "GET"},
                    "properties": {"summary": "Lists pets"},
                },
            ],
        },
    }
    answer = apigw.import_documentation_parts(restApiId=api["id"], body=json.dumps(definition).encode())
    assert len(answer["ids"]) == 2 and replaced["id"] in answer["ids"]
    parts = {p["location"]["type"]: p for p in apigw.get_documentation_parts(restApiId=api["id"])["items"]}
    assert set(parts) == {"API", "METHOD", "MODEL"}
    assert json.loads(parts["METHOD"]["properties"]) == {"summary": "Lists pets"}
    assert json.loads(parts["API"]["properties"]) == {"description": "The pet store"}
    apigw.import_documentation_parts(
        restApiId=api["id"], body=json.dumps(definition).encode(), mode="overwrite"
    )
    types = sorted(p["location"]["type"] for p in apigw.get_documentation_parts(restApiId=api["id"])["items"])
    assert types == ["API", "METHOD"]
    with pytest.raises(ClientError) as raised:
        apigw.get_documentation_part(restApiId=api["id"], documentationPartId=kept["id"])
    assert error_of(raised) == ("NotFoundException", 404)
    with pytest.raises(ClientError) as raised:
        apigw.import_documentation_parts(restApiId=api["id"], body=b"not a definition")
    assert error_of(raised) == ("BadRequestException", 400)


def test_execution_logs_need_the_account_role_and_reach_their_group(overcast, apigw):
    from tests.waiting import wait_for

    api = apigw.import_rest_api(body=json.dumps(OPENAPI).encode())
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    info = [{"op": "replace", "path": "/*/*/logging/loglevel", "value": "INFO"}]
    with pytest.raises(ClientError) as raised:
        apigw.update_stage(restApiId=api["id"], stageName="v1", patchOperations=info)
    assert message_of(raised) == "CloudWatch Logs role ARN must be set in account settings to enable logging"
    apigw.update_account(
        patchOperations=[
            {
                "op": "replace",
                "path": "/cloudwatchRoleArn",
                "value": "arn:aws:iam::000000000000:role/apigw-logs",
            }
        ]
    )
    apigw.update_stage(restApiId=api["id"], stageName="v1", patchOperations=info)
    answer = call(overcast, api["id"], "v1", "/pets?type=cat")
    logs = overcast.client("logs")
    group = f"API-Gateway-Execution-Logs_{api['id']}/v1"
    events = wait_for(
        lambda: (
            logs.filter_log_events(logGroupName=group)["events"]
            if logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
            else None
        ),
        timeout=30,
    )
    text = "\n".join(e["message"] for e in events)
    rid = answer.headers["x-amzn-requestid"]
    assert f"({rid}) Starting execution for request: {rid}" in text
    assert f"({rid}) Method request query string: {{type=cat}}" in text
    assert f"({rid}) Method completed with status: 200" in text
    lines = [e["message"] for e in events]
    stage = f"{api['id']}/v1"
    usage = [
        f"({rid}) Verifying Usage Plan for request: {rid}. API Key:  API Stage: {stage}",
        f"({rid}) API Key  authorized because method 'GET /pets' does not require API Key. Request will not "
        "contribute to throttle or quota limits",
        f"({rid}) Usage Plan check succeeded for API Key  and API Stage {stage}",
        f"({rid}) Starting execution for request: {rid}",
    ]
    first = lines.index(usage[0])
    assert lines[first : first + 4] == usage  # the usage plan check comes before the method's execution
    # an event past 1024 bytes is cut there and marked
    long = call(overcast, api["id"], "v1", "/pets?type=" + "x" * 2000)
    long_id = long.headers["x-amzn-requestid"]

    def long_line():
        found = [
            e["message"]
            for e in logs.filter_log_events(logGroupName=group)["events"]
            if e["message"].startswith(f"({long_id}) Method request query string:")
        ]
        return found[0] if found else None

    line = wait_for(long_line, timeout=30)
    assert line.endswith(" [TRUNCATED]") and len(line.removesuffix(" [TRUNCATED]").encode()) == 1024


def test_yaml_definitions_in_and_out(apigw):
    import yaml

    api = apigw.import_rest_api(body=yaml.safe_dump(OPENAPI).encode())
    assert api["name"] == "PetStore"
    apigw.create_deployment(restApiId=api["id"], stageName="v1")
    exported = apigw.get_export(
        restApiId=api["id"], stageName="v1", exportType="oas30", accepts="application/yaml"
    )
    assert exported["contentType"] == "application/yaml"
    assert set(yaml.safe_load(exported["body"].read())["paths"]["/pets"]) == {"get", "post"}

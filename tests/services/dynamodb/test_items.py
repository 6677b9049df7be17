"""Single-item operations with expressions, validation and ReturnValues, through boto3."""

import pytest
from botocore.exceptions import ClientError

from tests.helpers import code_of, message_of


def test_put_get_delete_round_trip(ddb, make_table):
    make_table()
    item = {
        "pk": {"S": "a"},
        "n": {"N": "1.50"},
        "b": {"B": b"\x00\xff"},
        "ss": {"SS": ["x", "y"]},
        "m": {"M": {"l": {"L": [{"BOOL": True}, {"NULL": True}]}}},
    }
    ddb.put_item(TableName="Items", Item=item)
    got = ddb.get_item(TableName="Items", Key={"pk": {"S": "a"}})["Item"]
    assert got["n"] == {"N": "1.5"}  # numbers come back canonical
    assert got["b"] == {"B": b"\x00\xff"}
    assert got["m"] == item["m"]
    old = ddb.delete_item(TableName="Items", Key={"pk": {"S": "a"}}, ReturnValues="ALL_OLD")["Attributes"]
    assert old["pk"] == {"S": "a"}
    assert "Item" not in ddb.get_item(TableName="Items", Key={"pk": {"S": "a"}})


def test_table_name_may_be_the_table_arn(ddb, make_table):
    make_table()
    arn = ddb.describe_table(TableName="Items")["Table"]["TableArn"]
    ddb.put_item(TableName=arn, Item={"pk": {"S": "by-arn"}})
    assert ddb.get_item(TableName="Items", Key={"pk": {"S": "by-arn"}})["Item"] == {"pk": {"S": "by-arn"}}
    assert (
        ddb.query(
            TableName=arn, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "by-arn"}}
        )["Count"]
        == 1
    )


def test_missing_table_is_resource_not_found(ddb):
    with pytest.raises(ClientError) as raised:
        ddb.get_item(TableName="Nope", Key={"pk": {"S": "a"}})
    assert code_of(raised) == "ResourceNotFoundException"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


@pytest.mark.parametrize(
    "item, message",
    [
        ({"other": {"S": "x"}}, "One or more parameter values were invalid: Missing the key pk in the item"),
        (
            {"pk": {"N": "1"}},
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N",
        ),
        (
            {"pk": {"S": ""}},
            "The AttributeValue for a key attribute cannot contain an empty string value. Key: pk",
        ),
        (
            {"pk": {"S": "a"}, "s": {"SS": []}},
            "One or more parameter values were invalid: An string set  may not be empty",
        ),
        (
            {"pk": {"S": "a"}, "n": {"N": "1" * 39}},
            "Attempting to store more than 38 significant digits in a Number",
        ),
        ({"pk": {"S": "a"}, "n": {"N": "abc"}}, "A value provided cannot be converted into a number"),
    ],
)
def test_put_item_validation(ddb, make_table, item, message):
    make_table()
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName="Items", Item=item)
    assert code_of(raised) == "ValidationException"
    assert message in message_of(raised)


def test_item_size_limit(ddb, make_table):
    make_table()
    ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}, "d": {"S": "x" * (400 * 1024 - 10)}})
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}, "d": {"S": "x" * 401 * 1024}})
    assert message_of(raised) == "Item size has exceeded the maximum allowed size"


def test_wrong_key_shape_on_get(ddb, make_table):
    make_table(range_key=("sk", "N"))
    with pytest.raises(ClientError) as raised:
        ddb.get_item(TableName="Items", Key={"pk": {"S": "a"}})
    assert message_of(raised) == "The provided key element does not match the schema"


def test_conditional_put_and_return_values_on_failure(ddb, make_table):
    make_table()
    ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    with pytest.raises(ClientError) as raised:
        ddb.put_item(
            TableName="Items",
            Item={"pk": {"S": "a"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    assert code_of(raised) == "ConditionalCheckFailedException"
    assert message_of(raised) == "The conditional request failed"
    assert raised.value.response["Item"] == {"pk": {"S": "a"}, "v": {"N": "1"}}


def test_unused_and_undefined_placeholders(ddb, make_table):
    make_table()
    with pytest.raises(ClientError) as raised:
        ddb.put_item(
            TableName="Items",
            Item={"pk": {"S": "a"}},
            ConditionExpression="attribute_not_exists(pk)",
            ExpressionAttributeValues={":x": {"S": "1"}},
        )
    assert (
        message_of(raised) == "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    )
    with pytest.raises(ClientError) as raised:
        ddb.put_item(
            TableName="Items",
            Item={"pk": {"S": "a"}},
            ConditionExpression="#n = :v",
            ExpressionAttributeValues={":v": {"S": "1"}},
        )
    assert (
        "An expression attribute name used in the document path is not defined; attribute name: #n"
        in message_of(raised)
    )
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}}, ConditionExpression="a = :v")
    assert (
        "An expression attribute value used in expression is not defined; attribute value: :v"
        in message_of(raised)
    )


def test_syntax_error_is_validation(ddb, make_table):
    make_table()
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}}, ConditionExpression="a = = b")
    assert code_of(raised) == "ValidationException"
    assert message_of(raised).startswith("Invalid ConditionExpression: Syntax error; token:")


@pytest.mark.parametrize(
    "expression, values, expected",
    [
        ("price > :lo", {":lo": {"N": "100"}}, True),
        ("price BETWEEN :lo AND :hi", {":lo": {"N": "500"}, ":hi": {"N": "600"}}, True),
        ("category IN (:a, :b)", {":a": {"S": "Sports"}, ":b": {"S": "Comics"}}, True),
        ("begins_with(pics.front, :p)", {":p": {"S": "http"}}, True),
        ("contains(colors, :c)", {":c": {"S": "red"}}, True),
        ("contains(title, :c)", {":c": {"S": "ike"}}, True),
        ("size(colors) = :two", {":two": {"N": "2"}}, True),
        ("attribute_type(price, :t)", {":t": {"S": "N"}}, True),
        ("attribute_exists(reviews.onestar)", None, False),
        (
            "NOT attribute_exists(reviews.onestar) AND (price < :lo OR price > :hi)",
            {":lo": {"N": "1"}, ":hi": {"N": "2"}},
            True,
        ),
        ("tags[1] = :t", {":t": {"S": "b"}}, True),
        ("price = :s", {":s": {"S": "550"}}, False),
        ("price <> :s", {":s": {"S": "550"}}, True),
    ],
)
def test_condition_functions(ddb, make_table, expression, values, expected):
    make_table()
    ddb.put_item(
        TableName="Items",
        Item={
            "pk": {"S": "p"},
            "price": {"N": "550"},
            "category": {"S": "Comics"},
            "pics": {"M": {"front": {"S": "http://x"}}},
            "colors": {"SS": ["red", "blue"]},
            "title": {"S": "Bike"},
            "tags": {"L": [{"S": "a"}, {"S": "b"}]},
        },
    )
    kwargs = {"ExpressionAttributeValues": values} if values else {}
    try:
        ddb.delete_item(TableName="Items", Key={"pk": {"S": "p"}}, ConditionExpression=expression, **kwargs)
        outcome = True
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ConditionalCheckFailedException"
        outcome = False
    assert outcome is expected


def test_update_expression_sections(ddb, make_table):
    make_table()
    ddb.put_item(
        TableName="Items",
        Item={
            "pk": {"S": "a"},
            "n": {"N": "5"},
            "l": {"L": [{"S": "x"}]},
            "s": {"SS": ["a", "b"]},
            "gone": {"S": "1"},
        },
    )
    result = ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = n + :one, l = list_append(l, :more), fresh = if_not_exists(fresh, :zero), "
        "m = :map REMOVE gone ADD hits :one, s :c DELETE t :nothing",
        ExpressionAttributeValues={
            ":one": {"N": "1"},
            ":more": {"L": [{"S": "y"}]},
            ":zero": {"N": "0"},
            ":map": {"M": {"depth2": {"N": "1"}}},
            ":c": {"SS": ["c"]},
            ":nothing": {"SS": ["z"]},
        },
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert result["n"] == {"N": "6"}
    assert result["l"] == {"L": [{"S": "x"}, {"S": "y"}]}
    assert result["fresh"] == {"N": "0"}
    assert "gone" not in result
    assert result["hits"] == {"N": "1"}
    assert sorted(result["s"]["SS"]) == ["a", "b", "c"]
    nested = ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET m.depth2 = m.depth2 - :one, #l[0] = :z DELETE s :ab",
        ExpressionAttributeNames={"#l": "l"},
        ExpressionAttributeValues={":one": {"N": "1"}, ":z": {"S": "z"}, ":ab": {"SS": ["a", "b", "c"]}},
        ReturnValues="UPDATED_NEW",
    )["Attributes"]
    assert nested == {"m": {"M": {"depth2": {"N": "0"}}}, "l": {"L": [{"S": "z"}]}}
    item = ddb.get_item(TableName="Items", Key={"pk": {"S": "a"}})["Item"]
    assert "s" not in item  # a set emptied by DELETE disappears


def test_update_creates_item_and_refuses_key_change(ddb, make_table):
    make_table()
    ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "new"}},
        UpdateExpression="SET v = :v",
        ExpressionAttributeValues={":v": {"S": "x"}},
    )
    assert ddb.get_item(TableName="Items", Key={"pk": {"S": "new"}})["Item"] == {
        "pk": {"S": "new"},
        "v": {"S": "x"},
    }
    with pytest.raises(ClientError) as raised:
        ddb.update_item(
            TableName="Items",
            Key={"pk": {"S": "new"}},
            UpdateExpression="SET pk = :v",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    assert "Cannot update attribute pk. This attribute is part of the key" in message_of(raised)


def test_update_errors(ddb, make_table):
    make_table()
    ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}, "s": {"S": "text"}})
    with pytest.raises(ClientError) as raised:
        ddb.update_item(
            TableName="Items",
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET x = absent + :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    assert (
        message_of(raised) == "The provided expression refers to an attribute that does not exist in the item"
    )
    with pytest.raises(ClientError) as raised:
        ddb.update_item(
            TableName="Items",
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET a = :one, a = :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    assert "Two document paths overlap" in message_of(raised)
    with pytest.raises(ClientError) as raised:
        ddb.update_item(
            TableName="Items",
            Key={"pk": {"S": "a"}},
            UpdateExpression="ADD s :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        )
    assert code_of(raised) == "ValidationException"


def test_reserved_words_need_placeholders(ddb, make_table):
    make_table()
    with pytest.raises(ClientError) as raised:
        ddb.update_item(
            TableName="Items",
            Key={"pk": {"S": "a"}},
            UpdateExpression="SET name = :v",
            ExpressionAttributeValues={":v": {"S": "x"}},
        )
    assert message_of(raised) == (
        "Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: name"
    )
    ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET #n = :v",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":v": {"S": "x"}},
    )


def test_projection_expression(ddb, make_table):
    make_table()
    ddb.put_item(
        TableName="Items",
        Item={
            "pk": {"S": "a"},
            "x": {"S": "1"},
            "m": {"M": {"a": {"N": "1"}, "b": {"N": "2"}}},
            "l": {"L": [{"S": "0"}, {"S": "1"}, {"S": "2"}]},
        },
    )
    got = ddb.get_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        ProjectionExpression="x, m.b, l[2], #l[0]",
        ExpressionAttributeNames={"#l": "l"},
    )["Item"]
    assert got == {"x": {"S": "1"}, "m": {"M": {"b": {"N": "2"}}}, "l": {"L": [{"S": "0"}, {"S": "2"}]}}


def test_legacy_parameters(ddb, make_table):
    make_table()
    ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        AttributeUpdates={
            "v": {"Action": "ADD", "Value": {"N": "2"}},
            "w": {"Action": "PUT", "Value": {"S": "x"}},
        },
        Expected={"v": {"Value": {"N": "1"}}},
    )
    got = ddb.get_item(TableName="Items", Key={"pk": {"S": "a"}}, AttributesToGet=["v", "w"])["Item"]
    assert got == {"v": {"N": "3"}, "w": {"S": "x"}}
    with pytest.raises(ClientError) as raised:
        ddb.put_item(
            TableName="Items",
            Item={"pk": {"S": "a"}},
            Expected={"v": {"ComparisonOperator": "GT", "AttributeValueList": [{"N": "5"}]}},
        )
    assert code_of(raised) == "ConditionalCheckFailedException"
    with pytest.raises(ClientError) as raised:
        ddb.put_item(
            TableName="Items",
            Item={"pk": {"S": "a"}},
            Expected={"v": {"Exists": False}},
            ConditionExpression="attribute_exists(v)",
        )
    assert "Can not use both expression and non-expression parameters" in message_of(raised)


def test_consumed_capacity_for_writes_and_reads(ddb, make_table):
    make_table()
    item = {"pk": {"S": "a"}, "d": {"S": "x" * (1100 - 4)}}  # names 2 + 1, values 1 + 1096: 1.1 KB
    consumed = ddb.put_item(TableName="Items", Item=item, ReturnConsumedCapacity="TOTAL")["ConsumedCapacity"]
    assert consumed == {"TableName": "Items", "CapacityUnits": 2.0}
    ddb.put_item(TableName="Items", Item={"pk": {"S": "b"}, "d": {"S": "x" * (4096 - 4)}})
    eventual = ddb.get_item(TableName="Items", Key={"pk": {"S": "b"}}, ReturnConsumedCapacity="TOTAL")[
        "ConsumedCapacity"
    ]
    strong = ddb.get_item(
        TableName="Items", Key={"pk": {"S": "b"}}, ConsistentRead=True, ReturnConsumedCapacity="TOTAL"
    )
    assert eventual["CapacityUnits"] == 0.5
    assert strong["ConsumedCapacity"]["CapacityUnits"] == 1.0


def test_a_write_over_an_item_consumes_by_the_larger_of_before_and_after(ddb, make_table):
    make_table()
    big = {"pk": {"S": "a"}, "d": {"S": "x" * (3000 - 4)}}  # 3 KB: 3 write units
    small = {"pk": {"S": "a"}, "d": {"S": "y"}}

    def units(result):
        return result["ConsumedCapacity"]["CapacityUnits"]

    assert units(ddb.put_item(TableName="Items", Item=big, ReturnConsumedCapacity="TOTAL")) == 3.0
    assert units(ddb.put_item(TableName="Items", Item=small, ReturnConsumedCapacity="TOTAL")) == 3.0
    assert units(ddb.put_item(TableName="Items", Item=small, ReturnConsumedCapacity="TOTAL")) == 1.0
    grown = ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET d = :d",
        ExpressionAttributeValues={":d": {"S": "z" * 2000}},
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(grown) == 2.0
    shrunk = ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        UpdateExpression="REMOVE d",
        ReturnConsumedCapacity="TOTAL",
    )
    assert units(shrunk) == 2.0
    batch = ddb.batch_write_item(
        RequestItems={"Items": [{"PutRequest": {"Item": big}}]}, ReturnConsumedCapacity="TOTAL"
    )
    assert batch["ConsumedCapacity"] == [{"TableName": "Items", "CapacityUnits": 3.0}]
    batch = ddb.batch_write_item(
        RequestItems={"Items": [{"DeleteRequest": {"Key": {"pk": {"S": "a"}}}}]},
        ReturnConsumedCapacity="TOTAL",
    )
    assert batch["ConsumedCapacity"] == [{"TableName": "Items", "CapacityUnits": 3.0}]


@pytest.mark.parametrize(
    "mode, expected",
    [
        ("NONE", None),
        ("ALL_OLD", {"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"S": "keep"}}),
        ("UPDATED_OLD", {"x": {"N": "1"}}),
        ("ALL_NEW", {"pk": {"S": "a"}, "x": {"N": "2"}, "y": {"S": "keep"}, "z": {"S": "new"}}),
        ("UPDATED_NEW", {"x": {"N": "2"}, "z": {"S": "new"}}),
    ],
)
def test_update_return_values(ddb, make_table, mode, expected):
    make_table()
    ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}, "x": {"N": "1"}, "y": {"S": "keep"}})
    result = ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET x = x + :one, z = :z",
        ExpressionAttributeValues={":one": {"N": "1"}, ":z": {"S": "new"}},
        ReturnValues=mode,
    )
    assert result.get("Attributes") == expected


def test_invalid_return_values_for_put(ddb, make_table):
    make_table()
    with pytest.raises(ClientError) as raised:
        ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}}, ReturnValues="ALL_NEW")
    assert message_of(raised) == "Return values set to invalid value"


def test_numbers_keep_38_digits(ddb, make_table):
    make_table()
    big = "1234567890123456789012345678901234567.8"
    ddb.put_item(TableName="Items", Item={"pk": {"S": "a"}, "n": {"N": big}, "tiny": {"N": "1E-130"}})
    ddb.update_item(
        TableName="Items",
        Key={"pk": {"S": "a"}},
        UpdateExpression="SET n = n + :d",
        ExpressionAttributeValues={":d": {"N": "0.1"}},
    )
    item = ddb.get_item(TableName="Items", Key={"pk": {"S": "a"}})["Item"]
    assert item["n"] == {"N": "1234567890123456789012345678901234567.9"}
    assert item["tiny"]["N"] == "0." + "0" * 129 + "1"

"""Kinesis's errors, with the texts AWS answers them with."""

from __future__ import annotations

from overcast.errors import ServiceError


def invalid(message: str) -> ServiceError:
    return ServiceError("InvalidArgumentException", message)


def validation(message: str) -> ServiceError:
    return ServiceError("ValidationException", message)


def stream_not_found(name: str, account: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Stream {name} under account {account} not found.")


def shard_not_found(shard: str, stream: str, account: str) -> ServiceError:
    return ServiceError(
        "ResourceNotFoundException",
        f"Shard {shard} in stream {stream} under account {account} does not exist",
    )


def no_such_shard(shard: str, stream: str, account: str) -> ServiceError:
    """The wording of SplitShard and MergeShards for a shard the stream does not have."""
    return ServiceError(
        "ResourceNotFoundException",
        f"Could not find shard {shard} in stream {stream} under account {account}.",
    )


def not_active(name: str, account: str, status: str) -> ServiceError:
    return ServiceError(
        "ResourceInUseException",
        f"Stream {name} under account {account} not ACTIVE, instead in state {status}",
    )


def throughput_exceeded(shard: str, stream: str, account: str) -> ServiceError:
    return ServiceError("ProvisionedThroughputExceededException", throughput_message(shard, stream, account))


def throughput_message(shard: str, stream: str, account: str) -> str:
    return f"Rate exceeded for shard {shard} in stream {stream} under account {account}."


def consumer_not_found(arn: str) -> ServiceError:
    return ServiceError("ResourceNotFoundException", f"Consumer {arn} not found.")

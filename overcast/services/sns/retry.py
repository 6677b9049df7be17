"""HTTP/S delivery policies: validation, the effective policy of a subscription, and its retry schedule.

A topic's `DeliveryPolicy` has an `http` section (`defaultHealthyRetryPolicy`, `disableSubscriptionOverrides`,
`defaultThrottlePolicy`, `defaultRequestPolicy`); a subscription's has `healthyRetryPolicy`, `throttlePolicy`
and `requestPolicy`, which win over the topic's unless the topic disables subscription overrides. A retry
policy has four phases: `numNoDelayRetries` at once, `numMinDelayRetries` `minDelayTarget` apart, the backoff
phase from `minDelayTarget` to `maxDelayTarget`, and `numMaxDelayRetries` `maxDelayTarget` apart;
`numRetries` counts them all.
"""

from __future__ import annotations

import json
import math
from typing import Any

DEFAULT_RETRY = {
    "minDelayTarget": 20,
    "maxDelayTarget": 20,
    "numRetries": 3,
    "numMaxDelayRetries": 0,
    "numNoDelayRetries": 0,
    "numMinDelayRetries": 0,
    "backoffFunction": "linear",
}
DEFAULT_CONTENT_TYPE = "text/plain; charset=UTF-8"
BACKOFF_FUNCTIONS = ("linear", "arithmetic", "geometric", "exponential")
MAX_RETRIES = 100
MAX_DELAY = 3600  # also the limit on the whole policy's retry time


class PolicyError(ValueError):
    """An invalid delivery policy; the message is the reason."""


def _retry_policy(policy: Any, where: str) -> dict[str, Any]:
    if not isinstance(policy, dict):
        raise PolicyError(f"{where} must be a JSON object")
    merged = dict(DEFAULT_RETRY)
    for key, value in policy.items():
        if key not in DEFAULT_RETRY:
            raise PolicyError(f"{where}: unknown key {key}")
        if key == "backoffFunction":
            if value not in BACKOFF_FUNCTIONS:
                raise PolicyError(f"{where}.backoffFunction must be one of {', '.join(BACKOFF_FUNCTIONS)}")
        elif not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise PolicyError(f"{where}.{key} must be a non-negative integer")
        merged[key] = value
    if "minDelayTarget" in policy and "maxDelayTarget" not in policy:
        merged["maxDelayTarget"] = max(merged["maxDelayTarget"], merged["minDelayTarget"])
    if "maxDelayTarget" in policy and "minDelayTarget" not in policy:
        merged["minDelayTarget"] = min(merged["minDelayTarget"], merged["maxDelayTarget"])
    if merged["numRetries"] > MAX_RETRIES:
        raise PolicyError(f"{where}.numRetries must be at most {MAX_RETRIES}")
    if merged["minDelayTarget"] < 1 or merged["minDelayTarget"] > merged["maxDelayTarget"]:
        raise PolicyError(f"{where}.minDelayTarget must be at least 1 and at most maxDelayTarget")
    if merged["maxDelayTarget"] > MAX_DELAY:
        raise PolicyError(f"{where}.maxDelayTarget must be at most {MAX_DELAY}")
    phases = merged["numNoDelayRetries"] + merged["numMinDelayRetries"] + merged["numMaxDelayRetries"]
    if phases > merged["numRetries"]:
        raise PolicyError(f"{where}: the phases' retries add up to more than numRetries")
    if sum(retry_delays(merged)) > MAX_DELAY:
        raise PolicyError(f"{where}: the total retry time must be at most {MAX_DELAY} seconds")
    return merged


def _request_policy(policy: Any, where: str) -> None:
    if not isinstance(policy, dict) or not isinstance(policy.get("headerContentType", ""), str):
        raise PolicyError(f"{where}.headerContentType must be a string")


def validate_topic_policy(text: str) -> None:
    """Raise PolicyError unless `text` is a valid topic DeliveryPolicy (its `http` section is checked)."""
    document = _object(text)
    http = document.get("http", {})
    if not isinstance(http, dict):
        raise PolicyError("http must be a JSON object")
    if "defaultHealthyRetryPolicy" in http:
        _retry_policy(http["defaultHealthyRetryPolicy"], "defaultHealthyRetryPolicy")
    if "defaultRequestPolicy" in http:
        _request_policy(http["defaultRequestPolicy"], "defaultRequestPolicy")
    if not isinstance(http.get("disableSubscriptionOverrides", False), bool):
        raise PolicyError("disableSubscriptionOverrides must be true or false")


def validate_subscription_policy(text: str) -> None:
    document = _object(text)
    if "healthyRetryPolicy" in document:
        _retry_policy(document["healthyRetryPolicy"], "healthyRetryPolicy")
    if "requestPolicy" in document:
        _request_policy(document["requestPolicy"], "requestPolicy")


def _object(text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except ValueError:
        raise PolicyError("failed to parse JSON") from None
    if not isinstance(document, dict):
        raise PolicyError("must be a JSON object")
    return document


def effective_topic_policy(topic_text: str | None) -> dict[str, Any]:
    """The topic's EffectiveDeliveryPolicy: its `http` section over AWS's defaults."""
    http = (json.loads(topic_text).get("http") or {}) if topic_text else {}
    return {
        "http": {
            "defaultHealthyRetryPolicy": _retry_policy(http.get("defaultHealthyRetryPolicy", {}), "policy"),
            "disableSubscriptionOverrides": bool(http.get("disableSubscriptionOverrides", False)),
            **(
                {"defaultThrottlePolicy": http["defaultThrottlePolicy"]}
                if "defaultThrottlePolicy" in http
                else {}
            ),
            "defaultRequestPolicy": {
                "headerContentType": (http.get("defaultRequestPolicy") or {}).get(
                    "headerContentType", DEFAULT_CONTENT_TYPE
                )
            },
        }
    }


def effective_subscription_policy(topic_text: str | None, subscription_text: str | None) -> dict[str, Any]:
    """A subscription's EffectiveDeliveryPolicy: its own policy, else the topic's defaults."""
    http = effective_topic_policy(topic_text)["http"]
    own = json.loads(subscription_text) if subscription_text else {}
    if http["disableSubscriptionOverrides"]:
        own = {}
    retry = own.get("healthyRetryPolicy")
    request = own.get("requestPolicy") or {}
    return {
        "healthyRetryPolicy": _retry_policy(retry, "policy") if retry else http["defaultHealthyRetryPolicy"],
        "sicklyRetryPolicy": None,
        "throttlePolicy": own.get("throttlePolicy") or http.get("defaultThrottlePolicy"),
        "requestPolicy": {
            "headerContentType": request.get(
                "headerContentType", http["defaultRequestPolicy"]["headerContentType"]
            )
        },
        "guaranteed": False,
    }


def retry_delays(policy: dict[str, Any]) -> list[float]:
    """The wait before each retry, in order (len == numRetries)."""
    low, high = policy["minDelayTarget"], policy["maxDelayTarget"]
    no_delay, min_delay, max_delay = (
        policy["numNoDelayRetries"],
        policy["numMinDelayRetries"],
        policy["numMaxDelayRetries"],
    )
    backoff = max(policy["numRetries"] - no_delay - min_delay - max_delay, 0)
    delays = [0.0] * no_delay + [float(low)] * min_delay
    for i in range(1, backoff + 1):
        share = i / backoff  # the last backoff retry reaches maxDelayTarget
        if policy["backoffFunction"] == "exponential":
            delay = low * (high / low) ** share
        elif policy["backoffFunction"] == "geometric":
            delay = low + (high - low) * share**2
        elif policy["backoffFunction"] == "arithmetic":
            delay = low + (high - low) * (i * (i + 1) / 2) / (backoff * (backoff + 1) / 2)
        else:
            delay = low + (high - low) * share
        delays.append(float(math.ceil(delay)))
    return delays + [float(high)] * max_delay

"""botocore service models, loaded lazily and cached.

Nothing here imports botocore at module import time: start-up time matters, and most processes only ever
need a handful of services.
"""

from __future__ import annotations

from functools import cache, lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from botocore.model import OperationModel, ServiceModel


@lru_cache(maxsize=1)
def _loader():
    from botocore.loaders import create_loader

    return create_loader()


@cache
def get_service_model(name: str) -> ServiceModel:
    """The botocore ServiceModel of service `name` ('s3', 'sqs', 'dynamodb', ...)."""
    from botocore.model import ServiceModel

    data = _loader().load_service_model(name, "service-2")
    return ServiceModel(data, service_name=name)


@cache
def get_operation_model(service: str, operation: str) -> OperationModel:
    """The OperationModel of `operation` of `service` (KeyError-like OperationNotFoundError if unknown)."""
    return get_service_model(service).operation_model(operation)


def available_services() -> list[str]:
    """Names of every service botocore ships a model for."""
    return list(_loader().list_available_services("service-2"))


@cache
def is_unauthenticated(service: str, operation: str) -> bool:
    """Whether AWS serves `operation` without a signature (Cognito's SignUp and InitiateAuth, STS's
    AssumeRoleWithWebIdentity, ...): its model says `authtype: none` or `auth: [smithy.api#noAuth]`."""
    try:
        model = get_operation_model(service, operation)
    except Exception:  # an operation the model does not know (embedded providers in tests)
        return False
    return model.auth_type == "none" or "smithy.api#noAuth" in (model._operation_model.get("auth") or ())

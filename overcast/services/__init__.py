"""The services Overcast implements: botocore service name -> 'module:ProviderClass', imported on first use."""

PROVIDERS: dict[str, str] = {
    "sts": "overcast.services.sts.provider:StsProvider",
}

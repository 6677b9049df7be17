"""Which service, operation, protocol, account and region a request is."""

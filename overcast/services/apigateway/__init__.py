"""API Gateway REST APIs (botocore "apigateway"), following the API Gateway REST API Reference and Developer
Guide: the control plane (REST APIs, resources, methods, integrations, models, validators, authorizers,
deployments, stages, API keys, usage plans, domain names) and the invoke URLs that really serve requests
(gateway.py)."""

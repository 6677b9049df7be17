"""API Gateway HTTP and WebSocket APIs (botocore "apigatewayv2"), following the API Gateway V2 API Reference
and the Developer Guide's HTTP API and WebSocket API chapters: the control plane (APIs, routes,
integrations, authorizers, stages with auto-deploy, deployments, models, domain names) and the invoke URLs
that serve HTTP requests (http_gateway.py) and WebSocket connections (websockets.py)."""

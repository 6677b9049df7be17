"""The API Gateway Management API (botocore "apigatewaymanagementapi"): a WebSocket API's @connections
endpoint, following the API Gateway Developer Guide's "Use @connections commands in your backend service".
It has no state of its own: connections are the WebSocket APIs' (apigatewayv2/api.py)."""

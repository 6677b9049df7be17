"""The HTTP entry: an ASGI application served by uvicorn."""

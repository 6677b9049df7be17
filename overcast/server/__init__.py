"""The HTTP entry: an ASGI application (app.py) served by a lean HTTP/1.1 server (http11.py)."""

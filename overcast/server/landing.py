"""What a person (or a probing tool) finds at the endpoint itself: `GET /` unsigned.

A browser gets a small page (version, services and their state, data dir, the clock, how to point clients,
links to the internal endpoints); an API client gets the same facts as JSON. `/_localstack/info` answers in
LocalStack's shape for tools that probe it.
"""

from __future__ import annotations

import html
import platform as host_platform
import time
from typing import Any

from overcast.http import HttpRequest, HttpResponse, json_response
from overcast.platform import Platform
from overcast.routing.router import parse_host

_STARTED = time.time()

LINKS = (
    ("/_overcast/console/", "the console: see and change what lives here, in a browser"),
    ("/_overcast/health", "health: version, mode, services"),
    ("/_overcast/clock", 'the virtual clock (POST {"advance": "3d"} to move it)'),
    ("/_localstack/health", "health in LocalStack's shape"),
)


def is_landing_request(request: HttpRequest) -> bool:
    """An unsigned GET of the endpoint's root, not addressed to a bucket or a service host."""
    if request.method not in ("GET", "HEAD") or request.path != "/" or request.query:
        return False
    if "authorization" in request.headers or "x-amz-date" in request.headers:
        return False
    host = parse_host(request.host)
    return host.service is None and host.bucket is None


def landing(platform: Platform, request: HttpRequest) -> HttpResponse:
    facts = _facts(platform, request)
    if "text/html" not in (request.headers.get("accept") or ""):
        return json_response(facts)
    return HttpResponse(200, [("content-type", "text/html; charset=utf-8")], _page(facts).encode())


def localstack_info(platform: Platform) -> HttpResponse:
    health = platform.health()
    return json_response(
        {
            "version": health["version"],
            "edition": "overcast",
            "is_license_activated": False,
            "session_id": "",
            "machine_id": host_platform.node(),
            "system": host_platform.system().lower(),
            "is_docker": False,
            "server_time_utc": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "uptime": int(time.time() - _STARTED),
        }
    )


def _facts(platform: Platform, request: HttpRequest) -> dict[str, Any]:
    endpoint = f"http://{request.host}"
    health = platform.health()
    now = platform.clock.now()
    return {
        **health,
        "endpoint": endpoint,
        "clock": {
            "now": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now)),
            "offset_seconds": platform.clock.offset,
        },
        "clients": {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_DEFAULT_REGION": platform.config.default_region,
        },
        "links": [path for path, _ in LINKS],
    }


def _page(facts: dict[str, Any]) -> str:
    e = html.escape
    services = "".join(
        f"<li><code>{e(name)}</code> <span class={e(state)}>{e(state)}</span></li>"
        for name, state in facts["services"].items()
    )
    exports = "\n".join(f"export {name}={value}" for name, value in facts["clients"].items())
    links = "".join(f'<li><a href="{e(path)}">{e(path)}</a> — {e(text)}</li>' for path, text in LINKS)
    data = facts["data_dir"] or "in memory (ephemeral: nothing is kept)"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Overcast {e(facts["version"])}</title>
<style>
body {{ font: 15px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 46rem; padding: 0 1rem; color: #222 }}
code, pre {{ background: #f4f4f4; padding: .1rem .3rem; border-radius: 3px }}
pre {{ padding: .6rem }} ul.services {{ columns: 3 }} .running {{ color: #197a19 }} .available {{ color: #777 }}
</style></head><body>
<h1>Overcast {e(facts["version"])}</h1>
<p>AWS on one machine, at <code>{e(facts["endpoint"])}</code>. IAM: <code>{e(facts["iam"])}</code>.
Data: <code>{e(data)}</code>. Clock: <code>{e(facts["clock"]["now"])}</code>.</p>
<h2>Point your clients here</h2>
<pre>{e(exports)}</pre>
<p>or <code>eval "$(overcast env)"</code>. Path-style bucket addressing works everywhere.</p>
<h2>Services</h2><ul class="services">{services}</ul>
<h2>Overcast's own endpoints</h2><ul>{links}</ul>
</body></html>
"""

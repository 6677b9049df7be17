"""`overcast start | status | reset | clock | iam report | version`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from overcast import __version__
from overcast.config import IAM_MODES, Config


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return args.run(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="overcast", description="AWS on one machine.")
    parser.add_argument("--version", action="version", version=f"overcast {__version__}")
    commands = parser.add_subparsers(dest="command")

    start = commands.add_parser("start", help="serve the AWS APIs (default http://127.0.0.1:4566)")
    start.add_argument("--host", help="address to listen on (OVERCAST_HOST, default 127.0.0.1)")
    start.add_argument("--port", type=int, help="port (OVERCAST_PORT, default 4566)")
    start.add_argument("--data-dir", type=Path, help="where state is kept (OVERCAST_DATA_DIR)")
    start.add_argument(
        "--ephemeral", action="store_true", default=None, help="keep nothing (OVERCAST_EPHEMERAL)"
    )
    start.add_argument("--iam", choices=IAM_MODES, help="IAM policy evaluation (OVERCAST_IAM, default off)")
    start.add_argument(
        "--log-level", choices=["debug", "info", "warning", "error"], help="OVERCAST_LOG_LEVEL"
    )
    start.add_argument("--default-account", help="account of the root credentials (OVERCAST_DEFAULT_ACCOUNT)")
    start.add_argument(
        "--fsync",
        action="store_true",
        default=None,
        help="fsync every commit: survive power loss too, not only a crash (OVERCAST_FSYNC)",
    )
    start.add_argument(
        "--cors-origins",
        help="web origins (comma-separated, or *) whose pages may send signed requests, besides this "
        "machine's own (OVERCAST_CORS_ORIGINS; docs/security.md)",
    )
    start.add_argument(
        "--dns-port",
        type=int,
        help="also serve DNS from Route 53's hosted zones on this port, UDP and TCP (OVERCAST_DNS_PORT; off by "
        "default; e.g. 5353, then dig @127.0.0.1 -p 5353)",
    )
    start.add_argument(
        "--spin-us",
        type=int,
        help="microseconds to keep polling after a response before sleeping; 0 never spins "
        "(OVERCAST_SPIN_US, default 250 with two or more CPUs)",
    )
    start.set_defaults(run=_start)

    for name, help_text, run in (
        ("status", "show a running server's health", _status),
        ("version", "print the version", _version),
    ):
        command = commands.add_parser(name, help=help_text)
        _endpoint_option(command)
        command.set_defaults(run=run)

    check = commands.add_parser(
        "check",
        help="verify a data directory (its server stopped): the database, every blob file, S3 object checksums",
    )
    check.add_argument("--data-dir", type=Path, help="the data directory (OVERCAST_DATA_DIR)")
    check.add_argument(
        "--quarantine",
        action="store_true",
        help="move damaged blob files into <data-dir>/quarantine (their objects then answer a clear error)",
    )
    check.set_defaults(run=_check)

    reset = commands.add_parser("reset", help="delete every resource of a running server")
    reset.add_argument("--yes", "-y", action="store_true", help="do not ask, even for a persistent data dir")
    _endpoint_option(reset)
    reset.set_defaults(run=_reset)

    env = commands.add_parser(
        "env", help='print the client settings: eval "$(overcast env)" points SDKs and the AWS CLI here'
    )
    env.add_argument("--profile", metavar="NAME", help="print an ~/.aws/config profile instead of exports")
    env.add_argument("--region", default=None, help="region (default us-east-1)")
    _endpoint_option(env)
    env.set_defaults(run=_env)

    clock = commands.add_parser("clock", help="show or move the virtual clock of a running server")
    _endpoint_option(clock)
    clock_commands = clock.add_subparsers(dest="clock_command")
    show = clock_commands.add_parser("show", help="print the virtual time")
    advance = clock_commands.add_parser("advance", help="move forward, e.g. 90s, 15m, 3d, 1d12h")
    advance.add_argument("duration")
    set_ = clock_commands.add_parser("set", help="set to an ISO 8601 moment, e.g. 2030-01-01T00:00:00Z")
    set_.add_argument("moment")
    for command in (show, advance, set_):
        _endpoint_option(command, inherit=True)
    clock.set_defaults(run=_clock)

    iam = commands.add_parser("iam", help="IAM of a running server")
    iam_commands = iam.add_subparsers(dest="iam_command")
    report = iam_commands.add_parser(
        "report", help="per principal, the least-privilege policy its calls needed (--iam soft)"
    )
    report.add_argument("--principal", help="only this principal's ARN (a user, or a role for its sessions)")
    report.add_argument("--json", action="store_true", help="the whole report as JSON")
    _endpoint_option(report)
    iam.set_defaults(run=_iam)
    return parser


def _endpoint_option(parser: argparse.ArgumentParser, inherit: bool = False) -> None:
    """`inherit`: a sub-command's copy, which keeps the parent's value unless given again."""
    default = os.environ.get("AWS_ENDPOINT_URL") or "http://localhost:4566"
    parser.add_argument(
        "--endpoint",
        default=argparse.SUPPRESS if inherit else default,
        help=f"server URL (default {default})",
    )


# -- start ------------------------------------------------------------------------------------------


def config_from_args(args: argparse.Namespace) -> Config:
    config = Config.from_env()
    for item in fields(Config):
        value = getattr(args, item.name, None)
        if value is not None:
            setattr(config, item.name, value)
    return config


def _start(args: argparse.Namespace) -> int:
    config = config_from_args(args)
    try:
        config.validate()
    except ValueError as error:
        print(f"overcast: {error}", file=sys.stderr)
        return 2
    serve(config)
    return 0


def serve(config: Config) -> None:
    # The server reads botocore's models and signs nothing with it, but botocore.compat imports awscrt.auth
    # (6 MB of native code and bindings) to offer CRT signing. Refusing that import keeps the server lean;
    # awscrt's checksums, which S3 uses, load on their own when first needed.
    sys.modules.setdefault("awscrt.auth", None)  # type: ignore[arg-type]
    from overcast.platform import Platform
    from overcast.server.app import OvercastApp
    from overcast.server.http11 import Server
    from overcast.state.database import StoreDamaged, StoreInUse

    logging.basicConfig(level=config.log_level.upper(), format="%(levelname)s %(name)s: %(message)s")
    listener = _listen(config)  # before anything is said: a taken port is one clear line, nothing else
    try:
        platform = Platform(config)
    except (StoreInUse, StoreDamaged) as error:  # another server on the directory, or a damaged database
        print(f"overcast: {error}", file=sys.stderr)
        raise SystemExit(1) from None
    endpoint = f"http://{'localhost' if config.host in ('127.0.0.1', '::1') else config.host}:{config.port}"
    where = "in memory (ephemeral)" if config.ephemeral else str(platform.root)
    console = f"{endpoint}/_overcast/console/"
    if not config.loopback_only:  # reachable from the network: the console needs a login token
        if not config.console_token:
            import secrets

            config.console_token = secrets.token_urlsafe(18)
        console += f"?token={config.console_token}"
    _say(f"Overcast {__version__} on {endpoint}  (iam: {config.iam})")
    _say(f"  data:    {where}")
    _say(f'  clients: eval "$(overcast env --endpoint {endpoint})"   or see docs/clients.md')
    _say(f"  console: {console}")
    _say(f"  health:  {endpoint}/_overcast/health")
    if config.dns_port:
        _say(f"  dns:     {config.host}:{config.dns_port} (udp, tcp) answers from Route 53's hosted zones")
    _check_virtual_hosts_later(config.port)
    spin = config.spin_us / 1e6 if config.spin_us is not None else None
    server = Server(OvercastApp(platform), spin_seconds=spin, on_stopped=lambda: _say("Overcast stopped"))
    platform.db.commit_in_groups(lambda: server.serving > 1)
    server.run(sockets=[listener])


# -- check ------------------------------------------------------------------------------------------


def _check(args: argparse.Namespace) -> int:
    """Scan a data directory: SQLite's integrity check, then every blob file against its record, then what
    each service knows of its data (S3: object checksums). Exit 0 when whole, 1 when damaged, 2 when there is
    nothing to check or the store is in use."""
    from overcast.platform import Platform
    from overcast.state.database import StoreDamaged, StoreInUse, file_problems

    config = config_from_args(args)
    config.ephemeral = False
    logging.basicConfig(level="ERROR", format="%(levelname)s %(name)s: %(message)s")
    database = config.data_dir / "overcast.db"
    if not database.exists():
        print(f"overcast check: no store in {config.data_dir}", file=sys.stderr)
        return 2
    try:
        problems = file_problems(database)
    except StoreInUse as error:
        print(f"overcast check: {error}", file=sys.stderr)
        return 2
    for problem in problems:
        print(f"DAMAGED {problem}")
    if problems:
        print(f"{database}: the database is damaged; blob files were not checked")
        return 1
    try:
        platform = Platform(config)
    except (StoreInUse, StoreDamaged) as error:
        print(f"overcast check: {error}", file=sys.stderr)
        return 2
    try:
        damaged = _damaged_data(platform)
        quarantine = config.data_dir / "quarantine"
        for what, reason, blob_id in damaged:
            moved = platform.blobs.quarantine(blob_id, quarantine) if args.quarantine and blob_id else None
            print(f"DAMAGED {what}: {reason}" + (f" (moved to {moved})" if moved else ""))
        verdict = f"{len(damaged)} damaged" if damaged else "no damage found"
        print(f"{config.data_dir}: database ok; {verdict}")
        return 1 if damaged else 0
    finally:
        platform.db.close()


def _damaged_data(platform: Any) -> list[tuple[str, str, str | None]]:
    """Every damaged piece of data: blob files first, then each service's own findings (one line per file)."""
    from overcast.services import PROVIDERS

    found: dict[str, tuple[str, str, str | None]] = {}
    services: list[tuple[str, str, str | None]] = []
    for blob_id, reason in platform.blobs.damaged():
        found[blob_id] = (f"blob {blob_id}", reason, blob_id)
    for service in platform.db.namespaces():
        provider = platform.provider(service) if service in PROVIDERS else None
        for what, reason, blob_id in provider.damaged_data() if provider is not None else ():
            if blob_id is not None and blob_id in found:
                found[blob_id] = (what, found[blob_id][1], blob_id)  # the object names the file better
            elif blob_id is not None:
                found[blob_id] = (what, reason, blob_id)
            else:
                services.append((what, reason, None))
    return [*found.values(), *services]


def _say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _listen(config: Config):
    """The listening socket, bound now; a port that is taken ends the command with one line and status 1."""
    import socket

    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
        sock.listen(1024)
    except OSError as error:  # the port is taken, the address is not ours
        sock.close()
        print(
            f"overcast: cannot listen on {config.host}:{config.port}: {error.strerror or error}",
            file=sys.stderr,
        )
        raise SystemExit(1) from None
    return sock


def _check_virtual_hosts_later(port: int) -> None:
    """Say so when `<bucket>.localhost` does not resolve here (virtual-hosted S3 clients then need path style:
    docs/clients.md). Checked in the background: a slow resolver must not delay start-up."""
    import socket
    import threading

    def check() -> None:
        try:
            socket.getaddrinfo("overcast-check.localhost", port)
        except OSError:
            _say(
                "  note:    *.localhost names do not resolve on this machine: use path-style S3 addressing "
                "(forcePathStyle, addressing_style=path; docs/clients.md)"
            )

    threading.Thread(target=check, name="overcast-resolve-check", daemon=True).start()


# -- talking to a running server --------------------------------------------------------------------


def _call(endpoint: str, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import urllib.error  # here, not at the top: `overcast start` never needs it (~10 ms of start-up)
    import urllib.request

    data = json.dumps(body).encode() if body is not None else (b"" if method == "POST" else None)
    request = urllib.request.Request(endpoint.rstrip("/") + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    # Under --iam enforce the server's own endpoints take changes only with the root's secret key.
    request.add_header("x-overcast-token", os.environ.get("OVERCAST_ROOT_SECRET_KEY") or "test")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}").get("error", error.reason)
        raise SystemExit(f"overcast: {detail}") from None
    except (urllib.error.URLError, OSError) as error:
        raise SystemExit(f"overcast: no server at {endpoint} ({error})") from None


def _status(args: argparse.Namespace) -> int:
    print(json.dumps(_call(args.endpoint, "GET", "/_overcast/health"), indent=2))
    return 0


def _reset(args: argparse.Namespace) -> int:
    health = _call(args.endpoint, "GET", "/_overcast/health")
    if health.get("persistent") and not args.yes:
        question = f"Delete every resource kept in {health.get('data_dir')}? [y/N] "
        if not sys.stdin.isatty():
            print(f"overcast: {question.split('?')[0]}? Not without --yes.", file=sys.stderr)
            return 1
        if input(question).strip().lower() not in ("y", "yes"):
            print("reset: nothing deleted")
            return 1
    _call(args.endpoint, "POST", "/_overcast/reset")
    print("reset: every resource deleted")
    return 0


def _env(args: argparse.Namespace) -> int:
    """The settings every AWS SDK and both CLIs read, for this server and the root test credentials."""
    region = args.region or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
    settings = {
        "AWS_ENDPOINT_URL": args.endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # Some operations prefix the endpoint's host (Step Functions' StartSyncExecution: sync-localhost, S3
        # Control: <account>.localhost), which does not resolve: the SDKs skip the prefix with this set.
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }
    if args.profile:
        print(f"[profile {args.profile}]")
        print(f"endpoint_url = {args.endpoint}")
        print(f"region = {region}")
        print("aws_access_key_id = test")
        print("aws_secret_access_key = test")
        print("disable_host_prefix_injection = true")
        return 0
    for name, value in settings.items():
        print(f"export {name}={value}")
    return 0


def _version(args: argparse.Namespace) -> int:
    print(f"overcast {__version__}")
    return 0


def _clock(args: argparse.Namespace) -> int:
    command = getattr(args, "clock_command", None) or "show"
    if command == "show":
        state = _call(args.endpoint, "GET", "/_overcast/clock")
    elif command == "advance":
        state = _call(args.endpoint, "POST", "/_overcast/clock", {"advance": args.duration})
    else:
        state = _call(args.endpoint, "POST", "/_overcast/clock", {"set": args.moment})
    print(f"{state['now']}  (offset {state['offset_seconds']:+.0f} s)")
    return 0


def _iam(args: argparse.Namespace) -> int:
    if getattr(args, "iam_command", None) != "report":
        print("usage: overcast iam report [--principal ARN] [--json] [--endpoint URL]", file=sys.stderr)
        return 2
    answer = _call(args.endpoint, "GET", "/_overcast/iam/report")
    principals = answer["principals"]
    if args.principal:
        principals = {arn: entry for arn, entry in principals.items() if arn == args.principal}
    if args.json:
        print(json.dumps(principals, indent=2))
        return 0
    if answer["mode"] != "soft":
        print(
            f"# the server runs with --iam {answer['mode']}: calls are recorded only with --iam soft",
            file=sys.stderr,
        )
    if not principals:
        print("# no calls recorded" + (f" for {args.principal}" if args.principal else ""), file=sys.stderr)
        return 0 if not args.principal else 1
    for arn, entry in principals.items():
        denied = len(entry["denied"])
        print(f"# {arn}: {entry['calls']} call(s), {denied} refused by its current policies")
        for item in entry["denied"]:
            print(f"#   needs {item['action']} on {item['resource']}")
        for general, seen in (entry.get("generalized") or {}).items():
            print(f"#   {general} stands for {', '.join(seen)}")
        print(json.dumps(entry["policy"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Settings, each from a command-line flag or an `OVERCAST_*` environment variable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

IAM_MODES = ("off", "soft", "enforce")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "overcast"


@dataclass
class Config:
    host: str = "127.0.0.1"
    port: int = 4566
    data_dir: Path = field(default_factory=default_data_dir)
    ephemeral: bool = False
    iam: str = "off"
    log_level: str = "info"
    default_account: str = "000000000000"
    default_region: str = "us-east-1"
    root_access_key: str = "test"
    root_secret_key: str = "test"
    fsync: bool = False
    # After a response the server keeps polling this long before it sleeps (the next request of a client
    # that sends at once is then read without waking a sleeping process). None: 250 with two or more CPUs,
    # 0 (off) with one.
    spin_us: int | None = None
    # Web origins (scheme://host[:port], comma-separated; "*" for any) whose pages may send signed requests and
    # use Overcast's own endpoints, besides pages served from this machine (localhost, 127.0.0.1, ::1).
    cors_origins: str = ""
    # The DNS server answering from Route 53's hosted zones (UDP and TCP on `host`); None: no DNS server.
    dns_port: int | None = None
    # The console's login token (docs/security.md): set when Overcast listens beyond loopback (printed at
    # start-up; OVERCAST_CONSOLE_TOKEN chooses it); empty: the console and the request log need none.
    console_token: str = ""

    @property
    def endpoint(self) -> str:
        """Where clients on this machine reach the server (for URLs made without a request to echo)."""
        host = "localhost" if self.host in ("127.0.0.1", "::1", "0.0.0.0", "::", "") else self.host
        return f"http://{host}:{self.port}"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        config = cls()
        text = {
            "host": "OVERCAST_HOST",
            "iam": "OVERCAST_IAM",
            "log_level": "OVERCAST_LOG_LEVEL",
            "default_account": "OVERCAST_DEFAULT_ACCOUNT",
            "default_region": "OVERCAST_DEFAULT_REGION",
            "root_access_key": "OVERCAST_ROOT_ACCESS_KEY",
            "root_secret_key": "OVERCAST_ROOT_SECRET_KEY",
            "cors_origins": "OVERCAST_CORS_ORIGINS",
            "console_token": "OVERCAST_CONSOLE_TOKEN",
        }
        for attr, name in text.items():
            if env.get(name):
                setattr(config, attr, env[name])
        if env.get("OVERCAST_PORT"):
            config.port = int(env["OVERCAST_PORT"])
        if env.get("OVERCAST_DATA_DIR"):
            config.data_dir = Path(env["OVERCAST_DATA_DIR"])
        config.ephemeral = _flag(env.get("OVERCAST_EPHEMERAL"))
        config.fsync = _flag(env.get("OVERCAST_FSYNC"))
        if env.get("OVERCAST_DNS_PORT"):
            config.dns_port = int(env["OVERCAST_DNS_PORT"])
        if env.get("OVERCAST_SPIN_US"):
            config.spin_us = int(env["OVERCAST_SPIN_US"])
        return config

    @property
    def loopback_only(self) -> bool:
        """Whether Overcast listens only to this machine."""
        import ipaddress

        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False

    def validate(self) -> None:
        if self.iam not in IAM_MODES:
            raise ValueError(f"--iam must be one of {', '.join(IAM_MODES)}, not {self.iam!r}")
        if not (self.default_account.isdigit() and len(self.default_account) == 12):
            raise ValueError("the default account must be a 12-digit account id")
        if self.dns_port is not None and not 1 <= self.dns_port <= 65535:
            raise ValueError("--dns-port must be between 1 and 65535")
        if self.spin_us is not None and not 0 <= self.spin_us <= 100_000:
            raise ValueError("--spin-us must be between 0 and 100000")


def _flag(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "on")

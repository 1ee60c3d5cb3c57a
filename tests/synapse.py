"""A real Matrix homeserver (Synapse) on loopback for tests, installed into pytest's cache.

Test modules use it with `from tests.synapse import synapse_server_fixture  # noqa: F401` and
take a `synapse_server: Synapse` argument.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import hmac
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.ports import free_port

# Synapse 1.x keeps the config keys written below; a 2.x may not, so it is not taken blindly.
SYNAPSE_REQUIREMENT = "matrix-synapse>=1.100,<2"
SERVER_NAME = "localhost"
# pip's own wait for an index is bounded by its timeout; this bounds a whole stalled install.
INSTALL_TIMEOUT = 900.0
START_TIMEOUT = 60.0
STOP_TIMEOUT = 15.0
# Rate limits far above anything a test does (hundreds of messages, logins and joins in
# seconds), so a test never waits on a 429 nor depends on how fast the machine is.
_UNLIMITED = {"per_second": 100_000, "burst_count": 1_000_000}
# Every limiter that Synapse 1.163's synapse/config/ratelimiting.py reads; rc_send_to_device
# does not exist there (to-device messages are not rate limited), so it is not set.
_RATE_LIMITS: dict[str, Any] = {
    "rc_message": _UNLIMITED,
    "rc_registration": _UNLIMITED,
    "rc_registration_token_validity": _UNLIMITED,
    "rc_login": {"address": _UNLIMITED, "account": _UNLIMITED, "failed_attempts": _UNLIMITED},
    "rc_admin_redaction": _UNLIMITED,
    "rc_joins": {"local": _UNLIMITED, "remote": _UNLIMITED},
    "rc_joins_per_room": _UNLIMITED,
    "rc_key_requests": _UNLIMITED,
    "rc_3pid_validation": _UNLIMITED,
    "rc_invites": {"per_room": _UNLIMITED, "per_user": _UNLIMITED, "per_issuer": _UNLIMITED},
    "rc_third_party_invite": _UNLIMITED,
    "rc_media_create": _UNLIMITED,
    "rc_presence": {"per_user": _UNLIMITED},
    "rc_delayed_event_mgmt": _UNLIMITED,
    "rc_room_creation": _UNLIMITED,
    "rc_reports": _UNLIMITED,
    "rc_user_directory": _UNLIMITED,
    "rc_profile": _UNLIMITED,
}


class SynapseError(RuntimeError):
    """Synapse could not be started, or answered an admin call with an error."""


class SynapseInstallError(SynapseError):
    """matrix-synapse could not be installed into the cache's virtualenv."""


@dataclass(frozen=True)
class Registered:
    """A user made by `Synapse.register`, with the session the registration opened."""

    user_id: str
    access_token: str
    device_id: str
    password: str


def _tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file, or a note that there is none."""
    if not path.exists():
        return f"({path.name} was not written)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _synapse_imports(python: Path) -> bool:
    """Whether the virtualenv's interpreter can import synapse."""
    if not python.exists():
        return False
    result = subprocess.run(
        [str(python), "-c", "import synapse"], capture_output=True, check=False, timeout=60
    )
    return result.returncode == 0


def _run_install_step(command: list[str]) -> None:
    """Run one step of the install, turning any failure into SynapseInstallError."""
    try:
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, timeout=INSTALL_TIMEOUT
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SynapseInstallError(f"{' '.join(command)}: {error}") from error
    if result.returncode != 0:
        output = (result.stdout + result.stderr).strip().splitlines()
        raise SynapseInstallError(
            f"{' '.join(command)} exited {result.returncode}: " + "\n".join(output[-20:])
        )


def ensure_synapse(cache_dir: Path) -> Path:
    """The python of a virtualenv under cache_dir that has Synapse, installing it if needed."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    venv = cache_dir / "venv"
    python = venv / "bin" / "python"
    marker = cache_dir / "installed"
    # One install at a time: parallel pytest processes (xdist workers, two checkouts sharing
    # a cache) would otherwise write into the same virtualenv at once and break it.
    with (cache_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if marker.exists() and _synapse_imports(python):
                return python
            # A virtualenv without the marker is a leftover of an interrupted install: its
            # packages may be half written, so it is made anew rather than trusted.
            marker.unlink(missing_ok=True)
            _run_install_step([sys.executable, "-m", "venv", "--clear", str(venv)])
            _run_install_step([str(python), "-m", "pip", "install", "--quiet", SYNAPSE_REQUIREMENT])
            if not _synapse_imports(python):
                raise SynapseInstallError("pip succeeded but `import synapse` still fails")
            marker.write_text(f"{SYNAPSE_REQUIREMENT} installed at {time.ctime()}\n")
            return python
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class Synapse:
    """One Synapse process on 127.0.0.1 with its config, database and logs in workdir."""

    def __init__(self, python: Path, workdir: Path) -> None:
        """Remember where Synapse's interpreter is and where its files go; start nothing."""
        self.python = python
        self.workdir = workdir
        self.port = 0
        self.registration_secret = secrets.token_hex(32)
        self.log_path = workdir / "homeserver.log"
        # Synapse's own log goes to log_path; this catches what it prints before logging is
        # set up (config errors, tracebacks at import), which is what explains a failed start.
        self.output_path = workdir / "output.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The client API's base URL, e.g. http://127.0.0.1:8448."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def server_name(self) -> str:
        """The domain part of this server's user ids."""
        return SERVER_NAME

    def user_id(self, localpart: str) -> str:
        """The full Matrix id of a local user."""
        return f"@{localpart}:{self.server_name}"

    def _write_config(self) -> Path:
        """Write homeserver.yaml, its log config and signing key; return the config's path."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        log_config = self.workdir / "log_config.yaml"
        # JSON is YAML, so the standard library writes both files.
        log_config.write_text(
            json.dumps(
                {
                    "version": 1,
                    "formatters": {
                        "plain": {"format": "%(asctime)s %(name)s %(levelname)s %(message)s"}
                    },
                    "handlers": {
                        "file": {
                            "class": "logging.FileHandler",
                            "formatter": "plain",
                            "filename": str(self.log_path),
                            "encoding": "utf-8",
                        }
                    },
                    "root": {"level": "WARNING", "handlers": ["file"]},
                    "disable_existing_loggers": False,
                },
                indent=2,
            )
        )
        signing_key = self.workdir / "signing.key"
        # The format `--generate-keys` writes (algorithm, version, unpadded base64 seed), made
        # here so a start does not pay for a second Synapse interpreter just to make 32 bytes.
        seed = base64.b64encode(os.urandom(32)).decode().rstrip("=")
        signing_key.write_text(f"ed25519 a_{secrets.token_hex(2)} {seed}\n")
        config: dict[str, Any] = {
            "server_name": SERVER_NAME,
            "public_baseurl": f"{self.url}/",
            "pid_file": str(self.workdir / "homeserver.pid"),
            "listeners": [
                {
                    "port": self.port,
                    "type": "http",
                    "tls": False,
                    "bind_addresses": ["127.0.0.1"],
                    "x_forwarded": False,
                    # No federation resource: the server is never to talk to another one.
                    "resources": [{"names": ["client"], "compress": False}],
                }
            ],
            "database": {
                "name": "sqlite3",
                "args": {"database": str(self.workdir / "homeserver.db")},
            },
            "log_config": str(log_config),
            "media_store_path": str(self.workdir / "media_store"),
            "signing_key_path": str(signing_key),
            "registration_shared_secret": self.registration_secret,
            "macaroon_secret_key": secrets.token_hex(32),
            "form_secret": secrets.token_hex(32),
            "enable_registration": False,
            # Nothing may reach beyond 127.0.0.1: no stats, no notary key servers, no
            # federation to any domain, no URL previews, no metrics listener.
            "report_stats": False,
            "trusted_key_servers": [],
            "suppress_key_server_warning": True,
            "federation_domain_whitelist": [],
            "url_preview_enabled": False,
            "enable_metrics": False,
            # Presence adds sync traffic and its own rate limit, and the bot has no use for it.
            "presence": {"enabled": False},
            "limit_profile_requests_to_users_who_share_rooms": False,
            **_RATE_LIMITS,
        }
        path = self.workdir / "homeserver.yaml"
        path.write_text(json.dumps(config, indent=2))
        return path

    def start(self) -> None:
        """Configure and start Synapse, returning once its client API answers."""
        if self._process is not None:
            raise SynapseError("this Synapse is already started")
        self.port = free_port()
        config = self._write_config()
        with self.output_path.open("wb") as output:
            # The child keeps its own copy of the file descriptor, so closing ours is fine.
            self._process = subprocess.Popen(
                [str(self.python), "-m", "synapse.app.homeserver", "-c", str(config)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        """Poll /_matrix/client/versions until it answers, the process dies or time is up."""
        assert self._process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            code = self._process.poll()
            if code is not None:
                raise SynapseError(f"Synapse exited with {code} while starting.\n{self._logs()}")
            try:
                versions = f"{self.url}/_matrix/client/versions"
                with urllib.request.urlopen(versions, timeout=2):  # noqa: S310
                    return
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise SynapseError(
                    f"Synapse did not answer within {START_TIMEOUT:.0f} s.\n{self._logs()}"
                )
            time.sleep(0.2)

    def _logs(self) -> str:
        """The tails of the process output and of Synapse's log, for a failure message."""
        return (
            f"--- {self.output_path}\n{_tail(self.output_path)}\n"
            f"--- {self.log_path}\n{_tail(self.log_path)}"
        )

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One JSON request to the server; an HTTP error becomes SynapseError with its body."""
        data = None if body is None else json.dumps(body).encode()
        # S310 warns of file: and custom schemes; the URL here is always our own http server.
        request = urllib.request.Request(  # noqa: S310
            f"{self.url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                answer: dict[str, Any] = json.load(response)
                return answer
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")
            raise SynapseError(f"{method} {path}: HTTP {error.code} {detail}") from error

    def register(self, localpart: str, password: str, admin: bool = False) -> Registered:
        """Create a user through the shared-secret admin API, which works with registration off."""
        endpoint = "/_synapse/admin/v1/register"
        nonce = self._call("GET", endpoint)["nonce"]
        # The MAC Synapse documents for this API: HMAC-SHA1 keyed by the shared secret over
        # nonce, user, password and admin flag, separated by NUL bytes.
        message = b"\x00".join(
            [
                nonce.encode(),
                localpart.encode(),
                password.encode(),
                b"admin" if admin else b"notadmin",
            ]
        )
        mac = hmac.new(self.registration_secret.encode(), message, hashlib.sha1).hexdigest()
        answer = self._call(
            "POST",
            endpoint,
            {
                "nonce": nonce,
                "username": localpart,
                "password": password,
                "admin": admin,
                "mac": mac,
            },
        )
        return Registered(
            user_id=answer["user_id"],
            access_token=answer["access_token"],
            device_id=answer["device_id"],
            password=password,
        )

    def stop(self) -> None:
        """Stop Synapse (SIGTERM, then SIGKILL if it lingers); calling it again does nothing."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# The function has another name than the fixture so that a test module can import it and take
# a `synapse_server` argument without ruff's F811 (an argument redefining an imported name).
@pytest.fixture(scope="session", name="synapse_server")
def synapse_server_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Synapse]:
    """A started Synapse shared by the session; its install is kept in pytest's cache."""
    cache: pytest.Cache | None = getattr(request.config, "cache", None)
    # pytest's cache keeps the install across runs; with `-p no:cacheprovider` there is none,
    # and the session installs into its own temporary directory instead.
    if cache is not None:
        cache_dir = Path(cache.mkdir("synapse"))
    else:
        cache_dir = tmp_path_factory.mktemp("synapse-cache")
    try:
        python = ensure_synapse(cache_dir)
    except SynapseInstallError as error:
        # CI must run the Matrix tests; elsewhere (offline, no pip) they are skipped, not red.
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Synapse tests: could not install matrix-synapse: {error}")
        pytest.skip(f"could not install matrix-synapse: {error}")
    server = Synapse(python, tmp_path_factory.mktemp("synapse"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = [
    "Registered",
    "Synapse",
    "SynapseError",
    "SynapseInstallError",
    "ensure_synapse",
    "synapse_server_fixture",
]

"""The bot's Matrix account on this machine: one device, kept across restarts.

Encryption keys belong to a device, so the bot must come back as the same device every time:
the first start logs in (or adopts the configured access token) and keeps the device id and
token in ``var/matrix/session.json``; later starts restore that session. The crypto store
(nio's SQLite, vodozemac underneath) lives beside it.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final

from nio import AsyncClient, AsyncClientConfig, LoginError, WhoamiError

from bot.settings import MatrixSettings

log = logging.getLogger(__name__)

SESSION_FILE: Final = "session.json"
UNKNOWN_TOKEN: Final = "M_UNKNOWN_TOKEN"  # noqa: S105 - an error code, not a secret


class MatrixLoginError(Exception):
    """The homeserver refused the bot's credentials."""


@dataclass(frozen=True, slots=True)
class SavedSession:
    user_id: str
    device_id: str
    access_token: str


def client_config() -> AsyncClientConfig:
    """Encryption on; nio retries 429s (honouring retry_after) and connection errors itself."""
    return AsyncClientConfig(
        encryption_enabled=True,
        # The sync token lives in our database, next to what the bot did with the events.
        store_sync_tokens=False,
        max_limit_exceeded=None,
        max_timeouts=None,
        request_timeout=30,
    )


async def open_client(settings: MatrixSettings, store_dir: Path) -> AsyncClient:
    """A logged-in client with its crypto store loaded and its keys uploaded."""
    if settings.homeserver is None or settings.user_id is None:
        raise ValueError("the Matrix adapter needs a homeserver and a user id")
    # Once, at start-up, before any event is handled: blocking here holds up nothing.
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)  # noqa: ASYNC240
    client = AsyncClient(
        settings.homeserver, settings.user_id, store_path=str(store_dir), config=client_config()
    )
    saved = _read(store_dir / SESSION_FILE)
    if saved is not None and saved.user_id == settings.user_id:
        client.restore_login(saved.user_id, saved.device_id, saved.access_token)
        if await _token_works(client):
            return await _with_keys(client)
        log.warning("the saved Matrix session was logged out; logging in again")
    session = await _new_session(client, settings)
    _write(store_dir / SESSION_FILE, session)
    if client.olm is None:  # a password login has loaded the store already
        client.restore_login(session.user_id, session.device_id, session.access_token)
    return await _with_keys(client)


async def _new_session(client: AsyncClient, settings: MatrixSettings) -> SavedSession:
    if settings.access_token is not None:
        client.access_token = settings.access_token.get_secret_value()
        who = await client.whoami()
        if isinstance(who, WhoamiError) or not who.device_id:
            raise MatrixLoginError(f"the access token was refused: {who}")
        return SavedSession(who.user_id, who.device_id, client.access_token)
    if settings.password is None:
        raise MatrixLoginError("set INFOPOINT_MATRIX__PASSWORD or __ACCESS_TOKEN")
    answer = await client.login(settings.password.get_secret_value(), settings.device_name)
    if isinstance(answer, LoginError):
        raise MatrixLoginError(f"the homeserver refused the login: {answer.message}")
    log.info("logged in to Matrix as a new device %s", answer.device_id)
    return SavedSession(answer.user_id, answer.device_id, answer.access_token)


async def _token_works(client: AsyncClient) -> bool:
    who = await client.whoami()
    if isinstance(who, WhoamiError):
        if who.status_code == UNKNOWN_TOKEN:
            return False
        raise MatrixLoginError(f"the homeserver did not accept the saved session: {who}")
    return True


async def _with_keys(client: AsyncClient) -> AsyncClient:
    if client.should_upload_keys:
        await client.keys_upload()
    return client


def _read(path: Path) -> SavedSession | None:
    try:
        return SavedSession(**json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError):
        log.warning("ignoring an unreadable %s", path)
        return None


def _write(path: Path, session: SavedSession) -> None:
    """Written owner-only: the token is as good as the bot's password."""
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump(asdict(session), file)
    temporary.replace(path)

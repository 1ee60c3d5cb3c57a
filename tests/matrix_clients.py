"""Real matrix-nio clients for the Matrix tests: people and staff writing to the bot.

Each client syncs in the background and records every message the bot sends to its rooms,
decrypted where the room is encrypted, so a test reads like a transcript.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomMemberEvent,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
)

from tests.synapse import Synapse

WAIT = 60.0
"""How long a test waits for the bot before failing (an event-driven wait, not a sleep)."""


@dataclass(frozen=True, slots=True)
class Seen:
    """A message as the client received it."""

    room_id: str
    sender: str
    body: str
    html: str | None
    msgtype: str
    encrypted: bool
    event_id: str
    relates_to: dict[str, Any]


class MatrixUser:
    """A person or staff member in a real nio client (with end-to-end encryption)."""

    def __init__(self, server: Synapse, localpart: str, store: Path) -> None:
        self.server = server
        self.localpart = localpart
        self.user_id = server.user_id(localpart)
        store.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            server.url,
            self.user_id,
            store_path=str(store),
            config=AsyncClientConfig(encryption_enabled=True, store_sync_tokens=False),
        )
        self.seen: list[Seen] = []
        self._changed = asyncio.Condition()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> MatrixUser:
        """Register (once per server), log in, and begin syncing."""
        password = f"pw-{self.localpart}"
        self.server.register(self.localpart, password)
        answer = await self.client.login(password, device_name=f"{self.localpart}-phone")
        assert isinstance(answer, LoginResponse), answer
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.client.add_event_callback(self._on_message, (RoomMessageText, RoomMessageNotice))
        self.client.add_event_callback(self._on_message, MegolmEvent)
        self.client.add_event_callback(self._on_member, RoomMemberEvent)
        await self.client.sync(timeout=0, full_state=True)
        self._task = asyncio.create_task(self.client.sync_forever(timeout=500))
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()

    async def open_dm(self, bot_user_id: str, *, encrypted: bool, wait: bool = True) -> str:
        """A direct chat with the bot, as Element makes one; returns once the bot joined."""
        initial_state = (
            [
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            ]
            if encrypted
            else []
        )
        created = await self.client.room_create(
            is_direct=True, invite=[bot_user_id], initial_state=initial_state
        )
        assert isinstance(created, RoomCreateResponse), created
        if wait:
            await self.until_member(created.room_id, bot_user_id)
        return str(created.room_id)

    async def open_room(self, invite: list[str], name: str) -> str:
        created = await self.client.room_create(name=name, invite=invite)
        assert isinstance(created, RoomCreateResponse), created
        return str(created.room_id)

    async def join(self, room_id: str) -> None:
        joined = await self.client.join(room_id)
        assert getattr(joined, "room_id", None) == room_id, joined

    async def until_member(self, room_id: str, user_id: str) -> None:
        """Wait until ``user_id`` has joined the room (so encryption keys reach its devices)."""

        def joined() -> bool:
            room = self.client.rooms.get(room_id)
            return room is not None and user_id in room.users and user_id not in room.invited_users

        await self._wait(joined)

    async def say(self, room_id: str, text: str, **extra: Any) -> str:
        """Send a text message; returns its event id."""
        content = {"msgtype": "m.text", "body": text, **extra}
        sent = await self.client.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        assert isinstance(sent, RoomSendResponse), sent
        return str(sent.event_id)

    async def send_raw(self, room_id: str, event_type: str, content: dict[str, Any]) -> None:
        """Send an event as is, past nio's encryption (to forge what a broken client sends)."""
        method, path, data = Api.room_send(
            self.client.access_token, room_id, event_type, content, uuid.uuid4()
        )
        response = await self.client.send(method, path, data)
        assert response.status == 200, await response.text()

    def from_user(self, room_id: str, sender: str) -> list[Seen]:
        return [m for m in self.seen if m.room_id == room_id and m.sender == sender]

    async def replies(self, room_id: str, sender: str, count: int) -> list[Seen]:
        """Wait until ``sender`` has sent at least ``count`` messages to the room; all of them."""
        await self._wait(lambda: len(self.from_user(room_id, sender)) >= count)
        return self.from_user(room_id, sender)

    async def first(self, room_id: str, sender: str, wanted: Callable[[Seen], bool]) -> Seen:
        """Wait for the first message from ``sender`` in the room that is ``wanted``."""

        def found() -> list[Seen]:
            return [m for m in self.from_user(room_id, sender) if wanted(m)]

        await self._wait(found)
        return found()[0]

    async def _wait(self, check: Any) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), WAIT)

    async def _on_message(self, room: Any, event: Any) -> None:
        content = event.source.get("content", {})
        if isinstance(event, MegolmEvent):
            seen = Seen(
                room.room_id, event.sender, "<undecryptable>", None, "?", True, event.event_id, {}
            )
        else:
            seen = Seen(
                room.room_id,
                event.sender,
                event.body,
                content.get("formatted_body"),
                content.get("msgtype", ""),
                bool(getattr(event, "decrypted", False)),
                event.event_id,
                content.get("m.relates_to") or {},
            )
        async with self._changed:
            self.seen.append(seen)
            self._changed.notify_all()

    async def _on_member(self, _room: Any, _event: Any) -> None:
        """Wake waiters: someone joined or left."""
        async with self._changed:
            self._changed.notify_all()

"""Sending into Matrix rooms, encrypted where the room is, and the errors that can happen."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from nio import AsyncClient, LocalProtocolError, RoomSendError

from bot.core.messages import Reply

log = logging.getLogger(__name__)


class MatrixSendError(Exception):
    """The homeserver refused a message, or the bot is not in the room."""

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        """Retrying will not help: the bot was removed, or the person left."""


PERMANENT_ERRORS = frozenset({"M_FORBIDDEN", "M_NOT_FOUND", "M_UNKNOWN"})


class RoomSender:
    """Sends message events; for an encrypted room it first makes sure every member's devices
    have our group session (one at a time: nio's key queries and claims must not overlap)."""

    def __init__(self, client: AsyncClient) -> None:
        self.client = client
        self.crypto = asyncio.Lock()

    async def send(
        self, room_id: str, content: dict[str, Any], transaction: str | None = None
    ) -> str:
        """Send ``content`` as an ``m.room.message``; the new event's id. The homeserver takes
        a ``transaction`` id once: sent again under it, the message is not posted twice."""
        client = self.client
        room = client.rooms.get(room_id)
        if room is None:
            raise MatrixSendError("the bot is not in this room", permanent=True)
        if room.encrypted and client.olm is not None:
            await self._share_session(room_id)
        try:
            answer = await client.room_send(
                room_id,
                "m.room.message",
                content,
                tx_id=transaction,
                # A bot cannot verify people's devices; their messages are still encrypted.
                ignore_unverified_devices=True,
            )
        except LocalProtocolError as error:
            raise MatrixSendError(str(error), permanent=False) from error
        if isinstance(answer, RoomSendError):
            raise MatrixSendError(
                f"{answer.status_code}: {answer.message}",
                permanent=answer.status_code in PERMANENT_ERRORS,
            )
        return str(answer.event_id)

    async def _share_session(self, room_id: str) -> None:
        client = self.client
        async with self.crypto:
            room = client.rooms[room_id]
            if not room.members_synced:
                await client.joined_members(room_id)
            if client.should_query_keys:
                await client.keys_query()
            if client.olm.should_share_group_session(room_id):
                await client.share_group_session(room_id, ignore_unverified_devices=True)


class ContentSender(Protocol):
    async def send(
        self, room_id: str, content: dict[str, Any], transaction: str | None = None
    ) -> str: ...


def reply_transaction(key: str, parts_left: int) -> str:
    """The transaction id of the part of a message that has ``parts_left`` parts, itself
    included, still to send from it; ``key`` names the message for good (the event id it
    replies to, or a staff answer's key).

    A kill -9 after the homeserver took a part and before the bot noted it sends that part
    again at the next start; under the same transaction id (same device) the homeserver
    returns the event it already has instead of posting it twice. Counted from the end, as
    what a start resends is the last parts of the replies.
    """
    return hashlib.sha256(f"{key}\n{parts_left}".encode()).hexdigest()[:32]


async def send_in_order(
    sender: ContentSender,
    room_id: str,
    parts: list[tuple[Reply, dict[str, Any]]],
    settle: Callable[[list[Reply]], Awaitable[None]],
    event_id: str | None = None,
) -> None:
    """Send ``parts`` (replies fitted to events) in order, and tell ``settle`` what is left to
    send after each: what a passing failure kept from the room stays for the next start,
    from the first part not sent; a permanent failure drops the rest. With nothing to send,
    ``settle`` is not told anything. The replies to ``event_id`` go out under transaction ids
    of their own, so that a part resent after a crash is posted once."""
    if not parts:
        # An event synced again after a crash is handled as a no-op and brings no replies;
        # settling it would mark the replies its first handling left unsent as delivered
        # before the start resends them, and they would never go out (the Matrix soak lost
        # two a run that way).
        return
    for index, (_, content) in enumerate(parts):
        transaction = None if event_id is None else reply_transaction(event_id, len(parts) - index)
        try:
            await sender.send(room_id, content, transaction)
        except MatrixSendError as error:
            log.warning("Matrix: a reply was not delivered: %s", error.reason)
            if not error.permanent:
                await settle([part for part, _ in parts[index:]])
                return
            break
        if index + 1 < len(parts):
            await settle([part for part, _ in parts[index + 1 :]])
    await settle([])

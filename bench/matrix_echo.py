"""A bare matrix-nio echo bot: the Matrix soak's yardstick for throughput.

Run as ``python -m bench.matrix_echo HOMESERVER USER_ID PASSWORD``; it joins every room it
is invited to and answers every m.text with an m.notice of the same body, until SIGTERM.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from nio import AsyncClient, AsyncClientConfig, InviteMemberEvent, LoginResponse, RoomMessageText


async def main(homeserver: str, user_id: str, password: str) -> None:
    client = AsyncClient(
        homeserver,
        user_id,
        config=AsyncClientConfig(encryption_enabled=False, store_sync_tokens=False),
    )

    async def on_invite(room: Any, event: InviteMemberEvent) -> None:
        if event.state_key == user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_text(room: Any, event: RoomMessageText) -> None:
        if event.sender != user_id:
            await client.room_send(
                room.room_id, "m.room.message", {"msgtype": "m.notice", "body": event.body}
            )

    client.add_event_callback(on_invite, InviteMemberEvent)
    client.add_event_callback(on_text, RoomMessageText)
    if not isinstance(await client.login(password), LoginResponse):
        raise SystemExit(f"{user_id} could not log in")
    try:
        await client.sync_forever(timeout=30_000)
    finally:
        await client.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))

"""The Synapse fixture, whole: two real nio clients exchange a message through it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinResponse,
    LoginResponse,
    RoomCreateResponse,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)

from tests.synapse import Synapse, synapse_server_fixture  # noqa: F401

SYNC_DEADLINE = 30.0


def make_client(server: Synapse, user_id: str, store: Path) -> AsyncClient:
    """A plain (unencrypted) nio client for user_id with its own store directory."""
    store.mkdir()
    return AsyncClient(
        server.url,
        user_id,
        store_path=str(store),
        config=AsyncClientConfig(encryption_enabled=False),
    )


async def sync_until_invited(client: AsyncClient, room_id: str) -> None:
    """Sync until the client sees its invite to room_id; fail after SYNC_DEADLINE."""
    deadline = time.monotonic() + SYNC_DEADLINE
    while time.monotonic() < deadline:
        response = await client.sync(timeout=1000)
        assert isinstance(response, SyncResponse), response
        if room_id in response.rooms.invite:
            return
    pytest.fail(f"{client.user_id} never saw the invite to {room_id}")


async def sync_until_message(client: AsyncClient, room_id: str) -> RoomMessageText:
    """Sync until a text message arrives in room_id; fail after SYNC_DEADLINE."""
    deadline = time.monotonic() + SYNC_DEADLINE
    while time.monotonic() < deadline:
        response = await client.sync(timeout=1000)
        assert isinstance(response, SyncResponse), response
        room = response.rooms.join.get(room_id)
        if room is None:
            continue
        for event in room.timeline.events:
            if isinstance(event, RoomMessageText):
                return event
    pytest.fail(f"{client.user_id} never received a message in {room_id}")


@pytest.mark.slow
async def test_two_users_exchange_a_message(synapse_server: Synapse, tmp_path: Path) -> None:
    alice = synapse_server.register("alice", "alice-password")
    bob = synapse_server.register("bob", "bob-password")
    assert alice.user_id == synapse_server.user_id("alice")
    client_a = make_client(synapse_server, alice.user_id, tmp_path / "alice")
    client_b = make_client(synapse_server, bob.user_id, tmp_path / "bob")
    try:
        assert isinstance(await client_a.login(alice.password), LoginResponse)
        assert isinstance(await client_b.login(bob.password), LoginResponse)

        created = await client_a.room_create(invite=[bob.user_id])
        assert isinstance(created, RoomCreateResponse), created
        await sync_until_invited(client_b, created.room_id)
        assert isinstance(await client_b.join(created.room_id), JoinResponse)

        body = "Dzień dobry, czy mogę zapytać o kartę pobytu?"
        sent = await client_a.room_send(
            created.room_id, "m.room.message", {"msgtype": "m.text", "body": body}
        )
        assert isinstance(sent, RoomSendResponse), sent

        received = await sync_until_message(client_b, created.room_id)
        assert received.sender == alice.user_id
        assert received.body == body
    finally:
        await client_a.close()
        await client_b.close()

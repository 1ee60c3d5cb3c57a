"""The soak's people on a local Synapse: an application service's users, in direct chats.

Thousands of people each logging in and long-polling /sync would measure the harness more
than the bot. As an application service the harness makes its users without passwords,
writes as any of them with one token, and Synapse pushes it every event in their rooms in
transactions: one stream for all the chats. The bot sees ordinary users in ordinary direct
chats; it is the only one Synapse rate-limits, and only when the soak asks for 429s.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import secrets
import time
from collections import defaultdict
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import aiohttp
from aiohttp import web

from tests.synapse import Synapse

PREFIX: Final = "soak-"
"""The application service's users: @soak-…; no one else's name starts so."""
STAFF_LOCALPART: Final = f"{PREFIX}staff"
STAFF_ANSWER: Final = "Zapraszamy we wtorek."
_NEW_CARD: Final = re.compile(r"!take (\d+)")
JOIN_WITHIN: Final = 60.0
"""Seconds the bot may take to join a chat it was invited to."""


class SoakSynapse(Synapse):
    """Synapse with the harness registered as an application service."""

    def __init__(self, python: Path, workdir: Path, chats: SynapseChats) -> None:
        super().__init__(python, workdir)
        self._chats = chats

    def _write_config(self) -> Path:
        path = super()._write_config()
        registration = self.workdir / "appservice.yaml"
        # JSON is YAML, as in the parent's config.
        registration.write_text(json.dumps(self._chats.registration(self.server_name)))
        config = json.loads(path.read_text())
        config["app_service_config_files"] = [str(registration)]
        path.write_text(json.dumps(config, indent=2))
        return path


class SynapseChats:
    """The people's side of the soak on Matrix (``bench.soak_people.Chats``), and the staff
    member who answers and closes each new ticket in the staff room."""

    def __init__(self) -> None:
        self.as_token = secrets.token_hex(32)
        self.hs_token = secrets.token_hex(32)
        self.received: dict[int, list[float]] = defaultdict(list)
        self.bodies: dict[int, list[str]] = defaultdict(list)
        """What each person received, to show what came twice."""
        self.arrived: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self.bot_id = ""
        self.staff_room = ""
        self.tickets_seen: set[int] = set()
        self._rooms: dict[int, str] = {}
        self._people: dict[str, int] = {}
        self._bot_joined: dict[str, asyncio.Event] = defaultdict(asyncio.Event)
        self._transactions: set[str] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._numbers = itertools.count()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._homeserver = ""
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def registration(self, server_name: str) -> dict[str, Any]:
        """The application service's registration file, as Synapse reads it."""
        return {
            "id": "infopoint-soak",
            "url": self.url,
            "as_token": self.as_token,
            "hs_token": self.hs_token,
            "sender_localpart": f"{PREFIX}bridge",
            "namespaces": {
                "users": [{"exclusive": True, "regex": f"@{PREFIX}.*:{re.escape(server_name)}"}],
                "rooms": [],
                "aliases": [],
            },
            "rate_limited": False,
        }

    async def listen(self) -> None:
        """Start taking Synapse's transactions on a free port of 127.0.0.1."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_put("/_matrix/app/v1/transactions/{txn}", self._on_transaction)
        app.router.add_put("/transactions/{txn}", self._on_transaction)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def connect(self, homeserver: str, bot_id: str) -> None:
        self._homeserver, self.bot_id = homeserver, bot_id
        self._session = aiohttp.ClientSession(
            headers={"Authorization": f"Bearer {self.as_token}"},
            connector=aiohttp.TCPConnector(limit=64),
        )

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def open_staff_room(self) -> str:
        """The staff room, with the bot invited (it joins when it starts)."""
        await self._register(STAFF_LOCALPART)
        created = await self._call(
            "POST",
            "/createRoom",
            STAFF_LOCALPART,
            {"name": "Staff", "invite": [self.bot_id], "preset": "private_chat"},
        )
        self.staff_room = created["room_id"]
        return self.staff_room

    async def bot_in_staff_room(self) -> None:
        await asyncio.wait_for(self._bot_joined[self.staff_room].wait(), JOIN_WITHIN)

    async def open_chats(self, users: list[dict[str, Any]], at_once: int = 8) -> None:
        """A direct chat with the bot for each person, joined by the bot (not timed)."""
        slots = asyncio.Semaphore(at_once)

        async def open_one(user: dict[str, Any]) -> None:
            async with slots:
                localpart = _localpart(user)
                await self._register(localpart)
                created = await self._call(
                    "POST",
                    "/createRoom",
                    localpart,
                    {"is_direct": True, "invite": [self.bot_id], "preset": "trusted_private_chat"},
                )
                room = created["room_id"]
                self._rooms[user["id"]] = room
                self._people[room] = user["id"]
                await asyncio.wait_for(self._bot_joined[room].wait(), JOIN_WITHIN)

        await asyncio.gather(*(open_one(user) for user in users))

    async def send_text(self, user: dict[str, Any], text: str) -> object:
        return await self._say(_localpart(user), self._rooms[user["id"]], text)

    async def press(self, user: dict[str, Any], data: str) -> object:
        raise NotImplementedError("Matrix has no buttons: the scripts type the option's number")

    async def _say(self, localpart: str, room: str, text: str) -> str:
        transaction = f"soak{next(self._numbers)}"
        sent = await self._call(
            "PUT",
            f"/rooms/{quote(room)}/send/m.room.message/{transaction}",
            localpart,
            {"msgtype": "m.text", "body": text},
        )
        return str(sent["event_id"])

    async def _register(self, localpart: str) -> None:
        try:
            await self._call(
                "POST",
                "/register",
                None,
                {"type": "m.login.application_service", "username": localpart},
            )
        except MatrixCallError as error:
            if "M_USER_IN_USE" not in str(error):
                raise

    async def _call(
        self, method: str, path: str, localpart: str | None, body: dict[str, Any]
    ) -> dict[str, Any]:
        if self._session is None:
            raise RuntimeError("connect first")
        params = {"user_id": f"@{localpart}:{_server(self.bot_id)}"} if localpart else {}
        url = f"{self._homeserver}/_matrix/client/v3{path}"
        async with self._session.request(method, url, params=params, json=body) as response:
            answer: dict[str, Any] = await response.json()
            if response.status != 200:
                raise MatrixCallError(f"{method} {path}: {response.status} {answer}")
            return answer

    async def _on_transaction(self, request: web.Request) -> web.Response:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token != self.hs_token and request.query.get("access_token") != self.hs_token:
            return web.json_response({"errcode": "M_FORBIDDEN"}, status=403)
        at = time.perf_counter()
        transaction = request.match_info["txn"]
        body = await request.json()
        if transaction not in self._transactions:  # Synapse retries a transaction it lost
            self._transactions.add(transaction)
            for event in body.get("events", []):
                self._on_event(event, at)
        return web.json_response({})

    def _on_event(self, event: dict[str, Any], at: float) -> None:
        room, kind, content = event.get("room_id", ""), event.get("type"), event.get("content", {})
        if kind == "m.room.member":
            if event.get("state_key") == self.bot_id and content.get("membership") == "join":
                self._bot_joined[room].set()
            return
        if kind != "m.room.message" or event.get("sender") != self.bot_id:
            return
        if room == self.staff_room:
            self._on_card(content)
            return
        person = self._people.get(room)
        if person is not None:
            self.received[person].append(at)
            self.bodies[person].append(str(content.get("body", ""))[:80])
            self.arrived[person].set()

    def _on_card(self, content: dict[str, Any]) -> None:
        if "m.new_content" in content:
            return  # an edit of a card already seen
        found = _NEW_CARD.search(str(content.get("body", "")))
        if found is None or int(found[1]) in self.tickets_seen:
            return
        number = int(found[1])
        self.tickets_seen.add(number)
        task = asyncio.create_task(self._answer_ticket(number))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer_ticket(self, number: int) -> None:
        await self._say(STAFF_LOCALPART, self.staff_room, f"!reply {number} {STAFF_ANSWER}")
        await self._say(STAFF_LOCALPART, self.staff_room, f"!close {number}")


class MatrixCallError(RuntimeError):
    """Synapse refused a call the harness made."""


def _localpart(user: dict[str, Any]) -> str:
    return f"{PREFIX}{user['id']}"


def _server(user_id: str) -> str:
    return user_id.partition(":")[2]

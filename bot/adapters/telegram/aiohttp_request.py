"""A python-telegram-bot request backend on aiohttp.

PTB's default backend (httpx) spent more of the bot's time under load than the dialogue
itself: the soak benchmark's profile showed httpx and httpcore in a quarter of all samples.
aiohttp does the same work in a fraction of the time. PTB's error contract is kept: a
timeout is ``TimedOut``, any other transport failure ``NetworkError``, and the status code
and body go back to PTB, which turns Telegram's errors into its own exceptions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Final

import aiohttp
import orjson
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import JSONDict, ODVInput, UploadFileDict
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

_JSON: Final = {"Content-Type": "application/json"}
MEDIA_WRITE_TIMEOUT: Final = 20.0
"""Uploads (the coordinator's reports) may take longer to send than a message."""


class AiohttpRequest(BaseRequest):
    """Sends the Bot API's requests through one pooled aiohttp session."""

    def __init__(
        self,
        connection_pool_size: int = 256,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    @staticmethod
    def parse_json_payload(payload: bytes) -> JSONDict:
        """Telegram's answer, decoded by orjson (PTB's own hook for a faster library): the
        standard library's decoder read every update and every sent message's echo."""
        try:
            decoded: JSONDict = orjson.loads(payload)
        except orjson.JSONDecodeError as error:
            # As PTB's own: invalid UTF-8 would fail orjson before any JSON was read.
            text = payload.decode("utf-8", "replace")
            try:
                decoded = orjson.loads(text)
            except orjson.JSONDecodeError:
                log.exception("Telegram answered with invalid JSON")
                raise TelegramError("Invalid server response") from error
        return decoded

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
            )

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(  # noqa: PLR0917 - PTB's signature
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data is not None else None
        body: aiohttp.FormData | bytes | None = None
        headers: dict[str, str] | None = None
        if request_data is not None and files:
            body = _multipart(request_data.json_parameters, files)
        elif request_data is not None:
            # A JSON body, which the Bot API takes for every method but uploads: encoding
            # the same fields as a form (PTB's way) quoted each reply's text character by
            # character, a fourteenth of the bot's CPU under load.
            body = orjson.dumps(request_data.parameters)
            headers = _JSON
        timeout = aiohttp.ClientTimeout(
            # aiohttp has no write timeout of its own: sending counts towards the whole.
            total=_sum(
                _given(write_timeout, MEDIA_WRITE_TIMEOUT if files else self._write_timeout),
                _given(read_timeout, self._read_timeout),
            ),
            connect=_given(pool_timeout, self._pool_timeout),
            sock_connect=_given(connect_timeout, self._connect_timeout),
            sock_read=_given(read_timeout, self._read_timeout),
        )
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError) as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _multipart(fields: dict[str, str], files: UploadFileDict) -> aiohttp.FormData:
    form = aiohttp.FormData()
    for name, value in fields.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in files.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form


def _given(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout passed to the call, or this backend's default when PTB passed none."""
    return default if isinstance(value, DefaultValue) else value


def _sum(*parts: float | None) -> float | None:
    """None (no limit) when any part has no limit."""
    return None if any(part is None for part in parts) else sum(part or 0.0 for part in parts)

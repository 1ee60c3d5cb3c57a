"""Telegram: updates become Inbound events; replies go back as HTML messages with buttons.

The PTB Application runs under a manual lifecycle (initialize/start/stop/shutdown) rather than
``run_polling``, so that it shares the event loop with the other adapters and the jobs.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from html import escape

from telegram import BotCommand, InputFile, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import BaseRequest, HTTPXRequest

from bot.adapters.telegram.aiohttp_request import AiohttpRequest
from bot.adapters.telegram.chat_queues import ChatQueues
from bot.adapters.telegram.delivery import ReplyDelivery, with_retries
from bot.adapters.telegram.polling import DurablePolling, UnseenUpdatesRequest
from bot.adapters.telegram.rendering import render_html
from bot.adapters.telegram.staff import StaffGroupHandlers, TelegramPeople, TelegramStaffBoard
from bot.adapters.telegram.webhook import DurableWebhook
from bot.core.dialogue import DialogueEngine
from bot.core.i18n import LANGUAGES
from bot.core.messages import Channel, Inbound, Reply, Unreadable
from bot.core.ports import ReportFile
from bot.core.staff import StaffDesk
from bot.settings import TelegramSettings
from bot.storage.pending_replies import SqlPendingReplies
from bot.storage.tickets import SqlTicketStore

log = logging.getLogger(__name__)

ALLOWED_UPDATES = (Update.MESSAGE, Update.EDITED_MESSAGE, Update.CALLBACK_QUERY)
"""An edited question is answered again, as corrected."""
CAPTION_LIMIT = 1024
"""Telegram's limit for a document's caption."""


class TelegramAdapter:
    """Runs the bot on Telegram, by long polling or by webhook.

    With a staff desk and a staff group configured it also serves staff: ticket cards in the
    group (``board``), their commands and buttons, and answers to people (``people``).
    """

    def __init__(
        self,
        settings: TelegramSettings,
        engine: DialogueEngine,
        staff: StaffDesk | None = None,
        tickets: SqlTicketStore | None = None,
        pending: SqlPendingReplies | None = None,
    ) -> None:
        if settings.token is None:
            raise ValueError("the Telegram adapter needs a token")
        self._settings = settings
        self._engine = engine
        builder = Application.builder().token(settings.token.get_secret_value())
        if settings.base_url:
            builder = builder.base_url(settings.base_url)
        if settings.base_file_url:
            builder = builder.base_file_url(settings.base_file_url)
        updates_backend: BaseRequest
        if settings.http_backend == "aiohttp":
            builder = builder.request(AiohttpRequest())
            updates_backend = AiohttpRequest(connection_pool_size=1)
        else:
            updates_backend = HTTPXRequest(connection_pool_size=1)  # PTB's own default
        unseen = UnseenUpdatesRequest(updates_backend)
        builder = builder.get_updates_request(unseen)
        # DurablePolling or DurableWebhook receives: PTB's Updater confirms an update before
        # it is handled, so a crash would lose it.
        builder = builder.updater(None)
        # Each branch builds: the rate limiter changes the builder's type.
        self.application = (
            builder.rate_limiter(AIORateLimiter()).build()
            if settings.rate_limit
            else builder.build()
        )
        bot = self.application.bot
        self.delivery = ReplyDelivery(bot, pending)
        self._sends = ChatQueues()
        self._polling = DurablePolling(self.application, ALLOWED_UPDATES, unseen=unseen)
        self._webhook: DurableWebhook | None = None
        if settings.mode == "webhook" and settings.webhook_secret is not None:
            self._webhook = DurableWebhook(
                self.application,
                listen=settings.webhook_listen,
                port=settings.webhook_port,
                path=settings.webhook_path,
                secret=settings.webhook_secret.get_secret_value(),
            )
        self.people = TelegramPeople(self.delivery)
        self.board: TelegramStaffBoard | None = None
        if staff is not None and tickets is not None and settings.staff_chat_id is not None:
            self.board = TelegramStaffBoard(bot, settings.staff_chat_id, tickets, staff.screens)
            group = StaffGroupHandlers(
                staff, tickets, settings.staff_chat_id, frozenset(settings.staff_ids)
            )
            in_group = filters.Chat(settings.staff_chat_id) & filters.TEXT
            self.application.add_handler(MessageHandler(in_group, group.on_message))
            # Ticket buttons from anywhere go here, so a forged one is refused, not ignored.
            self.application.add_handler(CallbackQueryHandler(group.on_button, r"^ticket:"))
        private_text = filters.ChatType.PRIVATE & filters.TEXT
        self.application.add_handler(MessageHandler(private_text, self._on_text))
        private_other = filters.ChatType.PRIVATE & ~filters.TEXT & ~filters.StatusUpdate.ALL
        self.application.add_handler(MessageHandler(private_other, self._on_not_text))
        other_groups: filters.BaseFilter = filters.ChatType.GROUPS
        if settings.staff_chat_id is not None:
            other_groups &= ~filters.Chat(settings.staff_chat_id)
        self.application.add_handler(MessageHandler(other_groups, self._on_group))
        self.application.add_handler(CallbackQueryHandler(self._on_button))
        self.application.add_error_handler(self._on_error)

    async def start(self) -> None:
        """Connect, register the command menu, and begin receiving updates."""
        app = self.application
        await app.initialize()
        await self._register_commands()
        # What a crash left stored goes out before anything new is fetched.
        await self.delivery.resend_undelivered()
        settings = self._settings
        if self._webhook is not None and settings.webhook_url is not None:
            await self._webhook.start(settings.webhook_url, ALLOWED_UPDATES)
        else:
            await app.bot.delete_webhook()
            self._polling.start()
        await app.start()
        log.info("Telegram adapter started (%s) as @%s", settings.mode, app.bot.username)

    async def stop(self) -> None:
        """Stop receiving, finish what is in hand, and close the connection."""
        app = self.application
        # Replies the engine stored that Telegram does not take now wait for the next start.
        self.delivery.stop_retrying()
        await self._polling.stop()
        if self._webhook is not None:
            await self._webhook.stop()
        await self._sends.drain()
        if app.running:
            await app.stop()
        await app.shutdown()

    async def _register_commands(self) -> None:
        """The command menu in each language; English also as the default for all others."""
        screens = self._engine.screens
        for language in (None, *LANGUAGES):
            commands = [
                BotCommand(name, description)
                for name, description in screens.command_descriptions(language or "en")
            ]
            await self.application.bot.set_my_commands(commands, language_code=language)

    async def _on_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A text message (commands included) from a private chat."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None or message.text is None:
            return
        inbound = Inbound(
            channel=Channel.TELEGRAM,
            user_id=str(user.id),
            event_id=str(update.update_id),
            received_at=message.date,
            text=message.text,
            language_hint=user.language_code,
            address=str(message.chat_id),
        )
        await self._reply(message, inbound)

    async def _on_not_text(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A sticker, photo, voice note, file, location...: the bot reads only text."""
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        picture = bool(message.photo or message.document)
        inbound = Inbound(
            channel=Channel.TELEGRAM,
            user_id=str(user.id),
            event_id=str(update.update_id),
            received_at=message.date,
            language_hint=user.language_code,
            address=str(message.chat_id),
            unreadable=Unreadable.PICTURE_OR_FILE if picture else Unreadable.NOT_TEXT,
        )
        await self._reply(message, inbound)

    async def _on_group(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Added to a group by mistake: say where the bot works, and leave."""
        chat, user = update.effective_chat, update.effective_user
        if chat is None:
            return
        log.info("leaving a group the bot was added to")
        notice = self._engine.private_chats_only(user.language_code if user else None)
        try:
            await chat.send_message(render_html(notice), parse_mode=ParseMode.HTML)
        finally:
            await context.bot.leave_chat(chat.id)

    async def _on_button(self, update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        """A pressed inline button: its callback data is the option's stable id."""
        query = update.callback_query
        if query is None:
            return
        await query.answer()
        message = query.message
        if not isinstance(message, Message):
            return  # too old for Telegram to show us; nothing to reply under
        inbound = Inbound(
            channel=Channel.TELEGRAM,
            user_id=str(query.from_user.id),
            event_id=str(update.update_id),
            received_at=datetime.now(UTC),
            choice=query.data or "?",  # no data: treated as a stale button
            language_hint=query.from_user.language_code,
            address=str(message.chat_id),
        )
        await self._reply(message, inbound)

    async def _reply(self, anchor: Message, inbound: Inbound) -> None:
        replies = await self._engine.handle(inbound)
        documents = [reply for reply in replies if reply.attachment is not None]
        for reply in documents:
            await self._send_document(anchor.chat_id, reply)
        messages = [reply for reply in replies if reply.attachment is None]
        if not messages:
            return
        chat_id, event_id = anchor.chat_id, inbound.event_id
        if self.delivery.resends_after_a_crash:
            # Sent while the next updates are handled: see chat_queues.py.
            await self._sends.add(
                chat_id, lambda: self.delivery.deliver(chat_id, event_id, messages)
            )
        else:
            await self.delivery.deliver(chat_id, event_id, messages)

    async def _send_document(self, chat_id: int, reply: Reply) -> None:
        """The coordinator's report: sent now or never, as it is made again on request."""
        attachment = reply.attachment
        if attachment is None:
            return
        await with_retries(
            lambda: self.application.bot.send_document(
                chat_id,
                InputFile(attachment.content, filename=attachment.filename),
                caption=render_html(reply)[:CAPTION_LIMIT],
                parse_mode=ParseMode.HTML,
            )
        )

    async def send_report(self, report: ReportFile) -> None:
        """The monthly report to every coordinator; one failing does not stop the others."""
        for chat_id in self._settings.coordinator_ids:
            try:
                await self.application.bot.send_document(
                    chat_id,
                    InputFile(report.content, filename=report.filename),
                    caption=escape(report.summary)[:CAPTION_LIMIT],
                    parse_mode=ParseMode.HTML,
                )
            except TelegramError:
                log.exception("could not send the monthly report to a coordinator")

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """The error boundary: log, apologise in the person's language, keep polling."""
        log.error("handling a Telegram update failed", exc_info=context.error)
        if not isinstance(update, Update) or update.effective_chat is None:
            return
        user = update.effective_user
        apology = self._engine.apology(user.language_code if user else None)
        try:
            await update.effective_chat.send_message(
                render_html(apology), parse_mode=ParseMode.HTML
            )
        except Exception:
            log.exception("could not send the apology either")

"""A bare python-telegram-bot echo bot: the soak benchmark's yardstick for throughput.

Run as ``python -m bench.echo_bot TOKEN BASE_URL``; it answers every private text with the same
text, with PTB's defaults (its own Updater, no rate limiter), until SIGTERM.
"""

from __future__ import annotations

import sys

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say the message back."""
    message = update.effective_message
    if message is not None and message.text is not None:
        await message.reply_text(message.text)


def main() -> None:
    token, base_url = sys.argv[1], sys.argv[2]
    application = Application.builder().token(token).base_url(base_url).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    application.run_polling(allowed_updates=[Update.MESSAGE], poll_interval=0.0)


if __name__ == "__main__":
    main()

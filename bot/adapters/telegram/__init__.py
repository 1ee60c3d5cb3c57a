"""The Telegram adapter, on python-telegram-bot."""

from bot.adapters.telegram.adapter import TelegramAdapter

__all__ = ["TelegramAdapter"]

"""The channel- and storage-free heart of the bot: dialogue, language policy, i18n.

Nothing here imports a chat SDK, SQLAlchemy or APScheduler (tests/test_architecture.py).
"""

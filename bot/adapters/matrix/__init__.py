"""The Matrix adapter (matrix-nio with end-to-end encryption)."""

from bot.adapters.matrix.adapter import MatrixAdapter

__all__ = ["MatrixAdapter"]

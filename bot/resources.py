"""Where the bot finds knowledge/, locales/ and db/: in the wheel, or in the source tree."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

ResourceName = Literal["knowledge", "locales", "db"]

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: ResourceName) -> Path:
    """The folder ``name``: bundled at bot/_resources/ in a wheel, else at the repo's top."""
    bundled = _PACKAGE_DIR / "_resources" / name
    if bundled.is_dir():
        return bundled
    return _PACKAGE_DIR.parent / name

"""Build hook: bundle content, migrations and compiled catalogues into the wheel.

The .mo files are compiled here rather than committed. An editable install needs none of
this: bot/resources.py finds the same folders in the source tree.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

BUNDLED_FOLDERS = ("knowledge", "db")


class BundleResources(BuildHookInterface):  # type: ignore[type-arg]
    """Adds bot/_resources/{knowledge,db,locales} to a standard (non-editable) wheel."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        for folder in BUNDLED_FOLDERS:
            build_data["force_include"][str(root / folder)] = f"bot/_resources/{folder}"
        compiled = Path(tempfile.mkdtemp(prefix="infopoint-mo-"))
        for po_path in (root / "locales").glob("*/LC_MESSAGES/*.po"):
            relative = po_path.relative_to(root / "locales").with_suffix(".mo")
            target = compiled / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            with po_path.open("rb") as po_file:
                catalogue = read_po(po_file)
            with target.open("wb") as mo_file:
                write_mo(mo_file, catalogue)
            build_data["force_include"][str(target)] = f"bot/_resources/locales/{relative}"

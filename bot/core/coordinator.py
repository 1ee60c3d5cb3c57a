"""The coordinator's /report in a chat: the monthly report as an XLSX file."""

from __future__ import annotations

import logging
from typing import Final

from bot.core.messages import Attachment, Inbound, Reply
from bot.core.ports import ReportDesk
from bot.core.screens import Screens

log = logging.getLogger(__name__)

XLSX: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REPORT_LANGUAGES: Final = ("pl", "en")
"""The languages reports are written in; the City Council reads Polish."""


async def coordinator_report(
    desk: ReportDesk | None, screens: Screens, key: str, language: str, inbound: Inbound
) -> list[Reply]:
    """/report [YYYY-MM]: the coordinator's report; anyone else is politely refused.

    Not a contact: reports are staff work, not help to a beneficiary.
    """
    if desk is None or not desk.is_coordinator(inbound.channel, inbound.user_id):
        log.warning("refused /report from a non-coordinator (%s)", key[:12])
        return [screens.not_a_coordinator(language)]
    argument = (inbound.text or "").split()[1:2]
    report_language = language if language in REPORT_LANGUAGES else "pl"
    try:
        report = await desk.monthly(
            argument[0] if argument else None, report_language, inbound.received_at
        )
    except ValueError as error:
        return [screens.report_problem(language, str(error))]
    attachment = Attachment(report.filename, report.content, XLSX)
    return [Reply(report.summary, report_language, attachment=attachment)]

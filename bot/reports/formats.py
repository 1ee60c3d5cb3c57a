"""A report as a text table, CSV or JSON (XLSX is in xlsx.py)."""

from __future__ import annotations

import csv
import io
import json
from typing import Final

from bot.reports.figures import PROCEDURES_TARGET, MonthFigures, Report
from bot.reports.labels import label

MONTH_COLUMNS: Final = (
    "beneficiaries",
    "new_beneficiaries",
    "reached_not_helped",
    "contacts",
    "answered",
    "handed_off",
    "unanswered",
)


def as_json(report: Report) -> str:
    """Stable keys, for other programs (see the README)."""
    ytd = report.year_to_date
    indicators = report.indicators
    document = {
        "generated_at": report.generated_at.isoformat(),
        "months": [_month_json(figures) for figures in report.months],
        "year_to_date": {
            "year": ytd.year,
            "as_of": ytd.as_of.isoformat(),
            "beneficiaries": ytd.beneficiaries,
            "target": ytd.target,
            "projection": ytd.projection,
            "needed_per_month": ytd.needed_per_month,
        },
        "indicators": {
            "procedures_translated": {
                "by_language": indicators.procedures_translated,
                "target": PROCEDURES_TARGET,
            },
            "assessments": {
                "positive": indicators.assessments_positive,
                "negative": indicators.assessments_negative,
            },
            "welcome_package_updates": indicators.welcome_package_updates,
        },
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _month_json(figures: MonthFigures) -> dict[str, object]:
    return {
        "month": str(figures.month),
        **{column: getattr(figures, column) for column in MONTH_COLUMNS},
        "by_language": figures.by_language,
        "by_channel": figures.by_channel,
        "top_topics": [[topic, count] for topic, count in figures.top_topics],
    }


def as_csv(report: Report, language: str) -> str:
    """One row per month: the counts a spreadsheet needs."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([label("month", language), *(label(c, language) for c in MONTH_COLUMNS)])
    for figures in report.months:
        writer.writerow([str(figures.month), *(getattr(figures, c) for c in MONTH_COLUMNS)])
    return out.getvalue()


def as_table(report: Report, language: str) -> str:
    """What a person reads in a terminal or a chat message."""

    def t(key: str) -> str:
        return label(key, language)

    widths = [9, *(max(6, len(t(c))) for c in MONTH_COLUMNS)]
    header = [t("month"), *(t(c) for c in MONTH_COLUMNS)]
    lines = [
        t("title"),
        f"{t('period')}: {report.first} – {report.last}",
        "",
        "  ".join(text.ljust(width) for text, width in zip(header, widths, strict=True)),
    ]
    for figures in report.months:
        cells = [str(figures.month), *(str(getattr(figures, c)) for c in MONTH_COLUMNS)]
        lines.append(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
            )
        )
    lines += ["", *summary_lines(report, language)]
    return "\n".join(lines) + "\n"


def summary_lines(report: Report, language: str) -> list[str]:
    """The indicators in a few lines (also the chat summary under the XLSX)."""

    def t(key: str) -> str:
        return label(key, language)

    ytd = report.year_to_date
    indicators = report.indicators
    status = t("on_track") if ytd.on_track else t("behind")
    procedures = ", ".join(
        f"{lang} {count}" for lang, count in indicators.procedures_translated.items()
    )
    return [
        f"{t('ytd')} {ytd.year} ({ytd.as_of.isoformat()}): {ytd.beneficiaries} / {ytd.target}"
        f" – {status}",
        f"{t('projection')}: {ytd.projection}; {t('needed')}: {ytd.needed_per_month}",
        f"{t('procedures')}: {procedures} ({t('target')} {PROCEDURES_TARGET})",
        f"{t('positive')}: {indicators.assessments_positive}; "
        f"{t('negative')}: {indicators.assessments_negative}",
        f"{t('updates')}: {indicators.welcome_package_updates}",
    ]

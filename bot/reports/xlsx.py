"""The report as the XLSX workbook a city office expects.

Sheets: a summary (indicator, target, value, status), the months with a native chart of
monthly beneficiaries against the target pace, and one sheet per breakdown. Headers are
frozen, columns sized to their contents, every label in the coordinator's language.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.figures import BENEFICIARY_TARGET, PROCEDURES_TARGET, Report
from bot.reports.formats import MONTH_COLUMNS
from bot.reports.labels import label

_HEADER_FONT = Font(bold=True, color="FFFFFF")
_HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
_TITLE_FONT = Font(bold=True, size=14)
_TABLE_TOP = 4
"""Rows 1-2 hold the title and the generation line; tables start at row 4."""


def as_xlsx(report: Report, language: str) -> bytes:
    """The workbook's bytes."""
    workbook = Workbook()
    _summary_sheet(workbook.create_sheet(), report, language)
    del workbook["Sheet"]  # the empty sheet every new workbook starts with
    _months_sheet(workbook.create_sheet(), report, language)
    _breakdown_sheet(
        workbook.create_sheet(),
        report,
        language,
        "by_language",
        "language",
        ((str(m.month), m.by_language) for m in report.months),
    )
    _breakdown_sheet(
        workbook.create_sheet(),
        report,
        language,
        "by_channel",
        "channel",
        ((str(m.month), m.by_channel) for m in report.months),
    )
    _topics_sheet(workbook.create_sheet(), report, language)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _heading(sheet: Worksheet, report: Report, language: str, title_key: str) -> None:
    sheet["A1"] = f"{label('title', language)} – {label(title_key, language)}"
    sheet["A1"].font = _TITLE_FONT
    sheet["A2"] = (
        f"{label('period', language)}: {report.first} – {report.last}; "
        f"{label('generated', language)}: {report.generated_at:%Y-%m-%d %H:%M} UTC"
    )


def _table(sheet: Worksheet, header: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a header and rows from _TABLE_TOP; freeze the header; size the columns.
    Returns the last row written."""
    for column, text in enumerate(header, start=1):
        cell = sheet.cell(row=_TABLE_TOP, column=column, value=text)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    last = _TABLE_TOP
    for last, row in enumerate(rows, start=_TABLE_TOP + 1):
        for column, value in enumerate(row, start=1):
            sheet.cell(row=last, column=column, value=value)
    sheet.freeze_panes = sheet.cell(row=_TABLE_TOP + 1, column=1)
    for column, text in enumerate(header, start=1):
        values = [str(sheet.cell(row=r, column=column).value or "") for r in range(5, last + 1)]
        width = max([len(text) + 2, *(len(v) + 2 for v in values)])
        sheet.column_dimensions[get_column_letter(column)].width = min(width, 60)
    return last


def _summary_sheet(sheet: Worksheet, report: Report, language: str) -> None:
    def t(key: str) -> str:
        return label(key, language)

    sheet.title = t("summary")
    _heading(sheet, report, language, "summary")
    ytd, indicators = report.year_to_date, report.indicators
    rows: list[tuple[str, object, object, str]] = [
        (
            f"{t('ytd')} {ytd.year}",
            BENEFICIARY_TARGET,
            ytd.beneficiaries,
            t("met") if ytd.beneficiaries >= ytd.target else "",
        ),
        (
            t("projection"),
            BENEFICIARY_TARGET,
            ytd.projection,
            t("on_track") if ytd.on_track else t("behind"),
        ),
        (t("needed"), "", ytd.needed_per_month, ""),
    ]
    rows += [
        (
            f"{t('procedures')}: {language_code}",
            PROCEDURES_TARGET,
            count,
            t("met") if count >= PROCEDURES_TARGET else t("not_met"),
        )
        for language_code, count in indicators.procedures_translated.items()
    ]
    rows += [
        (t("positive"), "", indicators.assessments_positive, ""),
        (t("negative"), "", indicators.assessments_negative, ""),
        (t("updates"), "", indicators.welcome_package_updates, ""),
    ]
    _table(sheet, [t("indicator"), t("target"), t("value"), t("status")], rows)


def _months_sheet(sheet: Worksheet, report: Report, language: str) -> None:
    sheet.title = label("months_sheet", language)
    _heading(sheet, report, language, "months_sheet")
    pace = round(BENEFICIARY_TARGET / 12, 1)
    header = [
        label("month", language),
        *(label(column, language) for column in MONTH_COLUMNS),
        label("target_pace", language),
    ]
    rows = [
        [str(m.month), *(getattr(m, column) for column in MONTH_COLUMNS), pace]
        for m in report.months
    ]
    last = _table(sheet, header, rows)
    # Bars: monthly beneficiaries; line: the pace that reaches 4,000 in a year.
    bars = BarChart()
    bars.title = label("chart", language)
    bars.y_axis.title = label("beneficiaries", language)
    bars.add_data(
        Reference(sheet, min_col=2, min_row=_TABLE_TOP, max_row=last), titles_from_data=True
    )
    months = Reference(sheet, min_col=1, min_row=_TABLE_TOP + 1, max_row=last)
    bars.set_categories(months)
    line = LineChart()
    pace_column = len(header)
    line.add_data(
        Reference(sheet, min_col=pace_column, min_row=_TABLE_TOP, max_row=last),
        titles_from_data=True,
    )
    line.set_categories(months)
    bars += line
    bars.width, bars.height = 24, 12
    sheet.add_chart(bars, f"A{last + 3}")


def _breakdown_sheet(  # noqa: PLR0917 - private, and every argument is needed
    sheet: Worksheet,
    report: Report,
    language: str,
    title_key: str,
    column_key: str,
    per_month: Iterable[tuple[str, dict[str, int]]],
) -> None:
    sheet.title = label(title_key, language)[:31]
    _heading(sheet, report, language, title_key)
    rows = [(month, key, count) for month, counts in per_month for key, count in counts.items()]
    _table(
        sheet,
        [label("month", language), label(column_key, language), label("count", language)],
        rows,
    )


def _topics_sheet(sheet: Worksheet, report: Report, language: str) -> None:
    sheet.title = label("top_topics", language)[:31]
    _heading(sheet, report, language, "top_topics")
    rows = [(str(m.month), topic, count) for m in report.months for topic, count in m.top_topics]
    _table(
        sheet, [label("month", language), label("topic", language), label("count", language)], rows
    )

"""Report labels in the coordinator's language: Polish by default, English available.

Reports go to the city office, not to migrants, so they have their own two-language table
rather than the bot's four-language catalogues.
"""

from __future__ import annotations

from typing import Final

REPORT_LANGUAGES: Final = ("pl", "en")

_LABELS: Final[dict[str, dict[str, str]]] = {
    "title": {
        "pl": "Punkt Informacyjny dla Obcokrajowców – raport asystenta",
        "en": "Information Point for Foreigners – assistant report",
    },
    "period": {"pl": "Okres", "en": "Period"},
    "generated": {"pl": "Wygenerowano", "en": "Generated"},
    "month": {"pl": "Miesiąc", "en": "Month"},
    "beneficiaries": {"pl": "Beneficjenci", "en": "Beneficiaries"},
    "new_beneficiaries": {"pl": "Nowi beneficjenci", "en": "New beneficiaries"},
    "reached_not_helped": {"pl": "Bez udzielonej pomocy", "en": "Reached, not helped"},
    "contacts": {"pl": "Kontakty", "en": "Contacts"},
    "answered": {"pl": "Odpowiedź asystenta", "en": "Answered by the bot"},
    "handed_off": {"pl": "Przekazane pracownikom", "en": "Handed to staff"},
    "unanswered": {"pl": "Bez odpowiedzi", "en": "Unanswered"},
    "by_language": {"pl": "Beneficjenci wg języka", "en": "Beneficiaries by language"},
    "by_channel": {"pl": "Beneficjenci wg kanału", "en": "Beneficiaries by channel"},
    "top_topics": {"pl": "Najczęstsze tematy", "en": "Top topics"},
    "topic": {"pl": "Temat", "en": "Topic"},
    "count": {"pl": "Liczba", "en": "Count"},
    "language": {"pl": "Język", "en": "Language"},
    "channel": {"pl": "Kanał", "en": "Channel"},
    "indicator": {"pl": "Wskaźnik", "en": "Indicator"},
    "target": {"pl": "Cel", "en": "Target"},
    "value": {"pl": "Wartość", "en": "Value"},
    "status": {"pl": "Status", "en": "Status"},
    "on_track": {"pl": "zgodnie z planem", "en": "on track"},
    "behind": {"pl": "poniżej planu", "en": "behind"},
    "met": {"pl": "osiągnięty", "en": "met"},
    "not_met": {"pl": "nieosiągnięty", "en": "not met"},
    "ytd": {"pl": "Beneficjenci od początku roku", "en": "Beneficiaries, year to date"},
    "projection": {"pl": "Prognoza na koniec roku", "en": "Projection for the year"},
    "needed": {
        "pl": "Potrzebni nowi beneficjenci miesięcznie",
        "en": "New beneficiaries needed per month",
    },
    "target_pace": {"pl": "Tempo celu", "en": "Target pace"},
    "procedures": {
        "pl": "Procedury dostępne w języku",
        "en": "Procedures available in",
    },
    "positive": {"pl": "Oceny pozytywne (👍)", "en": "Positive assessments (👍)"},
    "negative": {"pl": "Oceny negatywne (👎)", "en": "Negative assessments (👎)"},
    "updates": {
        "pl": "Aktualizacje pakietu powitalnego",
        "en": "Welcome-package updates",
    },
    "summary": {"pl": "Podsumowanie", "en": "Summary"},
    "months_sheet": {"pl": "Miesiące", "en": "Months"},
    "chart": {"pl": "Beneficjenci miesięcznie", "en": "Beneficiaries per month"},
}


def label(key: str, language: str) -> str:
    """The label ``key`` in ``language`` (pl or en)."""
    return _LABELS[key][language]

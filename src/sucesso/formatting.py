"""Numbers, money and rates as a person reads them, in English or Brazilian Portuguese (Babel)."""

from __future__ import annotations

from babel.numbers import format_currency, format_decimal, format_percent

LOCALES = {"pt_BR": "pt_BR", "pt": "pt_BR", "en": "en_US", "en_US": "en_US"}


def babel_locale(locale: str | None) -> str:
    return LOCALES.get(locale or "pt_BR", "pt_BR")


PATTERNS = {"rate": "#,##0.0%", "count": "#,##0", "hours": "#,##0.##", "days": "#,##0.##", "number": "#,##0.##"}


def format_value(value, unit: str, locale: str = "pt_BR", currency: str = "BRL", pattern: str | None = None) -> str:
    """`R$ 1.234,56` / `$1,234.56`, `6,3%` / `6.3%`; an undefined value is an em dash. `pattern`
    (Babel's: "0.000", "+#,##0;-#,##0", "#,##0%") changes a number's or a rate's digits."""
    if value is None:
        return "—"
    loc = babel_locale(locale)
    if unit == "money":
        return format_currency(value, currency, locale=loc)
    if unit == "rate":
        return format_percent(value, pattern or PATTERNS[unit], locale=loc)
    if unit in PATTERNS:
        return format_decimal(value, pattern or PATTERNS[unit], locale=loc)
    return str(value)

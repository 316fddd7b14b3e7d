"""Numbers, money and rates as a person reads them, in English or Brazilian Portuguese (Babel)."""

from __future__ import annotations

from babel.numbers import format_currency, format_decimal, format_percent

LOCALES = {"pt_BR": "pt_BR", "pt": "pt_BR", "en": "en_US", "en_US": "en_US"}


def babel_locale(locale: str | None) -> str:
    return LOCALES.get(locale or "pt_BR", "pt_BR")


def format_value(value, unit: str, locale: str = "pt_BR", currency: str = "BRL") -> str:
    """`R$ 1.234,56` / `$1,234.56`, `6,3%` / `6.3%`; an undefined value is an em dash."""
    if value is None:
        return "—"
    loc = babel_locale(locale)
    if unit == "money":
        return format_currency(value, currency, locale=loc)
    if unit == "rate":
        return format_percent(value, "#,##0.0%", locale=loc)
    if unit == "count":
        return format_decimal(value, "#,##0", locale=loc)
    if unit in ("hours", "days", "number"):
        return format_decimal(value, "#,##0.##", locale=loc)
    return str(value)

"""Rendering a page: the template, and what every page has in its context — the user, the
language and its gettext, number/money/date formatting in that language, the period and
segment filters, and the navigation."""

from __future__ import annotations

from importlib import resources

import pandas as pd
from babel.dates import format_date
from fastapi import Request
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from sucesso.formatting import babel_locale, format_value
from sucesso.i18n import from_accept_language, gettext_for, normalise

TEMPLATES = Jinja2Templates(directory=str(resources.files("sucesso.web").joinpath("templates")))

# (path, message) — the pages, in the order of the navigation
NAVIGATION = (
    ("/", "Overview"),
    ("/revenue", "Revenue & retention"),
    ("/satisfaction", "Satisfaction"),
    ("/support", "Support & adoption"),
    ("/health", "Health"),
    ("/accounts", "Accounts"),
    ("/portfolio", "Portfolio"),
    ("/tasks", "Tasks"),
    ("/churn", "Churn"),
    ("/team", "Team"),
    ("/targets", "Targets"),
    ("/settings", "Settings"),
)


def requested_language(request: Request) -> str | None:
    """The user's language, else the `lang` cookie, else the browser's (None: none of them)."""
    user = getattr(request.state, "user", None)
    chosen = (getattr(user, "locale", None) or request.query_params.get("lang") or request.cookies.get("lang")
              or from_accept_language(request.headers.get("accept-language")))
    return normalise(chosen) if chosen else None


def language_of(request: Request) -> str:
    """The user's language, else the `lang` cookie, else the browser's, else the workspace's."""
    return requested_language(request) or normalise(request.app.state.workspace.setting("locale"))


def gettext_of(request: Request):
    return gettext_for(language_of(request))


class Formats:
    """Numbers, money, rates and dates as the page's language writes them."""

    def __init__(self, language: str, currency: str):
        self.language, self.currency = language, currency
        self.locale = babel_locale(language)

    def value(self, value, unit: str) -> str:
        return format_value(value, unit, self.language, self.currency)

    def money(self, value) -> str:
        return self.value(value, "money")

    def rate(self, value) -> str:
        return self.value(value, "rate")

    def number(self, value) -> str:
        return self.value(value, "number")

    def count(self, value) -> str:
        return self.value(value, "count")

    def date(self, value) -> str:
        if value is None or value == "":
            return "—"
        return format_date(pd.Timestamp(value).date(), "medium", locale=self.locale)


def page(request: Request, template: str, status_code: int = 200, **context):
    language = language_of(request)
    workspace = request.app.state.workspace
    _ = gettext_for(language)
    base = {
        "request": request,
        "user": getattr(request.state, "user", None),
        "language": language,
        "_": _,
        "fmt": Formats(language, workspace.setting("currency")),
        "navigation": [(path, _(label)) for path, label in NAVIGATION],
        "path": request.url.path,
        "csrf_field": lambda: _csrf_field(request),
    }
    return TEMPLATES.TemplateResponse(request, template, {**base, **context}, status_code=status_code)


def _csrf_field(request: Request) -> Markup:
    from sucesso.web.auth import csrf_token

    return Markup('<input type="hidden" name="csrf_token" value="{}">').format(csrf_token(request))

"""The success review as a person reads it: `review_view` turns the data (review.py) into titled
sections of blocks — cards, tables, lists, notes, the chart — with every word and number in the
review's language; `review_html` draws them as one self-contained HTML page (inline CSS and SVG,
nothing fetched: the CSM can e-mail it) and pdf.py as a PDF. Empty sections say so in words."""

from __future__ import annotations

import datetime as dt
from importlib import resources

from babel.dates import format_date, format_skeleton
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from sucesso.formatting import babel_locale, format_value
from sucesso.i18n import gettext_for
from sucesso.reports import charts

BAND_COLOURS = {"red": "#c62828", "yellow": "#b68a00", "green": "#2e7d32", "missing": "#8a93a3"}
TEMPLATES = Environment(loader=FileSystemLoader(str(resources.files("sucesso.reports").joinpath("templates"))),
                        autoescape=select_autoescape(default=True, default_for_string=True))


class Formats:
    """Money, numbers, rates and dates in the review's language and the workspace's currency."""

    def __init__(self, language: str, currency: str):
        self.language, self.currency, self.locale = language, currency, babel_locale(language)

    def value(self, value, unit: str) -> str:
        return format_value(value, unit, self.language, self.currency)

    def signed(self, value, unit: str) -> str:
        return ("+" if value is not None and value > 0 else "") + self.value(value, unit)

    def score(self, value) -> str:
        return "—" if value is None else self.value(round(value), "count")

    def date(self, value: str | dt.date | None) -> str:
        if not value:
            return "—"
        day = dt.date.fromisoformat(value) if isinstance(value, str) else value
        return format_date(day, "medium", locale=self.locale)


def file_name(review: dict, extension: str) -> str:
    """review-<account_id>-<period>.<extension>, anything but ASCII letters, digits, . _ - made _."""
    safe = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in "._-" else "_"
                   for ch in review["account"]["account_id"])
    return f"review-{safe}-{review['period']['label']}.{extension}"


def review_view(review: dict) -> dict:
    """{title, account, period, header: [(label, value)], sections: [{id, title, blocks}]}."""
    _ = gettext_for(review["language"])
    f = Formats(review["language"], review["currency"])
    a, p = review["account"], review["period"]
    period = _period_text(p, f, _)
    return {
        "language": review["language"], "title": _("Success review"), "account": a["name"], "period": period,
        "header": [(_("Account"), a["name"]), (_("Period"), period), (_("CSM"), a["csm"] or "—"),
                   (_("Plan"), a["plan"] or "—"), (_("Segment"), a["segment"] or "—"),
                   (_("Prepared on"), f.date(review["prepared_on"]))],
        "sections": [
            {"id": "kpis", "title": _("Highlights of the period"), "blocks": _kpi_blocks(review["kpis"], f, _)},
            {"id": "health", "title": _("Health score"), "blocks": _health_blocks(review["health"], p, f, _)},
            {"id": "usage", "title": _("Usage and adoption"), "blocks": _usage_blocks(review["usage"], f, _)},
            {"id": "support", "title": _("Support"), "blocks": _ticket_blocks(review["tickets"], f, _)},
            {"id": "satisfaction", "title": _("Satisfaction"),
             "blocks": _satisfaction_blocks(review["satisfaction"], f, _)},
            {"id": "goals", "title": _("Goals achieved"), "blocks": _goal_blocks(review["goals"], f, _)},
            {"id": "next-steps", "title": _("Next steps"),
             "blocks": _next_blocks(review["next_steps"], review["health"] is not None, f, _)},
        ],
    }


def _period_text(p: dict, f: Formats, _) -> str:
    first = dt.date.fromisoformat(p["from"])
    dates = f"{f.date(p['from'])} – {f.date(p['last_day'])}"
    named = {"quarter": lambda: _("Q%(quarter)s %(year)s", quarter=(first.month - 1) // 3 + 1, year=first.year),
             "month": lambda: format_skeleton("yMMMM", first, locale=f.locale),
             "year": lambda: str(first.year)}.get(p["kind"])
    return f"{named()} ({dates})" if named else dates


def _card(label: str, value: str, note: str = "", band: str | None = None) -> dict:
    return {"label": label, "value": value, "note": note, "band": band}


def _cards(*items: dict) -> dict:
    return {"kind": "cards", "items": list(items)}


def _table(columns: list[str], rows: list[list[str]], numeric: tuple[int, ...] = ()) -> dict:
    return {"kind": "table", "columns": columns, "rows": rows, "numeric": [i in numeric for i in range(len(columns))]}


def _list(items: list[str], title: str | None = None) -> dict:
    return {"kind": "list", "title": title, "items": items}


def _note(text: str) -> dict:
    return {"kind": "note", "text": text}


def _kpi_blocks(k: dict, f: Formats, _) -> list[dict]:
    change = f.signed(k["mrr_change"], "money")
    if k["mrr_change_rate"] is not None:
        change += f" ({f.signed(k['mrr_change_rate'], 'rate')})"
    features = k["key_features"]
    blocks = [_cards(
        _card(_("MRR at the start"), f.value(k["mrr_start"], "money")),
        _card(_("MRR at the end"), f.value(k["mrr_end"], "money")),
        _card(_("MRR change"), change),
        _card(_("Seats"), f.value(k["seats"], "count")),
        _card(_("Seat utilisation"), f.value(k["seat_utilisation"], "rate"), _("active users in the last 30 days")),
        _card(_("Active users"), f.value(k["active_users"], "count")),
        _card(_("Active days"), f.value(k["active_days"], "count")),
        _card(_("Usage events"), f.value(k["usage_events"], "count")),
        _card(_("Key features used"), _("%(used)s of %(total)s", used=k["key_features_used"], total=len(features))),
    )]
    if features:
        blocks.append(_table([_("Key feature"), _("Used"), _("Events")],
                             [[x["name"], _("yes") if x["used"] else _("no"), f.value(x["events"], "count")]
                              for x in features], numeric=(2,)))
    else:
        blocks.append(_note(_("No key features are marked in the feature catalog.")))
    return blocks


def _band(band: str | None, _) -> str:
    return _(band) if band else "—"


def _health_blocks(h: dict | None, p: dict, f: Formats, _) -> list[dict]:
    if h is None:
        return [_note(_("No health score at the end of the period: the account was not a paying customer then."))]
    blocks = [_cards(
        _card(_("Score on %(date)s", date=f.date(h["as_of"])), f.score(h["score"]), _band(h["band"], _), h["band"]),
        _card(_("Score on %(date)s", date=f.date(h["since"])), f.score(h["start_score"]), _band(h["start_band"], _),
              h["start_band"]),
        _card(_("Score change"), "—" if h["change"] is None else f"{h['change']:+.0f}", _("points"))),
        _table([_("Component"), _("At the start"), _("At the end"), _("Weight")],
               [[c["label"].capitalize(), f.score(c["start_score"]),
                 _("no data") if c["missing"] else f.score(c["score"]), f.value(c["weight"], "rate")]
                for c in h["components"]], numeric=(1, 2, 3)),
    ]
    blocks.append(_list(h["changes"], _("What changed")) if h["changes"] else _note(_("Nothing notable changed.")))
    return blocks


def _usage_blocks(months: list[dict], f: Formats, _) -> list[dict]:
    blocks: list[dict] = [{"kind": "chart", "name": "usage",
                           "alt": _("Usage events and active users per month")}]
    if not any(m["events"] for m in months):
        blocks.append(_note(_("No usage in these months.")))
    blocks.append(_table([_("Month"), _("Usage events"), _("Active users")],
                         [[format_skeleton("yMMM", dt.date.fromisoformat(m["month"] + "-01"), locale=f.locale),
                           f.value(m["events"], "count"), f.value(m["active_users"], "count")] for m in months],
                         numeric=(1, 2)))
    return blocks


def _ticket_blocks(t: dict, f: Formats, _) -> list[dict]:
    if not t["opened"] and not t["resolved"]:
        return [_note(_("No tickets were opened or resolved in the period."))]
    return [_cards(
        _card(_("Tickets opened"), f.value(t["opened"], "count")),
        _card(_("Tickets resolved"), f.value(t["resolved"], "count")),
        _card(_("First response"), f.value(t["first_response_hours_median"], "hours"), _("median, hours")),
        _card(_("Resolution"), f.value(t["resolution_hours_median"], "hours"), _("median, hours")),
        _card(_("First contact resolution"), f.value(t["fcr"], "rate"), _("of the resolved tickets")),
    )]


def _satisfaction_blocks(s: dict, f: Formats, _) -> list[dict]:
    if not s["answers"]:
        return [_note(_("No survey answers in the period."))]
    answers = lambda n: _("%(count)s answer(s)", count=n)  # noqa: E731
    blocks = [_cards(
        _card("NPS", f.value(s["nps"], "number"), answers(s["nps_responses"])),
        _card("CSAT", f.value(s["csat"], "rate"), answers(s["csat_responses"])),
        _card("CES", f.value(s["ces"], "number"), answers(s["ces_responses"])),
    )]
    blocks.append(_table([_("Date"), _("Survey"), _("Score"), _("Contact"), _("Comment")],
                         [[f.date(a["answered_at"]), a["survey"].upper(),
                           f"{f.value(a['score'], 'number')} / {a['scale_max']}", a["contact"] or "—",
                           a["comment"] or "—"] for a in s["answers"]], numeric=(2,)))
    return blocks


def _milestones(items: list[dict], f: Formats, _) -> list[str]:
    return [f"{m['label']} — {f.date(m['reached_at'])}"
            + (f" ({', '.join(m['features'])})" if m["features"] else "") for m in items]


def _goal_blocks(g: dict, f: Formats, _) -> list[dict]:
    blocks = [_list(_milestones(g["reached"], f, _)) if g["reached"]
              else _note(_("No new milestones were reached in the period."))]
    if g["earlier"]:
        blocks.append(_list(_milestones(g["earlier"], f, _), _("Reached earlier")))
    return blocks


def _next_blocks(n: dict, scored: bool, f: Formats, _) -> list[dict]:
    tasks = [t["title"] + (" — " + _("due %(date)s", date=f.date(t["due_at"])) if t["due_at"] else "")
             for t in n["tasks"]]
    if n["suggestions"]:
        suggestions = _list([s["text"] for s in n["suggestions"]], _("Suggestions"))
    else:
        suggestions = _note(_("No suggestions: every part of the health score is in good shape.") if scored
                            else _("No suggestions: the account has no health score."))
    return [_list(tasks, _("Open tasks")) if tasks else _note(_("No open tasks.")), suggestions]


def review_html(review: dict) -> str:
    """One self-contained HTML page: inline CSS, the chart as inline SVG, no scripts, nothing fetched."""
    view = review_view(review)
    figure = charts.usage_figure(review["usage"], _legend(review), review["language"])
    return TEMPLATES.get_template("review.html").render(view=view, charts={"usage": Markup(charts.svg(figure))},
                                                        bands=BAND_COLOURS)


def _legend(review: dict) -> dict[str, str]:
    _ = gettext_for(review["language"])
    return {"events": _("Usage events"), "users": _("Active users")}


def usage_png(review: dict) -> bytes:
    return charts.png(charts.usage_figure(review["usage"], _legend(review), review["language"]))

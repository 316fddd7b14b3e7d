"""Team sizing: the people the portfolio needs per role against the team there is, and each
CSM's load.

The ratios are a file the team edits (settings key `team_ratios`, YAML or JSON; DEFAULT_RATIOS
documents them, and a field left out keeps its default). For the customers on a date, by touch
model (an account without one counts as `no_touch_model`):

    FTE(csm, high) = max(accounts / csm.high.accounts, MRR / csm.high.mrr)  (whichever needs more)
    FTE(csm, low)  = accounts / csm.low.accounts   (and the same MRR rule when low.mrr is set)
    FTE(csm, tech) = accounts / csm.tech.accounts  (a pooled team)
    FTE(ism)       = accounts in onboarding / ism.accounts — customers created in the last
                     ism.days days that have not reached the `activated` milestone
    FTE(farmer)    = high- and low-touch accounts / farmer.accounts
    FTE(manager)   = (CSMs + ISMs + farmers needed) / manager.reports

needed = ⌈FTE⌉; the CSMs needed are ⌈Σ FTE over the touch models⌉ (one CSM may carry a mix).
Current = the active people of each role in `csms`.

A CSM's load = Σ over the touch models of FTE(csm, touch) of the customers they own — e.g.
3 high-touch accounts at 25 per CSM are a load of 0.12 — so 1.0 is a full portfolio and a load
above 1.0 is over capacity.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from sucesso.insight.accounts import COLUMNS as ACCOUNT_COLUMNS
from sucesso.store import Store, get_setting, set_setting
from sucesso.store.schema import CSM_ROLES, TOUCH_MODELS
from sucesso.yamlfile import YamlFileError, read_mapping, validate

SETTING = "team_ratios"
SIZED = ("csm", "ism", "farmer", "manager")  # the roles the ratios size; the others are only counted
ROLE_LABELS = {  # in English; the surfaces translate them
    "csm": "CSMs", "ism": "ISMs (implementation)", "farmer": "Farmers (expansion)",
    "manager": "Managers", "support": "Support",
}
TOUCH_LABELS = {"high": "high touch", "low": "low touch", "tech": "tech touch"}
DEFAULT_RATIOS = """\
# Team ratios: how much one person of each role carries. Adopt a file like this one with
# `sucesso team ratios FILE`; a field left out keeps the value written here.
csm:                  # Customer Success Managers, by the touch model of their accounts
  high:
    accounts: 25      # 1 CSM per 25 high-touch accounts...
    mrr: 250000       # ...or per 250,000 of their MRR (workspace currency), whichever needs more
  low:
    accounts: 150     # 1 CSM per 150 low-touch accounts
    mrr: null         # (no MRR rule)
  tech:
    accounts: 1000    # 1 per 1,000 tech-touch accounts: a pooled team, scaled programmes
    mrr: null
ism:                  # implementation managers (onboarding)
  accounts: 15        # 1 per 15 accounts in onboarding: customers created in the last
  days: 90            # 90 days that have not reached the `activated` milestone
farmer:               # expansion owners
  accounts: 100       # 1 per 100 high- and low-touch accounts
manager:
  reports: 8          # 1 manager per 8 CSMs, ISMs and farmers needed
no_touch_model: low   # an account without a touch model is sized as this one
"""

RatiosError = YamlFileError


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PerTouch(_Strict):
    accounts: float = Field(gt=0, description="accounts one CSM carries")
    mrr: float | None = Field(gt=0, description="MRR one CSM carries (null: no MRR rule)")


class Csm(_Strict):
    high: PerTouch
    low: PerTouch
    tech: PerTouch


class Onboarding(_Strict):
    accounts: float = Field(gt=0)
    days: int = Field(ge=1, le=3650)


class PerAccounts(_Strict):
    accounts: float = Field(gt=0)


class Span(_Strict):
    reports: float = Field(gt=0)


class Ratios(_Strict):
    csm: Csm
    ism: Onboarding
    farmer: PerAccounts
    manager: Span
    no_touch_model: Literal["high", "low", "tech"]


# -- the ratios file ----------------------------------------------------------------------
def load_ratios(text: str | None = None, source: str = "the default ratios") -> Ratios:
    """The ratios of a file's text (None: the defaults), its fields over the defaults; raise
    RatiosError listing every mistake as "FILE, line N: field: what is wrong (got value)"."""
    defaults = read_mapping(DEFAULT_RATIOS, "the default ratios", "")[0]
    if text is None:
        return Ratios.model_validate(defaults)
    data, lines = read_mapping(text, source, "a ratios file is a mapping (csm:, ism:, farmer:, manager:, …)")
    problems: list[str] = []
    ratios = validate(Ratios, _over(defaults, data), (), lines, source, problems)
    if problems:
        raise RatiosError("\n".join(problems))
    return ratios


def _over(defaults: dict, given: dict) -> dict:
    """`given` with what it leaves out taken from `defaults`, mapping by mapping."""
    merged = dict(defaults)
    for key, value in given.items():
        merged[key] = _over(defaults[key], value) if isinstance(value, dict) and isinstance(
            defaults.get(key), dict) else value
    return merged


def ratios_text(store: Store) -> str:
    """The ratios file the workspace uses: the one adopted, else the defaults."""
    return get_setting(store, SETTING) or DEFAULT_RATIOS


def workspace_ratios(store: Store) -> Ratios:
    return load_ratios(get_setting(store, SETTING) or None, "the workspace's team ratios")


def adopt_ratios(store: Store, text: str | None, source: str = "the ratios file") -> Ratios:
    """Check `text` and keep it as the workspace's ratios (None: back to the defaults)."""
    ratios = load_ratios(text, source)
    set_setting(store, SETTING, text or "")
    return ratios


# -- what the sizing reads ----------------------------------------------------------------
def team_inputs(store: Store, on: dt.date) -> tuple[pd.DataFrame, set[str]]:
    """The people (csm_id, name, role, active) and the accounts that reached `activated` before `on`."""
    rows, columns = store.fetchall_with_columns("SELECT csm_id, name, role, active FROM csms ORDER BY csm_id")
    people = pd.DataFrame(rows, columns=columns)
    people["active"] = people["active"].astype(bool)
    activated = store.fetchall("SELECT DISTINCT account_id FROM milestones WHERE milestone = 'activated' "
                               "AND reached_at < ?", (dt.datetime.combine(on, dt.time()),))
    return people, {r[0] for r in activated}


def team_report(store: Store, on: dt.date | None = None, ratios: Ratios | None = None) -> dict:
    """sizing() for the workspace's customers on `on` (default: today, or the day after the data ends)."""
    from sucesso.health.history import default_as_of
    from sucesso.insight.accounts import account_table

    on = on or default_as_of(store)
    people, activated = team_inputs(store, on)
    return sizing(account_table(store, on), people, activated, ratios or workspace_ratios(store), on)


# -- the sizing ---------------------------------------------------------------------------
def sizing(accounts: pd.DataFrame, people: pd.DataFrame, activated: set[str], ratios: Ratios,
           on: dt.date) -> dict:
    """Needed vs current per role, and every CSM's load (insight.accounts.account_table rows; the
    customers among them count)."""
    if accounts.empty:  # an empty workspace: no columns either
        accounts = pd.DataFrame(columns=ACCOUNT_COLUMNS).astype({"customer": bool, "mrr": float})
    customers = accounts[accounts["customer"]].assign(
        touch=accounts["touch_model"].where(accounts["touch_model"].isin(TOUCH_MODELS), ratios.no_touch_model))
    since = pd.Timestamp(on) - pd.Timedelta(days=ratios.ism.days)
    onboarding = customers[(pd.to_datetime(customers["created_at"]) >= since)
                           & ~customers["account_id"].isin(activated)]
    loads = csm_loads(customers, people, ratios)
    unassigned = customers[customers["csm_id"].isna()]
    return {"as_of": on.isoformat(), "ratios": ratios.model_dump(),
            "needed": needed(customers, onboarding, people, ratios),
            "load": loads, "over_capacity": [r for r in loads if r["over_capacity"]],
            "unassigned": {"accounts": len(unassigned), "mrr": round(float(unassigned["mrr"].sum()), 2)}}


def touch_fte(accounts: float, mrr: float, ratio: PerTouch) -> float:
    """CSMs needed for these accounts of one touch model: accounts / ratio, or MRR / ratio if more."""
    return max(accounts / ratio.accounts, mrr / ratio.mrr if ratio.mrr else 0.0)


def _line(role: str, touch: str | None, accounts: int | None, mrr: float | None, fte: float | None,
          current: int | None) -> dict:
    count = None if fte is None else math.ceil(round(fte, 9))
    return {"role": role, "touch_model": touch, "accounts": accounts,
            "mrr": None if mrr is None else round(float(mrr), 2), "fte": None if fte is None else round(fte, 4),
            "needed": count, "current": current, "gap": None if count is None or current is None else current - count}


def needed(customers: pd.DataFrame, onboarding: pd.DataFrame, people: pd.DataFrame, ratios: Ratios) -> list[dict]:
    """One line per role — the CSMs' followed by one per touch model — with the accounts and MRR it
    is sized on, the FTE, the headcount needed (⌈FTE⌉), the current headcount and the gap
    (current − needed)."""
    active = people[people["active"]]["role"].value_counts()
    current = {role: int(active.get(role, 0)) for role in CSM_ROLES}
    per_touch = {touch: customers[customers["touch"] == touch] for touch in TOUCH_MODELS}
    fte = {touch: touch_fte(len(mine), float(mine["mrr"].sum()), getattr(ratios.csm, touch))
           for touch, mine in per_touch.items()}
    lines = [_line("csm", None, len(customers), customers["mrr"].sum(), sum(fte.values()), current["csm"])]
    lines += [_line("csm", touch, len(mine), mine["mrr"].sum(), fte[touch], None) for touch, mine in per_touch.items()]
    lines.append(_line("ism", None, len(onboarding), onboarding["mrr"].sum(), len(onboarding) / ratios.ism.accounts,
                       current["ism"]))
    touched = customers[customers["touch"].isin(("high", "low"))]
    lines.append(_line("farmer", None, len(touched), touched["mrr"].sum(), len(touched) / ratios.farmer.accounts,
                       current["farmer"]))
    reports = sum(line["needed"] for line in lines if line["touch_model"] is None)
    lines.append({**_line("manager", None, None, None, reports / ratios.manager.reports, current["manager"]),
                  "people": reports})
    for role in CSM_ROLES:
        if role not in SIZED and current[role]:
            lines.append(_line(role, None, None, None, None, current[role]))
    return lines


def csm_loads(customers: pd.DataFrame, people: pd.DataFrame, ratios: Ratios) -> list[dict]:
    """Per active CSM and per anyone else who owns customers: accounts and MRR by touch model and
    the load (see the module's docstring); the heaviest first."""
    owned = customers[customers["csm_id"].notna()]
    sums = owned.groupby(["csm_id", "touch"])["mrr"].agg(["size", "sum"])
    cells = {key: (int(n), float(m)) for key, n, m in zip(sums.index, sums["size"], sums["sum"], strict=True)}
    owners = set(owned["csm_id"]) | set(people.loc[people["active"] & (people["role"] == "csm"), "csm_id"])
    who = people.set_index("csm_id")
    rows = []
    for csm_id in owners:
        known = csm_id in who.index
        row = {"csm_id": csm_id, "csm_name": who.at[csm_id, "name"] if known else None,
               "role": who.at[csm_id, "role"] if known else None,
               "active": bool(who.at[csm_id, "active"]) if known else None}
        load, accounts, mrr = 0.0, 0, 0.0
        for touch in TOUCH_MODELS:
            n, m = cells.get((csm_id, touch), (0, 0.0))
            row[f"accounts_{touch}"], row[f"mrr_{touch}"] = n, round(m, 2)
            load += touch_fte(n, m, getattr(ratios.csm, touch))
            accounts, mrr = accounts + n, mrr + m
        rows.append({**row, "accounts": accounts, "mrr": round(mrr, 2), "load": round(load, 4),
                     "over_capacity": round(load, 9) > 1.0})
    return sorted(rows, key=lambda r: (-r["load"], r["csm_id"]))

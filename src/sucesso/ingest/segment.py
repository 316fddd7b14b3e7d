"""Segment's tracking messages, read: a call (`identify`, `group`, `track`, `page`, `screen`,
`alias`) or a batch of them as JSON becomes checked `Message`s in canonical terms — ids, the
clock-corrected moment, the event and its properties, the traits as table columns — with no
store. `ingest.tracking` resolves and writes them.

What Segment documents, and what sucesso does with it:

- Calls and batches. `/v1/identify|group|track|page|screen|alias` carry one message;
  `/v1/batch` a list under `batch`, each message with its `type`; the batch's `context` (and
  `sentAt`, as Segment's libraries send it) apply to each message [http-api, "Batch"].
- Sizes. At most 32 KB per call and per message of a batch, and 500 KB per batch, else
  `400 Bad Request`; at most 2500 messages in a batch [http-api, "Max request size", "Errors"].
  KB = 1024 bytes, as Segment's libraries count (analytics-python: `MAX_MSG_SIZE = 32 << 10`);
  a message is measured as compact JSON. Segment answers 200 to a batch of more than 2500
  messages and drops them; here the batch is refused with a message, so nothing is lost silently.
- Identity. Each message has a userId or an anonymousId [http-api, "Errors": no_user_anon_id];
  a track has an `event` [http-api, "Errors": Track event is missing name].
- messageId. Segment de-duplicates by messageId (fewer than 100 characters) and adds one to a
  call that has none [http-api, "Errors": Deduplication]. Here a repeated messageId within a
  request is dropped (the first stands), and a message without one gets an id made from its
  content — and its receipt time when it has no timestamp either, so identical calls sent
  without timestamps stay distinct events.
- Timestamps [spec-common, "Timestamps"]: Segment corrects the sender's clock skew with
  `timestamp = receivedAt - (sentAt - originalTimestamp)`; a message without a timestamp
  happened when received; without sentAt the timestamp stands as sent (historical imports).
  ISO-8601 with an offset is converted to UTC; without one it is UTC. Events timestamped before
  1970-01-01 "aren't always ingested" by Segment [unify-limits, "Event History"]: here they are
  an error, said so. Segment documents no limit ahead; after the correction a timestamp is
  ahead only when the sender gives one without sentAt, so one more than an hour after the
  receipt is an error (a clock or time zone mistake) rather than an event yet to happen.
- Traits. Segment's reserved traits [spec-identify, spec-group] name the columns: identify's
  name (or firstName + lastName), email, title (role) and createdAt, and its company.id;
  group's name, industry, employees (seats), plan, address.country and createdAt. sucesso's own
  column names (role, segment, seats, country, csm_id, touch_model, …) are read as well.

[http-api]: https://segment.com/docs/connections/sources/catalog/libraries/server/http-api/
[spec-common]: https://segment.com/docs/connections/spec/common/#timestamps
[spec-identify]: https://segment.com/docs/connections/spec/identify/#traits
[spec-group]: https://segment.com/docs/connections/spec/group/#traits
[unify-limits]: https://segment.com/docs/unify/product-limits/
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

import orjson

from sucesso.i18n import N_
from sucesso.store.schema import table

KB = 1024
MESSAGE_LIMIT = 32 * KB
BATCH_LIMIT = 500 * KB
BATCH_MESSAGES = 2500
MESSAGE_ID_LENGTH = 100
EARLIEST = dt.datetime(1970, 1, 1)
AHEAD = dt.timedelta(hours=1)  # how far after its receipt a corrected timestamp may be
CALLS = ("identify", "group", "track", "page", "screen", "alias")
ID_LENGTH = table("usage_events").column("event_id").max_length
EVENT_LENGTH = table("usage_events").column("event").max_length
# group traits → accounts columns (the first trait given wins); the other traits go to attributes
ACCOUNT_TRAITS = {
    "name": ("name",), "segment": ("segment",), "plan": ("plan",), "industry": ("industry",),
    "country": ("country",), "csm_id": ("csm_id", "csmId"), "touch_model": ("touch_model", "touchModel"),
    "seats": ("seats", "employees"), "created_at": ("createdAt", "created_at"),
}


# -- what goes wrong ------------------------------------------------------------------------
class Rejected(Exception):
    """The request as a whole cannot be read (too large, not JSON, no batch); nothing was written.
    `text` is English with %(name)s fields from `params`, so surfaces can translate it."""

    def __init__(self, text: str, **params: object):
        super().__init__(text % params if params else text)
        self.text, self.params = text, params

    def translated(self, gettext) -> str:
        return gettext(self.text, **self.params)


@dataclass(frozen=True)
class MessageError:
    """One message of a call or batch that cannot be written, and why (English, translatable)."""

    index: int
    message_id: str | None
    text: str
    params: dict = field(default_factory=dict)

    def translated(self, gettext) -> str:
        return gettext(self.text, **self.params)

    def __str__(self) -> str:
        return self.text % self.params if self.params else self.text


class _Invalid(Exception):
    def __init__(self, text: str, **params: object):
        super().__init__(text)
        self.text, self.params = text, params


# -- reading --------------------------------------------------------------------------------
@dataclass
class Message:
    """One checked call, in canonical terms. `call` is identify, group or track (page and screen
    are tracks); `account_id` is the account the call names, if any; `columns` the identify's
    or group's canonical columns from its traits, `extras` a group's other traits."""

    index: int
    call: str
    message_id: str
    user_id: str | None
    occurred_at: dt.datetime
    account_id: str | None = None
    event: str | None = None
    properties: str | None = None
    columns: dict = field(default_factory=dict)
    extras: dict = field(default_factory=dict)


@dataclass
class Calls:
    """A request body, read: its checked messages, the ones that fail, and its writeKey if any."""

    messages: list[Message]
    errors: list[MessageError]
    write_key: str | None = None
    ignored: int = 0  # alias and anonymous identify calls, and repeated messageIds


def read(body: bytes, call: str | None, received_at: dt.datetime) -> Calls:
    """Parse and check the body of one `call` (identify, track, …) or, with call None, of a batch.

    Raises Rejected when the body as a whole is unreadable; problems of single messages are
    in `errors`. `received_at` is the server's time (UTC, naive) when the request arrived.
    """
    limit = BATCH_LIMIT if call is None else MESSAGE_LIMIT
    if len(body) > limit:
        raise Rejected(N_("the request is larger than %(limit)s KB"), limit=limit // KB)
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Rejected(N_("the body is not valid JSON: %(error)s"), error=str(exc)) from None
    if not isinstance(data, dict):
        raise Rejected(N_("the body must be a JSON object"))
    write_key = data.get("writeKey") if isinstance(data.get("writeKey"), str) else None
    if call is None:
        raw = data.get("batch")
        if not isinstance(raw, list):
            raise Rejected(N_("batch: expected a list of messages"))
        if len(raw) > BATCH_MESSAGES:
            raise Rejected(N_("the batch has %(count)s messages; the limit is %(limit)s"), count=len(raw),
                           limit=BATCH_MESSAGES)
        context = data.get("context") if isinstance(data.get("context"), dict) else {}
        try:
            sent_at = _time(data.get("sentAt"), "sentAt")
        except _Invalid as exc:
            raise Rejected(exc.text, **exc.params) from None
    else:
        raw, context, sent_at = [{**data, "type": call}], {}, None
    calls = Calls([], [], write_key)
    measure = len(body) > MESSAGE_LIMIT  # a smaller body cannot hold a message over the limit
    seen: set[str] = set()
    for index, item in enumerate(raw):
        given_id = item.get("messageId") if isinstance(item, dict) else None
        try:
            message = _message(index, item, context, sent_at, received_at, measure)
        except _Invalid as exc:
            shown = str(given_id) if isinstance(given_id, (str, int)) else None
            calls.errors.append(MessageError(index, shown, exc.text, exc.params))
            continue
        if message is None or message.message_id in seen:
            calls.ignored += 1
            continue
        seen.add(message.message_id)
        calls.messages.append(message)
    return calls


def _message(index: int, item, batch_context: dict, batch_sent_at: dt.datetime | None,
             received_at: dt.datetime, measure: bool) -> Message | None:
    """One message, checked and mapped; None for a call sucesso ignores."""
    if not isinstance(item, dict):
        raise _Invalid(N_("expected a JSON object"))
    if measure and len(orjson.dumps(item)) > MESSAGE_LIMIT:
        raise _Invalid(N_("the message is %(size)s KB; the limit is %(limit)s KB"),
                       size=_kb(len(orjson.dumps(item))), limit=MESSAGE_LIMIT // KB)
    call = item.get("type")
    if call not in CALLS:
        raise _Invalid(N_("type: expected one of %(calls)s, not %(value)s"), calls=", ".join(CALLS),
                       value=_show(call))
    user_id = _text(item.get("userId"), "userId", ID_LENGTH)
    if user_id is None and _text(item.get("anonymousId"), "anonymousId", ID_LENGTH) is None:
        raise _Invalid(N_("userId or anonymousId is required"))
    given_id = _text(item.get("messageId"), "messageId", MESSAGE_ID_LENGTH)
    timestamp = _time(item.get("timestamp"), "timestamp")
    sent_at = _time(item.get("sentAt"), "sentAt") or batch_sent_at
    occurred_at = corrected(timestamp, sent_at, received_at)
    if call == "alias" or (call == "identify" and user_id is None):
        return None
    message_id = given_id or _made_id(item, timestamp or received_at)
    context = item.get("context") if isinstance(item.get("context"), dict) else {}
    group_id = context.get("groupId", batch_context.get("groupId"))
    message = Message(index, "track" if call in ("page", "screen") else call, message_id, user_id, occurred_at)
    if call == "group":
        _group(message, item, _object(item.get("traits"), "traits"))
    elif call == "identify":
        _identify(message, _object(item.get("traits"), "traits"), group_id)
    else:
        _track(message, item, call, group_id)
    return message


def _track(message: Message, item: dict, call: str, group_id) -> None:
    properties = _object(item.get("properties"), "properties")
    if call == "track":
        message.event = _text(item.get("event"), "event", EVENT_LENGTH)
        if message.event is None:
            raise _Invalid(N_("event: a track call needs the event's name"))
    else:  # page, screen: the event is the call; its name and category go with the properties
        message.event = call
        named = {k: item[k] for k in ("name", "category") if item.get(k) is not None and k not in properties}
        properties = {**properties, **named}
    message.account_id = _first([(group_id, "context.groupId"), (properties.get("groupId"), "properties.groupId"),
                                 (properties.get("account_id"), "properties.account_id")])
    message.properties = _json(properties) if properties else None


def _identify(message: Message, traits: dict, group_id) -> None:
    company = _object(traits.get("company"), "traits.company")
    message.account_id = _first([(group_id, "context.groupId"), (traits.get("groupId"), "traits.groupId"),
                                 (company.get("id"), "traits.company.id"),
                                 (traits.get("account_id"), "traits.account_id")])
    full_name = " ".join(filter(None, (_text(traits.get(k), f"traits.{k}") for k in ("firstName", "lastName"))))
    given = {
        "name": _text(traits.get("name"), "traits.name") or full_name or None,
        "email": _text(traits.get("email"), "traits.email"),
        "role": _text(traits.get("role"), "traits.role") or _text(traits.get("title"), "traits.title"),
        "created_at": _time(traits.get("createdAt"), "traits.createdAt"),
    }
    message.columns = {k: v for k, v in given.items() if v is not None}


def _group(message: Message, item: dict, traits: dict) -> None:
    message.account_id = _text(item.get("groupId"), "groupId", ID_LENGTH)
    if message.account_id is None:
        raise _Invalid(N_("groupId: a group call needs the account's id"))
    used = set()
    for column, names in ACCOUNT_TRAITS.items():
        name = next((n for n in names if traits.get(n) is not None), None)
        if name is None:
            continue
        used.add(name)
        where = f"traits.{name}"
        value = traits[name]
        if column == "seats":
            message.columns[column] = _whole(value, where)
        elif column == "created_at":
            message.columns[column] = _time(value, where)
        else:
            message.columns[column] = _text(value, where)
    address = _object(traits.get("address"), "traits.address")
    if "country" not in message.columns and address.get("country") is not None:
        message.columns["country"] = _text(address["country"], "traits.address.country")
    message.extras = {k: v for k, v in traits.items() if k not in used}



# -- values ---------------------------------------------------------------------------------
def corrected(timestamp: dt.datetime | None, sent_at: dt.datetime | None, received_at: dt.datetime) -> dt.datetime:
    """When a message happened: `receivedAt - (sentAt - timestamp)` (Segment's clock-skew
    correction), the timestamp as sent when there is no sentAt, the receipt when there is no
    timestamp; an error before 1970-01-01 or more than an hour after the receipt."""
    if timestamp is None:
        return received_at
    try:
        moment = timestamp if sent_at is None else received_at - (sent_at - timestamp)
    except OverflowError:
        raise _Invalid(N_("timestamp: %(value)s is out of range once corrected by sentAt"),
                       value=timestamp.isoformat()) from None
    if moment < EARLIEST:
        raise _Invalid(N_("timestamp: %(value)s is before 1970-01-01 (after the clock-skew correction)"),
                       value=moment.isoformat())
    if moment > received_at + AHEAD:
        raise _Invalid(N_("timestamp: %(value)s is more than an hour after the call arrived (%(received)s, UTC); "
                          "send UTC or an offset, and sentAt"),
                       value=moment.isoformat(), received=received_at.isoformat(timespec="seconds"))
    return moment


def _time(value, where: str) -> dt.datetime | None:
    """An ISO-8601 date and time as naive UTC (a time without an offset is UTC)."""
    if value is None or value == "":
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
        if moment.tzinfo is not None:
            moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
        return moment
    except (TypeError, ValueError, OverflowError):
        raise _Invalid(N_("%(field)s: %(value)s is not an ISO-8601 date and time"), field=where,
                       value=_show(value)) from None


def _text(value, where: str, max_length: int | None = None) -> str | None:
    """Text (a number is written as text); None when empty."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Invalid(N_("%(field)s: expected text, not %(value)s"), field=where, value=_show(value))
    text = value if isinstance(value, str) else str(value)
    if "\x00" in text:  # PostgreSQL cannot store it (and it is never in a real id or name)
        raise _Invalid(N_("%(field)s: text cannot hold the NUL character"), field=where)
    if max_length is not None and len(text) > max_length:
        raise _Invalid(N_("%(field)s: at most %(limit)s characters"), field=where, limit=max_length)
    return text


def _whole(value, where: str) -> int:
    """A whole number that a BIGINT column holds (the text of one too)."""
    whole = (isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and value.is_integer()
             or isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) <= 19)
    if not whole or not -2**63 <= int(value) < 2**63:
        raise _Invalid(N_("%(field)s: expected a whole number, not %(value)s"), field=where, value=_show(value))
    return int(value)


def _object(value, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _Invalid(N_("%(field)s: expected a JSON object, not %(value)s"), field=where, value=_show(value))
    return value


def _first(candidates: list[tuple[object, str]]) -> str | None:
    for value, where in candidates:
        text = _text(value, where, ID_LENGTH)
        if text is not None:
            return text
    return None


def _json(value: dict) -> str:
    """Canonical JSON text: sorted keys, compact, UTF-8 (so that equal values compare equal)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _made_id(item: dict, moment: dt.datetime) -> str:
    """A messageId for a message without one: its content and when it happened."""
    content = {k: v for k, v in item.items() if k not in ("sentAt", "writeKey")}
    digest = hashlib.sha256(_json(content).encode() + moment.isoformat().encode()).hexdigest()
    return f"auto-{digest[:40]}"


def _show(value) -> str:
    text = orjson.dumps(value).decode() if not isinstance(value, str) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _kb(size: int) -> str:
    return f"{size / KB:.1f}"

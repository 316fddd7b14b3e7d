"""English and Brazilian Portuguese for every surface: Babel catalogs (every
locale/<lang>/LC_MESSAGES/*.po — one per area of the product, merged — read when first needed,
no compiled files to keep in step), and the choice of language: the user's, else the browser's
Accept-Language, else the workspace's (web); for the command line, `cli_language`.

Messages are written in English in the code (`_("Accounts")`); the pt_BR catalog translates
them, and a message missing from it shows in English rather than failing.
"""

from __future__ import annotations

import functools
import io
import os
from importlib import resources

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = ("en", "pt_BR")
DOMAIN = "sucesso"


def normalise(locale: str | None, default: str = "pt_BR") -> str:
    """"pt-BR", "pt", "pt_br" → "pt_BR"; "en-US", "en" → "en"; anything else → default."""
    if not locale:
        return default
    lang = locale.replace("-", "_").split("_")[0].lower()
    return {"pt": "pt_BR", "en": "en"}.get(lang, default)


@functools.cache
def translations(language: str) -> Translations:
    """The merged catalog of `language`: sucesso.po first, then the other .po files by name; the
    first translation of a message wins."""
    folder = resources.files("sucesso").joinpath("locale", language, "LC_MESSAGES")
    files = [p for p in folder.iterdir() if p.name.endswith(".po")] if folder.is_dir() else []
    merged = None
    for path in sorted(files, key=lambda p: (p.name != f"{DOMAIN}.po", p.name)):
        with path.open("rb") as fh:
            catalog = read_po(fh, locale=language)
        if merged is None:
            merged = catalog
        else:
            for message in catalog:
                if message.id and message.id not in merged:
                    merged[message.id] = message
    if merged is None:
        return Translations()
    buffer = io.BytesIO()
    write_mo(buffer, merged)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def cli_language(explicit: str | None = None, workspace_locale: str | None = None,
                 environ: dict[str, str] | None = None) -> str:
    """The language the command line speaks: the command's --lang, else $SUCESSO_LANG, else the
    open workspace's `locale` setting, else the system's ($LC_ALL, $LC_MESSAGES, $LANG — the first
    set; pt* → pt_BR, en* → en), else pt_BR."""
    env = os.environ if environ is None else environ
    for choice in (explicit, env.get("SUCESSO_LANG"), workspace_locale):
        if choice:
            return normalise(choice)
    system = next((env[name] for name in ("LC_ALL", "LC_MESSAGES", "LANG") if env.get(name)), None)
    return normalise(system)


def N_(message: str) -> str:
    """Marks an English message for the catalog where it is written, to be translated later (`_(X)`)."""
    return message


def gettext_for(language: str):
    """`_(message, **values)`: the message in `language`, with %(name)s placeholders filled;
    `_.language` is that language (to format numbers in it too)."""
    language = normalise(language)
    gettext = translations(language).gettext

    def _(message: str, **values) -> str:
        text = gettext(message)
        return text % values if values else text

    _.language = language
    return _


def from_accept_language(header: str | None) -> str | None:
    """The first language of an Accept-Language header that we speak, or None."""
    if not header:
        return None
    ranked = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        if params.strip().startswith("q="):
            try:
                q = float(params.strip()[2:])
            except ValueError:
                q = 0.0
        ranked.append((-q, i, tag.strip()))
    for _q, _i, tag in sorted(ranked):
        lang = tag.replace("-", "_").split("_")[0].lower()
        if lang in ("pt", "en"):
            return normalise(tag)
    return None

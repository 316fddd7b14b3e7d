"""Every message a person reads has its Brazilian Portuguese: each literal passed to `_()`,
`N_()`, `help_()`, the CLI's `tr()` and `fail()` in src/sucesso, and to `_()` in the web
templates, extracted with Babel's extractors, is translated in the merged pt_BR catalog. A
message that reads the same in both languages ("MRR", "NPS") is in a .po with msgstr = msgid."""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_dir

import sucesso
from sucesso.i18n import translations

SOURCE = Path(sucesso.__file__).resolve().parent
METHODS = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
KEYWORDS = {"_": None, "N_": None, "help_": None, "tr": None, "fail": None, "gettext": None}


def messages() -> dict[str, list[str]]:
    """Each literal message, and where it is written (file:line)."""
    found: dict[str, list[str]] = {}
    for filename, line, message, _comments, _context in extract_from_dir(
            SOURCE, METHODS, keywords=KEYWORDS, comment_tags=()):
        if isinstance(message, tuple):  # a plural: (singular, plural)
            message = message[0]
        if message:
            found.setdefault(message, []).append(f"{filename}:{line}")
    return found


def test_the_extraction_finds_the_messages_of_every_surface():
    found = messages()
    assert "preset %(name)r saved" in found and "no preset named %(name)r" in found  # the CLI: tr(…), fail(…)
    assert "sucesso — Customer Success platform." in found  # a help text
    assert "Skip to content" in found  # a template
    assert any(place.startswith("commands/factors.py") for places in found.values() for place in places)


def test_every_message_has_a_portuguese_translation():
    catalog = translations("pt_BR")._catalog  # msgid → msgstr, the translated ones only
    missing = {m: places for m, places in messages().items() if not catalog.get(m)}
    assert not missing, "untranslated in locale/pt_BR/LC_MESSAGES/*.po:\n" + "\n".join(
        f"  {', '.join(places)}: {m!r}" for m, places in sorted(missing.items(), key=lambda item: item[1]))


HELP_TEXTS = """
import json

import typer

from sucesso.cli import app


def walk(command, path):
    yield path, command.help
    for param in command.params:
        yield f"{path} {param.opts[0]}", getattr(param, "help", None)
    for name, sub in getattr(command, "commands", {}).items():
        yield from walk(sub, f"{path} {name}")


print(json.dumps([[where, text] for where, text in walk(typer.main.get_command(app), "sucesso") if text]))
"""


def test_every_help_text_goes_through_the_catalog():
    """Run in Portuguese, every command's and option's help text is a translation: the help
    texts written as plain literals or docstrings (not through `help_`) stay in English."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "SUCESSO_LANG": "pt_BR"}
    done = subprocess.run([sys.executable, "-c", HELP_TEXTS], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    catalog = translations("pt_BR")._catalog
    portuguese = set(catalog.values())
    english = [f"  {where}: {text!r}" for where, text in json.loads(done.stdout) if text not in portuguese]
    assert not english, "help texts not in the pt_BR catalog (write them as help=help_(\"…\")):\n" + "\n".join(english)

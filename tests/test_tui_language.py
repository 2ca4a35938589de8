"""Every screen of the desk in Vietnamese, Korean and Chinese shows no English interface text:
each screen (and its prompts, the filter picker, help and the palette) is opened on tui_desk's
photographed day and every English catalogue key still on it is an error. Data (names, ticket
subjects, segment names, the timeline plugins' summaries) is not interface text and is skipped."""

from __future__ import annotations

import re

import pytest
from textual.widget import Widget
from tui_desk import build_photo_desk, clock, config

from carectl.context import Context
from carectl.tui import i18n
from carectl.tui.app import CareApp

pytestmark = pytest.mark.anyio

WALK = {  # screen -> keys pressed from the customer list
    "customers": (),
    "search": ("slash", *"nguyen"),
    "customer": ("slash", *"C-000003", "enter", "enter"),
    "call": ("slash", *"C-000003", "enter", "enter", "c"),
    "ticket": ("slash", *"C-000003", "enter", "enter", "o"),
    "send": ("slash", *"C-000003", "enter", "enter", "m"),
    "opt out": ("slash", *"C-000003", "enter", "enter", "O"),
    "filter": ("f",),
    "help": ("question_mark",),
    "palette": ("ctrl+p",),
    "dashboard": ("d",),
    "today": ("t",),
    "done": ("t", "x"),
    "tickets": ("T",),
    "reply": ("T", "R"),
    "assign": ("T", "a"),
    "resolve": ("T", "x"),
    "segments": ("S",),
    "review": ("D",),
    "outbox": ("I",),
}
DATA = {"timeline", "details"}  # widgets showing what plugins and imports wrote, as written
# Catalogue keys that are also data on these screens: a ticket subject "new 0", dedupe's
# reasons ("same phone, similar name"), a segment group "value", a prompt's default value
# and the values typed into prompts ("normal", "email", "sms", "all": what the service
# functions take, also named so in help). Everything else must be translated.
SAME = {"new", "name", "phone", "value", "normal", "email", "sms", "all"}


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("lang") / "carectl.db"
    build_photo_desk(path).close()
    return path


def shown(screen) -> list[str]:
    """The text of every widget on the screen, data widgets left out."""
    lines = []
    for widget in screen.query(Widget):
        if widget.id in DATA or any(a.id in DATA for a in widget.ancestors):
            continue
        if widget.children or not widget.size.area:
            continue
        for y in range(widget.size.height):
            lines.append("".join(seg.text for seg in widget.render_line(y)))
    return lines


def english_left(lines: list[str]) -> set[str]:
    """Catalogue keys on screen, but for those the language writes the same way ("email")."""
    text = "\n".join(lines)
    at = i18n.LANGUAGES.index(i18n.language()) - 1
    keys = {
        k
        for k, texts in i18n.ENTRIES.items()
        if k not in SAME and "{" not in k and k.lower() not in texts[at].lower()
    }
    found = {k for k in keys if re.search(rf"(?<![\w/]){re.escape(k)}(?![\w/])", text)}
    # the format strings: their fixed words
    for key in (k for k in i18n.ENTRIES if "{" in k):
        words = [w for w in re.split(r"\{\w+\}", key) if len(w.strip()) > 3]
        if words and all(w in text for w in words):
            found.add(key)
    return found


@pytest.mark.parametrize("language", ["vi", "ko", "zh"])
async def test_no_english_interface_text_on_any_screen(db_path, monkeypatch, language):
    monkeypatch.chdir(db_path.parent)
    cfg = config(db_path)
    cfg.tui.language = language
    left: dict[str, set[str]] = {}
    try:
        for name, keys in WALK.items():
            app = CareApp(Context(cfg), clock=clock, poll_seconds=0)
            async with app.run_test(size=(120, 40)) as pilot:
                for key in ("", *keys):
                    if key:
                        await pilot.press(key)
                    await pilot.pause()
                    await app.workers.wait_for_complete()
                    await pilot.pause()
                if found := english_left(shown(app.screen)):
                    left[name] = found
    finally:
        i18n.use("en")
    assert not left, "; ".join(f"{name}: {sorted(keys)}" for name, keys in left.items())


def test_every_key_has_all_three_translations():
    for key, texts in i18n.ENTRIES.items():
        assert len(texts) == 3 and all(t.strip() for t in texts), key
        for text in texts:  # the same placeholders, so format() never fails
            assert set(re.findall(r"\{\w+\}", text)) == set(re.findall(r"\{\w+\}", key)), key

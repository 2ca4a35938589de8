"""Message templates: sandboxed Jinja2, one file per template and language.

``<folder>/<name>.<lang>.j2`` holds ``{% block subject %}``, ``{% block text %}`` and optionally
``{% block html %}`` (``{% block sms %}`` for a short SMS text, else ``text`` is used). The
sandbox stops a template from reaching Python internals; StrictUndefined turns a misspelt variable
into an error for that one message instead of an empty string in a customer's inbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment

SHIPPED = (
    "welcome",
    "birthday",
    "holiday",
    "lunar_new_year",
    "care_checkin",
    "winback",
    "csat_survey",
)
LANGUAGES = ("en", "vi", "ko", "zh")


class TemplateError(Exception):
    """A template that is missing or fails to render; the reason names the file."""


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str
    text: str
    html: str | None
    sms: str


@lru_cache(maxsize=16)
def environment(folder: Path, html: bool = False) -> SandboxedEnvironment:
    """One sandbox per folder for the text parts and one with autoescape for the html part
    (autoescape is decided when a template compiles, not per block)."""
    return SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(str(folder)),
        undefined=jinja2.StrictUndefined,
        autoescape=html,
        keep_trailing_newline=True,
        auto_reload=False,
    )


@lru_cache(maxsize=1024)
def _exists(folder: Path, file: str) -> bool:
    """Cached like the compiled templates (auto_reload is off): a new file needs a restart."""
    return (folder / file).is_file()


def pick_language(folder: Path, name: str, wanted: list[str]) -> str:
    """The first of ``wanted`` (customer language, default language, "en") with a file."""
    for lang in [w for w in wanted if w] + ["en"]:
        if _exists(folder, f"{name}.{lang}.j2"):
            return lang
    raise TemplateError(f"no template {name!r} in {folder} for {', '.join(filter(None, wanted))}")


@lru_cache(maxsize=256)
def _compiled(folder: Path, file: str) -> tuple[jinja2.Template, jinja2.Template | None]:
    """The text sandbox's template and, if it has an html block, the autoescaping one's."""
    template = environment(folder).get_template(file)
    html = environment(folder, True).get_template(file) if "html" in template.blocks else None
    return template, html


@lru_cache(maxsize=512)
def _globals(template: jinja2.Template) -> dict[str, Any]:
    """The template's globals as one plain dict (Jinja keeps a ChainMap, which
    ``new_context`` walks twice for every message)."""
    return dict(template.globals)


def _context(template: jinja2.Template, variables: dict[str, Any]) -> jinja2.runtime.Context:
    """``template.new_context(variables)``, from the flattened globals."""
    flat = _globals(template)
    return template.environment.context_class(
        template.environment, {**flat, **variables}, template.name, template.blocks, globals=flat
    )


def render(folder: Path, name: str, wanted: list[str], variables: dict[str, Any]) -> Rendered:
    """Render the subject, text, optional html and sms parts; TemplateError on any failure."""
    if not name.replace("_", "").replace("-", "").isalnum():
        raise TemplateError(f"bad template name {name!r}")
    lang = pick_language(folder, name, wanted)
    file = f"{name}.{lang}.j2"
    try:
        template, html = _compiled(folder, file)
        ctx = _context(template, variables)
        parts = {
            block: "".join(fn(ctx)).strip()
            for block, fn in template.blocks.items()
            if block != "html"
        }
        if html is not None:
            fn = html.blocks["html"]
            parts["html"] = "".join(fn(_context(html, variables))).strip()
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateError(f"{file} line {exc.lineno}: syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise TemplateError(f"{file}: {exc.message}") from None
    except jinja2.TemplateError as exc:  # sandbox violations and the rest
        raise TemplateError(f"{file}: {type(exc).__name__}: {exc}") from None
    if "subject" not in parts or "text" not in parts:
        raise TemplateError(f"{file}: needs a subject block and a text block")
    subject = " ".join(parts["subject"].split())  # one line, whatever the variables held
    return Rendered(
        lang, subject, parts["text"] + "\n", parts.get("html"), parts.get("sms") or parts["text"]
    )

"""Templates (sandboxed Jinja2, per language, with fallback) and header-safe email building."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carectl.outbox import compose, templates

ROOT = Path(__file__).resolve().parents[1]
FOLDER = ROOT / "config" / "templates"
VARS = {
    "customer": {"name": "Nguyễn Văn An", "given_name": "An", "family_name": "Nguyễn"},
    "company": "Acme",
    "unsubscribe_url": "https://acme.example/u/tok",
    "holiday": "Tết",
    "survey_url": "https://acme.example/s/1",
}


@pytest.mark.parametrize("name", templates.SHIPPED)
@pytest.mark.parametrize("lang", templates.LANGUAGES)
def test_every_shipped_template_renders_in_every_language(name, lang):
    out = templates.render(FOLDER, name, [lang], VARS)
    assert out.language == lang
    assert out.subject and "\n" not in out.subject and "{{" not in out.subject
    assert len(out.text) > 20 and "{{" not in out.text and "{%" not in out.text
    assert "Acme" in out.text


@pytest.mark.parametrize("lang", templates.LANGUAGES)
def test_the_survey_a_resolved_ticket_queues_renders_without_a_survey_url(lang):
    """carectl.service.aftercare queues csat_survey with the ticket, no survey_url."""
    base = {k: v for k, v in VARS.items() if k != "survey_url"}
    out = templates.render(
        FOLDER, "csat_survey", [lang], {**base, "ticket": "T-000007", "subject": "Giao hàng"}
    )
    assert "Giao hàng" in out.text and "1" in out.text and "https://" not in out.text
    assert "acme.example/s/1" in templates.render(FOLDER, "csat_survey", [lang], VARS).text


def test_every_message_step_of_the_shipped_care_plans_has_its_templates():
    """The example config's email/SMS steps are queued without variables: they must render."""
    from carectl import config as config_mod

    cfg = config_mod.load_file(ROOT / "config" / "carectl.toml")
    steps = [s for p in cfg.care_plans for s in p.steps if s.channel in ("email", "sms")]
    assert steps
    base = {k: v for k, v in VARS.items() if k in ("customer", "company", "unsubscribe_url")}
    for step in steps:
        for lang in templates.LANGUAGES:
            assert templates.render(FOLDER, step.template, [lang], base).language == lang


def test_language_falls_back_to_default_then_english():
    assert templates.render(FOLDER, "welcome", ["fr", "ko"], VARS).language == "ko"
    assert templates.render(FOLDER, "welcome", ["fr", ""], VARS).language == "en"
    with pytest.raises(templates.TemplateError, match="no template 'nope'"):
        templates.render(FOLDER, "nope", ["vi"], VARS)


def test_html_is_optional_and_escaped():
    evil = {**VARS, "customer": {**VARS["customer"], "given_name": "<b>An</b>"}}
    out = templates.render(FOLDER, "welcome", ["en"], evil)
    assert out.html is not None and "&lt;b&gt;An&lt;/b&gt;" in out.html
    assert "<b>An</b>" in out.text  # plain text is not HTML-escaped
    assert templates.render(FOLDER, "birthday", ["en"], VARS).html is None


def test_render_errors_name_the_file_and_the_cause(tmp_path):
    (tmp_path / "typo.en.j2").write_text(
        "{% block subject %}Hi {{ custmer.name }}{% endblock %}{% block text %}x{% endblock %}"
    )
    (tmp_path / "broken.en.j2").write_text("{% block subject %}\n{% if %}{% endblock %}")
    (tmp_path / "escape.en.j2").write_text(
        "{% block subject %}{{ ''.__class__.__mro__ }}{% endblock %}{% block text %}x{% endblock %}"
    )
    with pytest.raises(templates.TemplateError, match=r"typo\.en\.j2: 'custmer' is undefined"):
        templates.render(tmp_path, "typo", ["en"], VARS)
    with pytest.raises(templates.TemplateError, match=r"broken\.en\.j2 line 2: syntax error"):
        templates.render(tmp_path, "broken", ["en"], VARS)
    with pytest.raises(templates.TemplateError, match=r"escape\.en\.j2"):
        templates.render(tmp_path, "escape", ["en"], VARS)
    with pytest.raises(templates.TemplateError, match=r"welcome\.en\.j2: 'customer'"):
        templates.render(
            FOLDER, "welcome", ["en"], {k: v for k, v in VARS.items() if k != "customer"}
        )


# ---------------------------------------------------------------- header injection

NASTY = st.sampled_from(
    [
        "\r\nBcc: evil@attacker.example",
        "\nCc: evil@attacker.example",
        "\r",
        "=?utf-8?q?x=0D=0ABcc:_evil@attacker.example?=",
        "=?utf-8?b?DQpCY2M6IGV2aWxAYXR0YWNrZXIuZXhhbXBsZQ==?=",
        "%0d%0aBcc: evil@attacker.example",
        '"',
        "<evil@attacker.example>",
        ",evil@attacker.example",
        "\u2028To: evil@attacker.example",
        "\x00",
    ]
)
NAMES = st.lists(st.one_of(NASTY, st.text(max_size=12)), max_size=5).map("".join)
EXPECTED = {
    "From",
    "To",
    "Subject",
    "Message-ID",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
}


@settings(max_examples=300, deadline=None)
@given(name=NAMES, subject=NAMES, to=st.sampled_from(["an@example.vn", "an@bücher.example"]))
def test_names_and_subjects_cannot_inject_headers(name, subject, to):
    """Both builders: the fast bytes one and EmailMessage (its fallback for non-ASCII domains)."""
    args = dict(
        sender="Acme <care@acme.example>",
        to_name=name,
        to_addr=to,
        subject=f"Hello {subject}",
        text=f"Dear {name}\n",
        message_id="<outbox.1@acme.example>",
        headers={
            "List-Unsubscribe": f"<https://acme.example/u/{subject}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    built = [compose.email_bytes(**args), compose.build_email(**args).as_bytes()]
    for raw in built:
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert set(parsed.keys()) == EXPECTED
        assert len(parsed.get_all("To")) == 1
        assert [a.addr_spec for a in parsed["To"].addresses] == [to]
        assert [a.addr_spec for a in parsed["From"].addresses] == ["care@acme.example"]
        assert parsed.get_all("Bcc") is None and parsed.get_all("Cc") is None
        assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])
        assert parsed.get_content().startswith("Dear")
    # The fast path says exactly the defused text (EmailMessage's own folding can garble text
    # that looks like an encoded word, harmlessly: that is why only the fast one is compared).
    if not to.isascii():
        return  # built by EmailMessage: checked above
    parsed = email.message_from_bytes(built[0], policy=email.policy.default)
    assert str(parsed["Subject"]) == compose.one_line(f"Hello {subject}")
    display = compose.address(name, to).display_name
    assert parsed["To"].addresses[0].display_name == display


@pytest.mark.parametrize("addr", ["a@b.example\r\nBcc: x@y", "a@b.example, x@y", "nobody", ""])
def test_a_bad_address_is_refused(addr):
    with pytest.raises(ValueError):
        compose.address("An", addr)

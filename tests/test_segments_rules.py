"""The rule language: what compiles to which SQL, errors with segment name and position, and
values that can never become SQL text."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from carectl import config as config_mod
from carectl.config import ConfigError
from carectl.segments import refresh
from carectl.segments.membership import BASE
from carectl.segments.rules import RuleError, compile_rule
from carectl.service import customers as svc


@pytest.mark.parametrize(
    ("rule", "position", "message"),
    [
        ("frequency >= ", 14, "expected a field, a number or a quoted string, found end of rule"),
        ("frequency >= 3 and", 19, "found end of rule"),
        ("frequency >= 3 an recency_days < 4", 16, "expected 'and', 'or' or the end"),
        ("frequencyy >= 3", 1, "unknown field 'frequencyy'"),
        ("region in ('VN', )", 18, "expected a number or a quoted string, found ')'"),
        ("region = 'VN", 10, 'unexpected character "\'"'),
        ("(frequency > 1", 15, "expected ')'"),
        ("has tag vip", 9, "expected a quoted tag"),
        ("frequency between 1 or 3", 21, "expected 'and'"),
        ("region ; drop table customers", 8, "unexpected character ';'"),
        ("os.system = 1", 1, "only custom.NAME may contain a dot"),
        ("frequency not 3", 15, "expected 'in' or 'between' after 'not'"),
        ("", 1, "empty rule"),
    ],
)
def test_parse_errors_name_the_segment_and_the_position(rule, position, message):
    with pytest.raises(RuleError) as err:
        compile_rule("vip", rule)
    assert err.value.position == position
    text = str(err.value)
    assert text.startswith("segment 'vip': ")
    assert message in text and f"at position {position}" in text
    # the caret points under the offending character
    assert text.splitlines()[-1].index("^") - 2 == position - 1


def test_config_reports_a_bad_rule_with_its_name(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text(
        'database = "x.db"\n[[segments]]\nname = "big"\nrule = "monetary >> 5"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"segment 'big': .* at position 11"):
        config_mod.load_file(path)


def test_values_become_parameters_never_sql():
    c = compile_rule(
        "s",
        "not (region in ('VN', 'KR') and custom.tier = 'gold')"
        " or frequency between 2 and 5 or has tag 'a''b' or source = \"x'); drop\"",
    )
    assert "VN" not in c.sql and "gold" not in c.sql and "drop" not in c.sql
    assert "tier" not in c.sql  # the JSON path is a parameter too
    assert c.params == ("VN", "KR", '$."tier"', "gold", 2, 5, "a'b", "a'b", "x'); drop")
    assert {"region", "custom.tier", "frequency", "tags", "source"} == set(c.fields)


def test_template_segments_are_the_built_in_defaults():
    text = config_mod.template_text()
    cfg = config_mod.parse(tomllib.loads(text), base=Path("/x"))
    assert cfg.segments == config_mod._default_segments()


def test_rules_over_customer_fields_custom_fields_source_and_tags(ctx):
    with ctx.transaction() as tx:
        src = svc.source_id(tx, "vendor_a", "ads", "spring")
        a = svc.create_customer(
            tx,
            full_name="Kim Min-jun",
            region="KR",
            source_id=src,
            custom={"tier": "gold", "tags": ["vip", "seoul"], "visits": 7},
        )
        b = svc.create_customer(tx, full_name="Tran Thi B", region="VN", custom={"visits": 2})
    cases = {
        "region = 'KR'": {a["id"]},
        "source = 'vendor_a' and campaign = 'spring'": {a["id"]},
        "custom.tier = 'gold'": {a["id"]},
        "custom.visits between 1 and 3": {b["id"]},
        "custom.visits > 5 or region = 'VN'": {a["id"], b["id"]},
        "has tag 'vip'": {a["id"]},
        "not has tag 'vip'": {b["id"]},
        "custom.tier is null": {b["id"]},
        "region not in ('KR', 'CN')": {b["id"]},
        "lifecycle = 'lead'": {a["id"], b["id"]},
        "age_days = 0 and recency_days is null": {a["id"], b["id"]},
        "age_days >= 30": set(),
    }
    refresh.recompute_all(ctx)
    now = datetime.now(UTC).isoformat()
    for rule, expected in cases.items():
        c = compile_rule("t", rule)
        sql = f"SELECT c.id {BASE} WHERE {c.sql}"
        got = {r[0] for r in ctx.db.execute(sql, (now, *c.params))}
        assert got == expected, rule
    # day counts are taken at the evaluation time: a month on, both are 30 days old
    later = (datetime.now(UTC) + timedelta(days=30, hours=1)).isoformat()
    c = compile_rule("t", "age_days >= 30")
    got = {r[0] for r in ctx.db.execute(f"SELECT c.id {BASE} WHERE {c.sql}", (later, *c.params))}
    assert got == {a["id"], b["id"]}

"""Custom fields are stored as valid JSON whatever Python value a plugin or file gave: a float
that is no finite number (a JSON lead file's NaN) would be written by json.dumps as the bare
token NaN, which SQLite's json_valid CHECK refuses, failing the whole change."""

import json
import math

from carectl.service.customers import create_customer, get_customer, update_customer


def test_non_finite_custom_values_are_stored_as_their_text(ctx):
    with ctx.transaction() as tx:
        row = create_customer(
            tx, full_name="Trần Thị Bình", phones=["0912345678"], custom={"score": math.nan}
        )
    with ctx.transaction() as tx:
        update_customer(tx, row["code"], {"custom": {"rank": -math.inf, "n": 2}})
    stored = ctx.db.execute("SELECT custom, json_valid(custom) FROM customers").fetchone()
    assert stored[1] == 1
    assert json.loads(stored[0]) == {"score": "NaN", "rank": "-Infinity", "n": 2}
    assert get_customer(ctx.db, row["code"])["custom"]["n"] == 2

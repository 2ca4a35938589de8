"""Feedback files: answers logged through the feedback writer, bad rows named, never twice."""

from __future__ import annotations

import json

from carectl.service import tickets as svc
from carectl.service.customers import create_customer
from carectl.service.feedback_file import import_file

CSV = """\
Customer,Ticket,Kind,Score,Comment,Channel,At
{code},,csat,5,Rất hài lòng,zalo,2026-03-02T09:00:00+07:00
hoa@example.vn,,nps,9,,web,2026-03-02
0912 345 678,,csat,1,Không ai gọi lại,sms,2026-03-03
,{ticket},csat,4,,email,2026-03-04T10:00:00Z
{code},,stars,4,,,
{code},,csat,9,,,
C-999999,,csat,3,,,
nobody@example.vn,,nps,8,,,2026-03-05
{code},,csat,four,,,
"""


def _desk(ctx):
    desk = svc.Desk.from_config(ctx.config)
    with ctx.transaction() as tx:
        c = create_customer(tx, full_name="Phạm Thị Hoa", emails=["hoa@example.vn"],
                            phones=["0912345678"])  # fmt: skip
        t = svc.open_ticket(tx, desk, c["id"], subject="s", category="question",
                            at="2026-03-02T02:00:00.000Z")  # fmt: skip
    return c, t


def test_answers_logged_bad_rows_named_and_a_second_delivery_counts_once(ctx, tmp_path):
    c, t = _desk(ctx)
    path = tmp_path / "survey.csv"
    path.write_text(CSV.format(code=c["code"], ticket=t["code"]), encoding="utf-8-sig")
    report = import_file(ctx, path)
    assert (report.rows, report.recorded, report.duplicates) == (9, 4, 0)
    assert [(e["line"], e["column"]) for e in report.errors] == [
        (6, "kind"), (7, ""), (8, "customer"), (9, "customer"), (10, "score")
    ]  # fmt: skip
    assert "1..5" in report.errors[1]["message"]
    rows = ctx.db.execute(
        "SELECT customer_id, ticket_id, kind, score, comment, channel, at FROM feedback ORDER BY id"
    ).fetchall()
    assert rows == [
        (c["id"], None, "csat", 5, "Rất hài lòng", "zalo", "2026-03-02T02:00:00.000Z"),
        (c["id"], None, "nps", 9, "", "web", "2026-03-02T00:00:00.000Z"),
        (c["id"], None, "csat", 1, "Không ai gọi lại", "sms", "2026-03-03T00:00:00.000Z"),
        (c["id"], t["id"], "csat", 4, "", "email", "2026-03-04T10:00:00.000Z"),
    ]
    # the unhappy answer opened a follow-up task through the writer
    assert ctx.db.execute("SELECT count(*) FROM care_tasks").fetchone()[0] == 1
    again = import_file(ctx, path)
    assert (again.recorded, again.duplicates) == (0, 4)
    assert ctx.db.execute("SELECT count(*) FROM feedback").fetchone()[0] == 4


def test_cli_import_utf16_with_semicolons(ctx, cli, tmp_path):
    c, _ = _desk(ctx)
    path = tmp_path / "nps.csv"
    comments = [
        "Très satisfaite, service rapide et très aimable",
        "Délai de réponse trop élevé",
        "Problème réglé dès le premier appel, merci à l'équipe",
        "Assez déçue du suivi",
    ]
    body = "".join(
        f"{c['code']};{8 + i % 3};{text};2026-03-0{i + 1}\n" for i, text in enumerate(comments)
    )
    path.write_bytes(
        ("client;nps;comment;at\n" + body).replace("client", "customer").encode("utf-16")
    )
    res = cli("feedback", "import", str(path), "--json")
    assert res.code == 0, res.err
    assert json.loads(res.out)["recorded"] == 4
    got = [r[0] for r in ctx.db.execute("SELECT comment FROM feedback ORDER BY id")]
    assert got == comments
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    res = cli("feedback", "import", str(empty))
    assert res.code == 0 and "no header row" in res.err

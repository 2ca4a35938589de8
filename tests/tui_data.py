"""A real multilingual customer database for the TUI tests, written through the service layer."""

from __future__ import annotations

from pathlib import Path

from carectl.config import Config
from carectl.context import Context
from carectl.service import customers as svc

VI_FAMILIES = ("Nguyễn", "Trần", "Lê", "Phạm")
VI = [f"{f} {g}" for f in VI_FAMILIES for g in ("Văn An", "Thị Bình", "Đức Anh")]
KO = ["김민준", "이서연", "박지훈", "최유진", "정하은", "강도윤"]
ZH = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊"]
EN = ["John Smith", "Mary Brown", "Alice Walker", "Bob Taylor", "Emma Wilson", "Liam Moore"]
PEOPLE = [  # (names, language, region, phone pattern)
    (VI, "vi", "VN", "090{:07d}"),
    (KO, "ko", "KR", "010-{:04d}-5678"),
    (ZH, "zh", "CN", "138{:08d}"),
    (EN, "en", "US", "+1 212-555-{:04d}"),
]


def build(path: Path, n: int) -> Context:
    """n customers cycling through Vietnamese, Korean, Chinese and English people.

    Timestamps are pinned afterwards (fixture SQL) so screenshots do not depend on the clock.
    """
    ctx = Context(Config(database=path))
    with ctx.transaction() as tx:
        sid = svc.source_id(tx, "fixture", "test")
        for i in range(n):
            names, language, region, phone = PEOPLE[i % 4]
            name = names[(i // 4) % len(names)]
            svc.create_customer(
                tx,
                full_name=name,
                emails=[f"customer{i + 1}@example.com"],
                phones=[phone.format(1000 + i)],
                phone_region=region,
                region=region,
                language=language,
                source_id=sid,
            )
        tx.execute(
            "UPDATE customers SET updated_at = printf('2026-11-%02dT%02d:00:00.000Z',"
            " 1 + id % 28, id % 24), created_at = '2026-01-02T03:04:05.000Z'"
        )
    return ctx

"""Every encoding vendors' tools write, through the daemon: detected, honoured, and the names
stored exactly (NFC), with each language's own headers mapped by the built-in synonyms."""

from __future__ import annotations

import codecs
import unicodedata

import pytest

from carectl import config as config_mod
from carectl.builtin.formats_csv import SAMPLE_BYTES, detect_encoding, read_rows
from carectl.context import Context
from carectl.ingest.daemon import Daemon
from carectl.ingest.errors import LeadFileError
from tests.conftest import write_config
from tests.test_import import cp1258

VI = (
    ["Họ tên", "Số điện thoại", "Email"],
    ["Nguyễn Văn An", "Trần Thị Bình", "Lê Hoàng Cường", "Phạm Thị Dung", "Đặng Quốc Việt",
     "Võ Thị Hồng Nhung", "Bùi Đức Thắng", "Huỳnh Ngọc Ánh"],
    "09{:08d}",
)  # fmt: skip
KO = (
    ["성명", "휴대폰", "이메일"],
    ["김민수", "이영희", "박지훈", "최수진", "정우성", "강하늘", "조은비", "윤서연"],
    "010-{:04d}-5678",
)
ZH = (
    ["姓名", "手机", "電子郵件"],
    ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨磊", "黄婷婷", "欧阳娜娜"],
    "138{:08d}",
)
WEST = (
    ["Name", "Phone", "E-mail"],
    ["José Müller", "Zoë Ångström", "François Dupré", "Søren Kierkegård", "Ana Peña",
     "Jürgen Groß", "Chloé Lefèvre", "Núria Puig"],
    "",
)  # fmt: skip


def table(lang: tuple, rows: int = 40, sep: str = ",") -> tuple[str, set[str]]:
    header, names, phone = lang
    lines, expected = [sep.join(header)], set()
    for i in range(rows):
        name = f"{names[i % len(names)]} {i}"
        expected.add(unicodedata.normalize("NFC", name))
        lines.append(sep.join([name, phone.format(1000 + i) if phone else "", f"p{i}@example.com"]))
    return "\n".join(lines) + "\n", expected


CASES = {
    "utf8.csv": ("VN", VI, lambda t: t.encode("utf-8")),
    "utf8_bom.csv": ("VN", VI, lambda t: t.encode("utf-8-sig")),
    "utf16le_bom.csv": ("KR", KO, lambda t: t.encode("utf-16")),
    "utf16be_bom.csv": ("CN", ZH, lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be")),
    "cp949.csv": ("KR", KO, lambda t: t.encode("cp949")),
    "euc_kr.csv": ("KR", KO, lambda t: t.encode("euc-kr")),
    "gb18030.csv": ("CN", ZH, lambda t: t.encode("gb18030")),
    "gbk.csv": ("CN", ZH, lambda t: t.encode("gbk")),
    "cp1258.csv": ("VN", VI, cp1258),
    "cp1252.csv": ("US", WEST, lambda t: t.encode("cp1252")),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_encoding_is_detected_and_honoured(tmp_path, name):
    region, lang, encode = CASES[name]
    extra = (
        f'[[drop_folders]]\npath = "../drop"\nsource = "v"\nregion = "{region}"\n'
        "settle_seconds = 0\n"
    )
    ctx = Context(config_mod.load_file(write_config(tmp_path / "cfg", extra)))
    drop = tmp_path / "drop"
    drop.mkdir()
    text, expected = table(lang)
    (drop / name).write_bytes(encode(text))
    stats = Daemon(ctx).run_once()
    assert (stats.files_done, stats.rows, stats.rejected) == (1, 40, 0), stats
    got = {r[0] for r in ctx.db.execute("SELECT full_name FROM customers")}
    assert got == expected
    phones = ctx.db.execute("SELECT count(*) FROM contact_points WHERE kind = 'phone'")
    assert phones.fetchone()[0] == (40 if lang[2] else 0)  # the phone header was mapped
    custom = ctx.db.execute("SELECT custom FROM customers LIMIT 1").fetchone()[0]
    assert custom in ("{}", None, "")  # every column had a field: none left as custom
    ctx.close()


def faker_table(locale: str, rows: int, seed: int, encode) -> tuple[bytes, list[str]]:
    """Names and phones from faker, seeded, in the vendor's encoding: short two-character Chinese
    names are valid UTF-8 by chance (about 1 in 100), which must not read as a mixed file."""
    from faker import Faker

    fake = Faker(locale)
    fake.seed_instance(seed)
    names = [fake.name() for _ in range(rows)]
    text = "".join(f"{n},{fake.phone_number()}\n" for n in names)
    return encode("Name,Phone\n" + text), names


GENERATED = {
    "gb18030": ("zh_CN", lambda t: t.encode("gb18030")),
    "gbk": ("zh_CN", lambda t: t.encode("gbk")),
    "cp949": ("ko_KR", lambda t: t.encode("cp949")),
    "euc_kr": ("ko_KR", lambda t: t.encode("euc-kr")),
    "shift_jis": ("ja_JP", lambda t: t.encode("shift_jis")),
    "cp1258": ("vi_VN", cp1258),
    # Latin code pages read most names alike: a wrong one stores è as č, ơ as ő, silently.
    "cp1252_fr": ("fr_FR", lambda t: t.encode("cp1252")),
    "cp1252_de": ("de_DE", lambda t: t.encode("cp1252")),
    "cp1250_pl": ("pl_PL", lambda t: t.encode("cp1250")),
    "cp1251_ru": ("ru_RU", lambda t: t.encode("cp1251")),
}


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_a_generated_legacy_file_is_read_whole_not_refused_as_mixed(tmp_path, name):
    locale, encode = GENERATED[name]
    data, names = faker_table(locale, 5000, seed=4, encode=encode)
    if name in ("gb18030", "gbk"):  # the case this guards: lines that happen to be UTF-8
        assert sum(_is_utf8(line) for line in data.splitlines() if not line.isascii()) > 10
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    got = [row["Name"] for _, row in read_rows(path)]
    assert got == [unicodedata.normalize("NFC", n) for n in names]


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@pytest.mark.parametrize("encoding", ["gb18030", "cp949", "shift_jis", "cp1258"])
def test_utf8_lines_pasted_into_a_legacy_file_are_refused_as_mixed(tmp_path, encoding):
    locale = {"gb18030": "zh_CN", "cp949": "ko_KR", "shift_jis": "ja_JP", "cp1258": "vi_VN"}
    data, _ = faker_table(locale[encoding], 8000, seed=5, encode=GENERATED[encoding][1])
    pasted, _ = faker_table(locale[encoding], 20, seed=6, encode=lambda t: t.encode("utf-8"))
    path = tmp_path / "mixed.csv"
    path.write_bytes(data + pasted.split(b"\n", 1)[1])
    with pytest.raises(LeadFileError, match=r"mixed encodings: line 80\d\d is UTF-8"):
        read_rows(path)


@pytest.mark.parametrize(
    ("name", "written"),
    [("cp1252_fr", "cp1252"), ("cp1252_de", "cp1252"), ("cp1250_pl", "cp1250"),
     ("cp1251_ru", "cp1251"), ("cp1258", "cp1258")],
)  # fmt: skip
def test_the_code_page_a_file_was_written_in_is_the_one_detected(tmp_path, name, written):
    """Names a sample holds may read alike in several code pages (German in CP1250 and
    CP1252); the rest of the file may not, so the page itself must be the right one."""
    locale, encode = GENERATED[name]
    data, _ = faker_table(locale, 5000, seed=0, encode=encode)
    path = tmp_path / f"{name}.csv"
    path.write_bytes(data)
    assert detect_encoding(path, data[:SAMPLE_BYTES]) == written

"""Header text -> canonical lead field: the synonyms vendors' exports use for each field.

Headers match on folded text without punctuation ("Số điện thoại (*)" -> "sodienthoai"), in
Vietnamese, Korean, Chinese and English; a folder's explicit mapping wins over the synonyms (a
mapping to a name that is not a field renames the column in custom fields). A header nothing
maps stays a custom field under its own name.
"""

from __future__ import annotations

import re
from functools import lru_cache

from carectl.normalize.text import fold

SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "name", "full name", "customer name", "customer", "contact name", "client name",
        "họ tên", "họ và tên", "tên", "tên khách hàng", "khách hàng", "tên kh",
        "이름", "성명", "고객명", "고객 이름", "姓名", "名字", "客户名称", "客户姓名", "客户",
        "氏名", "名前",
    ),
    "family_name": ("family name", "last name", "surname", "họ", "성", "姓"),
    "given_name": ("given name", "first name", "名"),
    "phones": (
        "phone", "phone number", "phone no", "mobile", "mobile phone", "mobile no", "cell",
        "cellphone", "tel", "telephone", "số điện thoại", "sđt", "điện thoại", "di động",
        "số di động", "điện thoại di động", "전화", "전화번호", "휴대폰", "휴대전화", "핸드폰",
        "연락처", "电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "電話", "手機",
    ),
    "emails": (
        "email", "e-mail", "mail", "email address", "thư điện tử", "địa chỉ email",
        "이메일", "메일", "电子邮件", "邮箱", "电子邮箱", "電子郵件", "郵箱",
    ),
    "birthday": (
        "birthday", "birth date", "date of birth", "dob", "ngày sinh", "sinh nhật",
        "ngày tháng năm sinh", "생년월일", "생일", "生日", "出生日期", "出生年月日",
    ),
    "gender": ("gender", "sex", "giới tính", "성별", "性别", "性別"),
    "id_number": (
        "id number", "id no", "national id", "id card", "identity card", "passport",
        "passport number", "passport no", "ssn", "social security number", "soc sec id",
        "cmnd", "cccd", "số cmnd", "số cccd", "căn cước", "신분증 번호", "여권 번호",
        "身份证", "身份证号", "身份证号码", "护照号码",
    ),
    "address": (
        "address", "street", "street address", "address line", "địa chỉ", "đường", "주소",
        "도로명", "地址", "住址", "街道地址",
    ),
    # Parts of a postal address in columns of their own: joined into the address, in the
    # order address_key compares (house number, street, locality, state, postcode).
    "house_number": (
        "street number", "house number", "house no", "street no", "building number", "số nhà",
        "건물번호", "번지", "门牌号", "門牌號", "番地",
    ),
    "locality": (
        "suburb", "locality", "district", "ward", "neighbourhood", "neighborhood", "phường",
        "xã", "quận", "huyện", "phường xã", "quận huyện", "동", "읍면동", "구", "시군구", "区",
        "街道", "区县", "鄉鎮", "市区町村",
    ),
    "state": ("state", "territory", "county", "prefecture", "tiểu bang", "州", "都道府県"),
    "postcode": (
        "postcode", "post code", "postal code", "zip", "zip code", "zipcode", "mã bưu chính",
        "mã bưu điện", "우편번호", "邮编", "邮政编码", "郵遞區號", "郵便番号",
    ),
    "city": (
        "city", "town", "province", "thành phố", "tỉnh", "tỉnh thành", "tỉnh thành phố",
        "도시", "시도", "城市", "省份",
    ),
    "note": (
        "note", "notes", "comment", "comments", "remark", "remarks", "ghi chú",
        "메모", "비고", "备注", "留言",
    ),
}  # fmt: skip

ALIASES = {"name": "full_name", "phone": "phones", "email": "emails", "birth_date": "birthday"}


def header_key(text: str) -> str:
    """Folded header without spaces and punctuation: "E-mail" and "EMAIL" are both "email"."""
    return re.sub(r"[\W_]+", "", fold(text))


_SYNONYM_KEYS = {header_key(s): f for f, words in SYNONYMS.items() for s in words}


@lru_cache(maxsize=256)
def columns(headers: tuple[str, ...], mapping: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """header -> field for one file's headers (cached: every row of a file has the same ones)."""
    explicit = {header_key(k): v.strip() for k, v in mapping}
    out = {}
    for h in headers:
        key = header_key(h)
        target = explicit.get(key) or _SYNONYM_KEYS.get(key)
        if target is None and key.rstrip("0123456789") != key:  # "Phone 2", "email1"
            target = _SYNONYM_KEYS.get(key.rstrip("0123456789"))
        if target:
            out[h] = ALIASES.get(target, target)
    return out

"""Header text -> canonical lead field, for exports we have not seen (other vendors, languages).

A header is a field when its folded text (accents, case, width and punctuation gone) is one of
the field's synonyms, in any of ~15 languages. Failing that, it may be a synonym wrapped in words
that do not change what the column holds: notes in brackets ("(required)", "(bắt buộc)",
"(必填)"), numbering ("Phone 2", "E-mail 1 - Value"), words naming whose or which contact point it
is ("Home Phone", "SĐT khách hàng", "고객 연락처", "Default Address Phone") or that it is a number
("휴대폰 번호", "Mobile Phone Number"). Each such word is allowed only around the fields it fits:
"Business Phone" is a phone, "Business Name" is not a name. Any other word makes the column a
custom field, so a column that describes another ("Phone 1 - Type", "Email Marketing Consent",
"Country Code") or belongs to someone else ("Company Name", "Assistant's Phone", "Contact Owner")
is kept as written, never guessed. One postal address is read per file: the home one before
billing, shipping, work and other ones (Outlook's "Business Street" and "Home Street"), and the
first of numbered groups; a "Formatted" address wins over its group's parts.

A folder's explicit mapping always wins (a mapping to a name that is not a field renames the
column in custom fields). :func:`explain` says for each header which field it became and why.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

from carectl.normalize.text import fold, is_cjk

SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": (
        "name", "full name", "customer name", "customer", "contact name", "client name",
        "display name", "your name", "complete name", "legal name",
        "họ tên", "họ và tên", "tên", "tên khách hàng", "khách hàng", "tên kh",
        "이름", "성명", "고객명", "고객 이름", "성함",
        "姓名", "名字", "客户名称", "客户姓名", "客户",
        "联系人", "联系人姓名", "氏名", "名前", "お名前", "顧客名",
        "ชื่อ", "ชื่อ-นามสกุล", "ชื่อ นามสกุล", "ชื่อ-สกุล", "ชื่อลูกค้า",
        "nama", "nama lengkap", "nama penuh", "nama pelanggan",
        "nombre", "nombre completo", "nombre y apellidos", "nome", "nome completo",
        "nom complet", "nom et prénom", "prénom et nom", "vollständiger name", "kundenname",
        "фио", "имя", "полное имя",
    ),
    "family_name": (
        "family name", "last name", "surname", "họ", "성", "姓", "苗字", "姓氏",
        "นามสกุล", "nama belakang", "apellido", "apellidos", "primer apellido",
        "sobrenome", "apelido", "nom", "nom de famille", "nachname", "familienname", "фамилия",
    ),
    "given_name": (
        "given name", "first name", "名", "prénom", "vorname", "nama depan", "primer nombre",
        "primeiro nome", "tên riêng",
    ),
    "middle_name": (
        "middle name", "additional name", "tên đệm", "tên lót", "segundo nombre", "отчество",
    ),
    "phones": (
        "phone", "phone number", "phone no", "mobile", "mobile phone", "mobile no", "cell",
        "cellphone", "tel", "telephone", "contact number", "contact no", "contact phone",
        "phones", "phone numbers", "mobile number", "cell number", "mob", "mob no", "ph no",
        "whatsapp number", "whatsapp no", "số zalo", "số whatsapp", "nomor whatsapp", "nomor wa",
        "no wa", "no whatsapp",
        "số điện thoại", "sđt", "sdt", "số đt", "điện thoại", "di động",
        "số di động", "điện thoại di động", "đt", "đtdđ",
        "전화", "전화번호", "휴대폰", "휴대전화", "핸드폰", "휴대전화번호",
        "电话", "手机", "手机号", "手机号码", "联系电话", "电话号码", "電話", "手機", "手機號碼",
        "電話號碼", "移动电话", "電話番号", "携帯電話", "携帯", "携帯番号", "携帯電話番号",
        "เบอร์โทร", "เบอร์โทรศัพท์", "โทรศัพท์", "มือถือ", "เบอร์มือถือ", "เบอร์", "โทร",
        "หมายเลขโทรศัพท์",
        "telepon", "telp", "no telepon", "nomor telepon", "no telp", "no hp", "nomor hp",
        "handphone", "no handphone", "nomor handphone", "ponsel", "nomor ponsel",
        "telefon", "no telefon", "telefon bimbit", "no tel",
        "teléfono", "teléfono móvil", "móvil", "celular", "número de teléfono", "telefone",
        "telemóvel", "número de telefone", "téléphone", "tél", "portable", "numéro de téléphone",
        "telefonnummer", "handy", "mobiltelefon", "mobilnummer", "handynummer",
        "телефон", "мобильный", "мобильный телефон", "номер телефона", "тел", "сотовый",
    ),
    "emails": (
        "email", "e-mail", "mail", "email address", "e-mail address", "emails",
        "thư điện tử", "địa chỉ email", "địa chỉ thư điện tử",
        "이메일", "메일", "이메일 주소", "전자우편",
        "电子邮件", "邮箱", "电子邮箱", "邮件", "邮箱地址",
        "電子郵件", "郵箱", "電子郵箱", "メールアドレス", "メール", "eメール",
        "อีเมล", "อีเมล์", "ที่อยู่อีเมล", "surel", "alamat email", "emel", "alamat emel",
        "correo", "correo electrónico", "dirección de correo electrónico", "dirección de correo",
        "endereço de e-mail", "endereço de email", "courriel", "adresse e-mail", "adresse email",
        "adresse électronique", "adresse mail", "e-mail-adresse", "emailadresse",
        "электронная почта", "эл почта", "почта", "адрес электронной почты",
    ),
    # A column that holds phones or emails, told apart by each value ("연락처", "联系方式").
    "contact": (
        "contact info", "contact information", "contact details", "liên hệ",
        "thông tin liên hệ", "연락처", "联系方式", "聯絡方式", "聯絡電話", "連絡先",
        "ช่องทางติดต่อ", "kontak",
    ),
    "birthday": (
        "birthday", "birth date", "date of birth", "dob", "birthdate",
        "ngày sinh", "sinh nhật", "ngày tháng năm sinh",
        "생년월일", "생일", "生日", "出生日期", "出生年月日", "生年月日", "誕生日",
        "วันเกิด", "วันเดือนปีเกิด", "tanggal lahir", "tarikh lahir",
        "fecha de nacimiento", "data de nascimento", "date de naissance", "geburtsdatum",
        "geburtstag", "дата рождения",
    ),
    # A birthday in columns of its own (Thunderbird: "Birth Year", "Birth Month", "Birth Day").
    "birth_year": (
        "birth year", "year of birth", "năm sinh", "출생년도", "출생연도", "出生年份", "生年",
        "año de nacimiento", "ano de nascimento", "année de naissance", "geburtsjahr",
        "tahun lahir", "год рождения",
    ),
    "birth_month": (
        "birth month", "month of birth", "tháng sinh", "출생월", "出生月份", "生月",
        "mes de nacimiento", "mês de nascimento", "mois de naissance", "geburtsmonat",
        "bulan lahir", "месяц рождения",
    ),
    "birth_day": ("birth day of month", "ngày sinh trong tháng"),  # and "Birth Day" beside a month
    "gender": (
        "gender", "sex", "giới tính", "성별", "性别", "性別", "เพศ", "jenis kelamin", "jantina",
        "sexo", "género", "gênero", "sexe", "genre", "geschlecht", "пол",
    ),
    "id_number": (
        "id number", "id no", "national id", "id card", "identity card", "passport",
        "passport number", "passport no", "ssn", "social security number", "soc sec id",
        "cmnd", "cccd", "số cmnd", "số cccd", "căn cước", "신분증 번호", "여권 번호",
        "身份证", "身份证号", "身份证号码", "护照号码", "护照", "nik", "no ktp", "dni", "cpf",
        "hộ chiếu", "số hộ chiếu", "여권", "パスポート", "pasaporte", "passeport", "reisepass",
        "паспорт",
    ),
    "address": (
        "address", "street", "street address", "address line", "địa chỉ", "đường", "주소",
        "도로명", "地址", "住址", "街道地址", "详细地址", "住所", "建物名", "ที่อยู่",
        "alamat", "dirección", "endereço", "morada", "adresse", "anschrift", "straße",
        "rue", "calle", "адрес", "улица",
    ),
    # Parts of a postal address in columns of their own: joined into the address, in the
    # order address_key compares (house number, street, locality, state, postcode).
    "house_number": (
        "street number", "house number", "house no", "street no", "building number", "số nhà",
        "건물번호", "번지", "门牌号", "門牌號", "番地", "hausnummer",
    ),
    "locality": (
        "suburb", "locality", "district", "ward", "neighbourhood", "neighborhood", "phường",
        "xã", "quận", "huyện", "phường xã", "quận huyện", "동", "읍면동", "구", "시군구", "区",
        "街道", "区县", "鄉鎮", "市区町村", "อำเภอ", "เขต", "ตำบล", "แขวง", "kecamatan",
        "kelurahan", "barrio", "bairro", "колония",
    ),
    "state": (
        "state", "territory", "county", "prefecture", "tiểu bang", "州", "都道府県",
        "state/region", "state/province", "provinsi", "negeri", "provincia", "estado",
        "bundesland", "région", "область",
    ),
    "postcode": (
        "postcode", "post code", "postal code", "zip", "zip code", "zipcode", "zip/postal code",
        "mã bưu chính", "mã bưu điện", "우편번호", "邮编", "邮政编码", "郵遞區號", "郵便番号",
        "รหัสไปรษณีย์", "kode pos", "poskod", "código postal", "cep", "code postal",
        "plz", "postleitzahl", "почтовый индекс", "индекс",
    ),
    "city": (
        "city", "town", "province", "thành phố", "tỉnh", "tỉnh thành", "tỉnh thành phố", "tỉnh/tp",
        "도시", "시도", "城市", "省份", "市", "จังหวัด", "kota", "kabupaten", "bandar",
        "ciudad", "cidade", "ville", "stadt", "ort", "город",
    ),
    "note": (
        "note", "notes", "comment", "comments", "remark", "remarks", "ghi chú",
        "메모", "비고", "备注", "留言", "備考", "メモ", "หมายเหตุ", "catatan", "nota", "notas",
        "observações", "observaciones", "remarques", "commentaire", "bemerkung", "notiz",
        "примечание", "комментарий",
    ),
}  # fmt: skip

ALIASES = {"name": "full_name", "phone": "phones", "email": "emails", "birth_date": "birthday"}
NAME_FIELDS = frozenset({"full_name", "family_name", "given_name", "middle_name"})
CONTACT_FIELDS = frozenset({"phones", "emails", "contact"})
PLACE_FIELDS = frozenset({"address", "house_number", "locality", "state", "postcode", "city"})
BIRTH_FIELDS = frozenset({"birthday", "birth_year", "birth_month", "birth_day"})
PERSON_FIELDS = NAME_FIELDS | CONTACT_FIELDS | PLACE_FIELDS | BIRTH_FIELDS | {"gender", "id_number"}
_PHONE = frozenset({"phones", "contact"})

# Words around a synonym that leave its field as it is, and the fields they may stand by.
_WHOSE = (  # the lead's own: any field of the person
    "customer", "client", "contact", "lead", "member", "buyer", "guest", "patient", "student",
    "your", "you", "personal", "private", "primary", "main", "preferred",
    "profile", "person", "properties", "attributes", "fields",  # nested JSON: "profile.email"
    "khách hàng", "kh", "của bạn", "của khách hàng", "người liên hệ", "cá nhân", "chính",
    "고객", "회원", "귀하의", "개인", "客户", "顾客", "会员", "您的", "你的", "个人", "客戶",
    "お客様", "顧客", "会員", "ご", "お", "ลูกค้า", "ของคุณ", "ของลูกค้า", "pelanggan", "anda",
    "cliente", "del cliente", "do cliente", "su", "tu", "seu", "sua", "client", "du client",
    "votre", "kunde", "des kunden", "ihre", "ihr", "клиента", "ваш", "ваше", "ваша",
)  # fmt: skip
_WHICH = (  # which of several contact points or addresses
    "home", "mobile", "cell", "work", "business", "office", "other", "secondary", "user",
    "alternate", "alternative", "alt", "additional", "backup", "default", "default address",
    "mailing", "billing", "shipping", "delivery", "residential", "current", "permanent",
    "nhà", "nhà riêng", "di động", "cơ quan", "công việc", "khác", "phụ", "thường trú",
    "tạm trú", "hiện tại", "liên hệ", "giao hàng", "자택", "집", "직장", "휴대", "기타",
    "家庭", "住宅", "工作", "办公", "其他", "备用", "联系", "收货", "自宅", "勤務先", "その他",
    "บ้าน", "ที่ทำงาน", "อื่นๆ", "rumah", "kantor", "lain", "casa", "trabajo", "oficina",
    "domicilio", "trabalho", "residencial", "domicile", "travail", "bureau", "privat",
    "geschäftlich", "arbeit", "домашний", "рабочий",
    "zalo", "whatsapp", "wa", "viber", "line",
)  # fmt: skip
_NUMBER = (  # "the number of": phones only
    "number", "no", "nr", "num", "numero", "número", "numéro", "nummer", "số", "nomor",
    "номер", "번호", "号码", "号", "號碼", "番号", "หมายเลข",
)  # fmt: skip
_NOISE = (  # anywhere, any field: Google's "- Value", required / optional marks, "of"
    "value", "required", "optional", "mandatory", "bắt buộc", "tùy chọn", "không bắt buộc",
    "필수", "선택", "必填", "选填", "必須", "任意", "จำเป็น", "wajib", "opsional",
    "obligatorio", "obrigatório", "obligatoire", "pflicht", "pflichtfeld", "обязательно",
    "of", "de", "da", "do", "del", "du", "des", "der", "la", "el", "le", "the", "의", "的", "の",
    "if any", "if available", "nếu có", "있으면", "如有", "あれば", "jika ada", "si aplica",
)  # fmt: skip
_SEXES = (  # "Giới tính (Nam/Nữ)": the values a gender column takes
    "male", "female", "m", "f", "man", "woman", "nam", "nữ", "남", "여", "남자", "여자", "男", "女",
    "ชาย", "หญิง", "laki laki", "perempuan", "l", "p", "hombre", "mujer", "h", "masculino",
    "femenino", "homme", "femme", "männlich", "weiblich", "w", "мужской", "женский", "м", "ж",
    "other", "khác",
)  # fmt: skip
_NAME_WORDS = (  # a name in its own script ("姓（漢字）"); a reading or romanisation is not
    "full", "complete", "legal", "đầy đủ", "có dấu", "lengkap", "completo", "complet", "полное",
    "漢字", "한글", "中文",
)  # fmt: skip
_PLACE_WORDS = ("address", "street", "địa chỉ", "주소", "地址", "住所", "formatted", "line")
# An address's kind, by the words around it: the home one is read before the others.
_PLACE_KINDS = (
    ("home", "residential", "personal", "private", "mailing", "default", "default address",
     "primary", "main", "current", "permanent", "nhà", "nhà riêng", "thường trú", "hiện tại",
     "자택", "집", "家庭", "住宅", "自宅", "บ้าน", "rumah", "casa", "domicilio", "residencial",
     "domicile", "privat", "домашний"),
    ("billing",),
    ("shipping", "delivery", "giao hàng", "收货"),
    ("work", "business", "office", "cơ quan", "công việc", "직장", "工作", "办公", "勤務先",
     "ที่ทำงาน", "kantor", "trabajo", "oficina", "trabalho", "travail", "bureau",
     "geschäftlich", "arbeit", "рабочий"),
)  # fmt: skip
_OTHER_RANK = len(_PLACE_KINDS)


# Longer headers are no field's name (and are not searched word by word).
MAX_CHARS, MAX_WORDS = 200, 12


class Decision(NamedTuple):
    """One header's fate: ``field`` is None for a custom field; ``how`` says why."""

    header: str
    field: str | None
    how: str  # "mapping", "synonym", "around a synonym", "no synonym", "ambiguous", ...


def header_key(text: str) -> str:
    """Folded header without spaces and punctuation: "E-mail" and "EMAIL" are both "email"."""
    return re.sub(r"[\W_]+", "", fold(text))


_SYNONYM_KEYS: dict[str, str] = {}
for _field, _synonyms in SYNONYMS.items():
    for _synonym in _synonyms:
        _SYNONYM_KEYS.setdefault(header_key(_synonym), _field)


_DATE_FORMAT = re.compile(r"[dmy]{2,}")  # "Ngày sinh (dd/mm/yyyy)": a note on the format


def _words(text: str) -> tuple[str, ...]:
    """Folded words of a header, without marks or punctuation, numbers off their ends."""
    out = []
    for c in fold(text):
        if c.isalnum():
            out.append(c)
        elif not unicodedata.category(c).startswith("M"):
            out.append(" ")
    words = (w.rstrip("0123456789") for w in "".join(out).split())
    return tuple(w for w in words if w and not _DATE_FORMAT.fullmatch(w))


def _spaceless(word: str) -> bool:
    """A word of a script written without spaces (CJK, kana, Thai...): qualifiers may be glued
    to it ("客户手机号", "เบอร์โทรลูกค้า")."""
    return not word.isascii() and (is_cjk(word[0]) or "\u0e00" <= word[0] <= "\u0eff")


def _table(*groups: tuple[tuple[str, ...], frozenset[str]]) -> dict[tuple[str, ...], frozenset]:
    table: dict[tuple[str, ...], frozenset[str]] = {}
    for words, fields in groups:
        for w in words:
            key = _words(w)
            if key:
                table[key] = table.get(key, frozenset()) | fields
    return table


_AROUND = _table(
    (_WHOSE, PERSON_FIELDS),
    (_WHICH, CONTACT_FIELDS | PLACE_FIELDS),
    (_NUMBER, _PHONE),
    (_NOISE, PERSON_FIELDS | {"note"}),
    (_NAME_WORDS, NAME_FIELDS),
    (_SEXES, frozenset({"gender"})),
    (_PLACE_WORDS, PLACE_FIELDS),
)
_WHICH_WORDS = {" ".join(_words(w)) for w in _WHICH}
_PLACE_RANK = {" ".join(_words(w)): rank for rank, ws in enumerate(_PLACE_KINDS) for w in ws}
_PLACE_RANK[""] = 0
_GLUED = {k[0]: v for k, v in _AROUND.items() if len(k) == 1 and _spaceless(k[0])}
_MAX_AROUND = max(map(len, _AROUND))


def _peel(words: tuple[str, ...]) -> list[tuple[tuple[str, ...], frozenset[str], str]]:
    """Every (rest, fields the peeled words allow, the place words peeled) from taking one
    qualifier off either end of ``words``."""
    out = []
    for n in range(1, min(_MAX_AROUND, len(words) - 1) + 1):
        for rest, peeled in ((words[n:], words[:n]), (words[:-n], words[-n:])):
            allowed = _AROUND.get(peeled)
            if allowed is not None:
                out.append((rest, allowed, " ".join(peeled)))
    for end in (0, -1):
        word = words[end]
        if not _spaceless(word):
            continue
        for glued, allowed in _GLUED.items():
            if len(word) <= len(glued):
                continue
            if end == 0 and word.startswith(glued):
                out.append(((word[len(glued) :], *words[1:]), allowed, glued))
            elif end == -1 and word.endswith(glued):
                out.append(((*words[:-1], word[: -len(glued)]), allowed, glued))
    return out


@lru_cache(maxsize=4096)
def field_of(header: str) -> tuple[str | None, str, str]:
    """(field or None, how, the address kind its words name) for one header, alone."""
    if len(header) > MAX_CHARS:  # a sentence, or a cell read as a header: no field's name
        return None, "no synonym", ""
    words = _words(header)
    if not words:
        return None, "no synonym", ""
    exact = _SYNONYM_KEYS.get("".join(words))
    if exact is not None:
        return exact, "synonym", ""
    if len(words) > MAX_WORDS:
        return None, "no synonym", ""
    found: dict[str, str] = {}  # field -> the place words around it
    seen = set()
    todo = [(words, PERSON_FIELDS | {"note"}, ())]
    while todo:
        state, allowed, kinds = todo.pop()
        for rest, fields, peeled in _peel(state):
            if (rest, fields & allowed) in seen:
                continue
            seen.add((rest, fields & allowed))
            both = fields & allowed
            if not both:
                continue
            target = _SYNONYM_KEYS.get("".join(rest))
            if target is not None and target in both:
                found.setdefault(target, _kind((*kinds, peeled)))
            todo.append((rest, both, (*kinds, peeled)))
    if len(found) == 1:
        ((target, kind),) = found.items()
        return target, "around a synonym", kind
    if not found and _either(words):
        return "contact", "phone or email", ""
    return None, "no synonym" if not found else "ambiguous", ""


_OR = frozenset({"or", "and", "hoac", "va", "또는", "或", "或者", "o", "ou", "oder", "atau", "или"})


def _either(words: tuple[str, ...]) -> bool:
    """A phone synonym and an email synonym side by side ("Phone/Email", "SĐT hoặc email")."""
    for i in range(1, len(words)):
        left, right = words[:i], words[i:]
        while right and right[0] in _OR:
            right = right[1:]
        kinds = {_SYNONYM_KEYS.get("".join(left)), _SYNONYM_KEYS.get("".join(right))}
        if kinds == {"phones", "emails"}:
            return True
    return False


def _kind(peeled: tuple[str, ...]) -> str:
    """The words that say which address this is ("home", "business"), else ""."""
    for word in peeled:
        if word and word in _PLACE_RANK:
            return word
        if word in _WHICH_WORDS:
            return "other"
    return ""


_GROUP = re.compile(r"^(.*?)\s+-\s+")  # Google's "Address 1 - Street": group "Address 1"


# Fields a lead has one of: a column the mapping names takes it from the synonyms' columns.
SINGLE = frozenset({"full_name", "family_name", "given_name", "middle_name", "birthday", "gender"})


def explain(headers: tuple[str, ...], mapping: tuple[tuple[str, str], ...] = ()) -> list[Decision]:
    """Each header's field (None: custom) and why, in the file's column order."""
    explicit = {header_key(k): v.strip() for k, v in mapping}
    explicit.update((k.strip(), v.strip()) for k, v in mapping)
    out: list[Decision] = []
    for h in headers:
        text = h if type(h) is str else str(h)  # a plugin's parser may give other keys
        target = explicit and (explicit.get(text.strip()) or explicit.get(header_key(text)))
        if target:
            out.append(Decision(h, ALIASES.get(target, target), "mapping"))
        else:
            field, how, _ = field_of(text)
            out.append(Decision(h, field, how))
    if any(d.field == "birth_month" for d in out):  # then "Birth Day" is a day of the month
        out = [
            Decision(d.header, "birth_day", d.how) if d.field == "birthday" and _is_day(d) else d
            for d in out
        ]
    mapped = {d.field for d in out if d.how == "mapping"}
    places = _places(out)
    for i, d in enumerate(out):
        if d.how == "mapping" or d.field is None:
            continue
        if d.field in SINGLE and d.field in mapped:
            out[i] = Decision(d.header, None, f"the mapping names another {d.field} column")
        elif d.field in PLACE_FIELDS and d.header not in places:
            out[i] = Decision(d.header, None, "another address of the file is read")
    return out


def _is_day(d: Decision) -> bool:
    words = _words(str(d.header))
    return d.how != "mapping" and len(words) == 2 and words[1] in ("day", "ngay", "tag", "dia")


def _places(decisions: list[Decision]) -> set[str]:
    """The headers of the one address a file's lead is given: the best kind (home before
    billing, shipping, work, other), of its kind the first numbered group ("Address 1 - ..."),
    and of a group with a "Formatted" column that column alone."""
    found = []  # (rank, group order, header, group, formatted)
    groups: dict[str, int] = {}
    for d in decisions:
        if d.field not in PLACE_FIELDS or d.how == "mapping":
            continue
        text = str(d.header)
        m = _GROUP.match(text)
        group = header_key(m.group(1)) if m else ""
        order = groups.setdefault(group, len(groups)) if group else 0
        rank = _PLACE_RANK.get(field_of(text)[2], _OTHER_RANK)
        formatted = bool(m) and "formatted" in _words(text[m.end() :])
        found.append((rank, order, d.header, group, formatted))
    if not found:
        return set()
    best = min(f[:2] for f in found)
    chosen = [f for f in found if f[:2] == best]
    if any(f[4] for f in chosen):
        chosen = [f for f in chosen if f[4]]
    return {f[2] for f in chosen}


@lru_cache(maxsize=256)
def columns(headers: tuple[str, ...], mapping: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """header -> field for one file's headers (cached: every row of a file has the same ones)."""
    return {d.header: d.field for d in explain(headers, mapping) if d.field}

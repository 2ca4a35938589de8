"""The desk's interface language: English text is the key, a small catalogue per language.

``use(config.tui.language)`` picks en, vi, ko or zh (empty: from LC_ALL / LC_MESSAGES / LANG,
else English); ``_("text")`` translates a label, falling back to the English text, so a
missing entry is never an error. Data (names, notes, templates) is never translated.
"""

from __future__ import annotations

import dataclasses
import os

from textual.dom import DOMNode

LANGUAGES = ("en", "vi", "ko", "zh")

# fmt: off
CATALOGUE: dict[str, dict[str, str]] = {
    "vi": {
        "Quit": "Thoát", "Help": "Trợ giúp", "Dash": "Tổng quan", "Today": "Hôm nay",
        "Tickets": "Phiếu", "Segments": "Phân khúc", "Review": "Trùng lặp", "Segs": "Nhóm",
        "Dupes": "Trùng",
        "Outbox": "Hộp thư đi", "Search": "Tìm", "Sort": "Sắp xếp", "Back": "Quay lại",
        "Reload": "Tải lại", "Open": "Mở", "Filter": "Lọc", "Assign": "Giao",
        "Resolve": "Giải quyết", "Reply": "Trả lời", "Done": "Xong", "Snooze": "Hoãn",
        "Call": "Gọi", "Note": "Ghi chú", "Ticket": "Phiếu mới", "Send": "Gửi",
        "Opt out": "Từ chối", "Merge": "Gộp", "Separate": "Khác người", "State": "Trạng thái",
        "customers": "khách hàng", "loading…": "đang tải…", "Keys": "Phím",
        "members": "thành viên", "no customers": "không có khách hàng",
        "database busy (another process is writing); retrying…":
            "cơ sở dữ liệu đang bận (tiến trình khác đang ghi); đang thử lại…",
        "/ to search: name, code, phone or email": "/ để tìm: tên, mã, điện thoại hoặc email",
    },
    "ko": {
        "Quit": "종료", "Help": "도움말", "Dash": "대시보드", "Today": "오늘",
        "Tickets": "티켓", "Segments": "세그먼트", "Review": "중복 검토", "Outbox": "발신함",
        "Segs": "세그먼트", "Dupes": "중복",
        "Search": "검색", "Sort": "정렬", "Back": "뒤로", "Reload": "새로고침", "Open": "열기",
        "Filter": "필터", "Assign": "배정", "Resolve": "해결", "Reply": "답장", "Done": "완료",
        "Snooze": "미루기", "Call": "통화", "Note": "메모", "Ticket": "티켓 열기",
        "Send": "보내기", "Opt out": "수신 거부", "Merge": "병합", "Separate": "별개",
        "State": "상태", "customers": "고객", "loading…": "불러오는 중…", "Keys": "키",
        "members": "회원", "no customers": "고객 없음",
        "database busy (another process is writing); retrying…":
            "데이터베이스 사용 중 (다른 프로세스가 쓰는 중); 다시 시도 중…",
        "/ to search: name, code, phone or email": "/ 검색: 이름, 코드, 전화 또는 이메일",
    },
    "zh": {
        "Quit": "退出", "Help": "帮助", "Dash": "概览", "Today": "今天", "Tickets": "工单",
        "Segments": "客群", "Review": "查重", "Segs": "客群", "Dupes": "查重",
        "Outbox": "发件箱", "Search": "搜索",
        "Sort": "排序", "Back": "返回", "Reload": "刷新", "Open": "打开", "Filter": "筛选",
        "Assign": "分配", "Resolve": "解决", "Reply": "回复", "Done": "完成", "Snooze": "推迟",
        "Call": "通话", "Note": "备注", "Ticket": "新工单", "Send": "发送", "Opt out": "退订",
        "Merge": "合并", "Separate": "不同人", "State": "状态", "customers": "位客户",
        "loading…": "加载中…", "Keys": "按键", "members": "成员", "no customers": "没有客户",
        "database busy (another process is writing); retrying…":
            "数据库繁忙(另一进程正在写入);正在重试…",
        "/ to search: name, code, phone or email": "/ 搜索:姓名、编号、电话或邮箱",
    },
}
# fmt: on

_current = {"language": "en"}


def from_locale(environ: dict[str, str] | None = None) -> str:
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(var, "")
        if value:
            code = value.split("_")[0].split(".")[0].lower()
            return code if code in LANGUAGES else "en"
    return "en"


def use(language: str = "") -> str:
    """Set the interface language (config value, else the locale); returns the one in use."""
    chosen = language.lower() if language.lower() in LANGUAGES else from_locale()
    _current["language"] = chosen
    return chosen


def language() -> str:
    return _current["language"]


def _(text: str) -> str:
    return CATALOGUE.get(_current["language"], {}).get(text, text)


def translate_bindings(node: DOMNode) -> None:
    """The node's key descriptions (footer, palette) in the interface language."""
    if _current["language"] == "en":
        return
    keys = node._bindings.key_to_bindings  # the lists are shared with the class: replace them
    for key, bindings in keys.items():
        keys[key] = [
            dataclasses.replace(b, description=_(b.description)) if b.description else b
            for b in bindings
        ]

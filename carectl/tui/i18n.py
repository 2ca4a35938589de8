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
        # column headers (the customer table's fixed widths: code 9, rg 2, lang 4, updated 10)
        "code": "mã", "name": "tên", "phone": "điện thoại", "email": "email", "rg": "KV",
        "lang": "ngữ", "updated": "cập nhật", "customer": "khách hàng", "subject": "chủ đề",
        "status": "trạng thái", "prio": "ưu tiên", "agent": "nhân viên", "due": "hạn",
        "pri": "ưu tiên", "step": "bước", "via": "qua", "template": "mẫu", "state": "trạng thái",
        "tries": "lần thử", "reason": "lý do", "file": "tệp", "source": "nguồn", "rows": "dòng",
        "new": "mới", "merged": "đã gộp", "review": "cần xem", "rejected": "bị loại",
        "done": "xong", "segment": "phân khúc", "change": "thay đổi", "group": "nhóm",
        "stage": "giai đoạn", "since": "từ", "score": "điểm", "why": "lý do",
        # prompts and the filter
        "outcome: answered, no_answer, callback, …": "kết quả: answered, no_answer, callback, …",
        "note": "ghi chú", "outcome": "kết quả",
        "note (optional), Enter to save": "ghi chú (tùy chọn), Enter để lưu",
        "what was done, Enter to save": "đã làm gì, Enter để lưu", "the reply": "câu trả lời",
        "wait on the customer? y/n, Enter to save": "chờ khách hàng? y/n, Enter để lưu",
        "agent, Enter to save": "nhân viên, Enter để lưu",
        "channel: email, sms or all; Enter to opt out":
            "kênh: email, sms hoặc all; Enter để từ chối",
        "Filter customers by segment, tag or vendor":
            "Lọc khách hàng theo phân khúc, nhãn hoặc nhà cung cấp",
        "all customers": "mọi khách hàng", "tag": "nhãn", "vendor": "nhà cung cấp",
        "code order": "theo mã",
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
        # column headers (the customer table's fixed widths: code 9, rg 2, lang 4, updated 10)
        "code": "코드", "name": "이름", "phone": "전화", "email": "이메일", "rg": "국",
        "lang": "언어", "updated": "수정일", "customer": "고객", "subject": "제목",
        "status": "상태", "prio": "우선", "agent": "담당자", "due": "기한", "pri": "우선",
        "step": "단계", "via": "채널", "template": "템플릿", "state": "상태", "tries": "시도",
        "reason": "사유", "file": "파일", "source": "출처", "rows": "행", "new": "신규",
        "merged": "병합", "review": "검토", "rejected": "거부", "done": "완료",
        "segment": "세그먼트", "change": "변화", "group": "그룹", "stage": "단계",
        "since": "시작", "score": "점수", "why": "이유",
        # prompts and the filter
        "outcome: answered, no_answer, callback, …": "결과: answered, no_answer, callback, …",
        "note": "메모", "outcome": "결과",
        "note (optional), Enter to save": "메모 (선택), Enter 저장",
        "what was done, Enter to save": "처리 내용, Enter 저장", "the reply": "답장",
        "wait on the customer? y/n, Enter to save": "고객 응답 대기? y/n, Enter 저장",
        "agent, Enter to save": "담당자, Enter 저장",
        "channel: email, sms or all; Enter to opt out":
            "채널: email, sms 또는 all; Enter 수신 거부",
        "Filter customers by segment, tag or vendor": "세그먼트, 태그 또는 업체로 고객 필터",
        "all customers": "모든 고객", "tag": "태그", "vendor": "업체", "code order": "코드 순",
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
        # column headers (the customer table's fixed widths: code 9, rg 2, lang 4, updated 10)
        "code": "编号", "name": "姓名", "phone": "电话", "email": "邮箱", "rg": "区",
        "lang": "语言", "updated": "更新", "customer": "客户", "subject": "主题",
        "status": "状态", "prio": "优先", "agent": "客服", "due": "到期", "pri": "优先",
        "step": "步骤", "via": "渠道", "template": "模板", "state": "状态", "tries": "次数",
        "reason": "原因", "file": "文件", "source": "来源", "rows": "行数", "new": "新增",
        "merged": "合并", "review": "待查", "rejected": "拒绝", "done": "完成",
        "segment": "客群", "change": "变化", "group": "分组", "stage": "阶段", "since": "起始",
        "score": "分数", "why": "原因",
        # prompts and the filter
        "outcome: answered, no_answer, callback, …": "结果:answered、no_answer、callback…",
        "note": "备注", "outcome": "结果", "note (optional), Enter to save": "备注(可选),回车保存",
        "what was done, Enter to save": "处理内容,回车保存", "the reply": "回复内容",
        "wait on the customer? y/n, Enter to save": "等待客户?y/n,回车保存",
        "agent, Enter to save": "客服,回车保存",
        "channel: email, sms or all; Enter to opt out": "渠道:email、sms 或 all;回车退订",
        "Filter customers by segment, tag or vendor": "按客群、标签或供应商筛选客户",
        "all customers": "全部客户", "tag": "标签", "vendor": "供应商", "code order": "按编号",
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

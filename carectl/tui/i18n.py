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

# English text -> (Vietnamese, Korean, Chinese). Every string the desk shows goes through _()
# or label(); a test walks each screen in vi/ko/zh and fails on any English key left on it.
ENTRIES: dict[str, tuple[str, str, str]] = {
    # the customer table's fixed widths: code 9, rg 2, lang 4, updated 10
    "Quit": ("Thoát", "종료", "退出"),
    "Help": ("Trợ giúp", "도움말", "帮助"),
    "Dash": ("Tổng quan", "대시보드", "概览"),
    "Today": ("Hôm nay", "오늘", "今天"),
    "Tickets": ("Phiếu", "티켓", "工单"),
    "Segments": ("Phân khúc", "세그먼트", "客群"),
    "Review": ("Trùng lặp", "중복 검토", "查重"),
    "Segs": ("Nhóm", "세그먼트", "客群"),
    "Dupes": ("Trùng", "중복", "查重"),
    "Outbox": ("Hộp thư đi", "발신함", "发件箱"),
    "Search": ("Tìm", "검색", "搜索"),
    "Sort": ("Sắp xếp", "정렬", "排序"),
    "Back": ("Quay lại", "뒤로", "返回"),
    "Reload": ("Tải lại", "새로고침", "刷新"),
    "Open": ("Mở", "열기", "打开"),
    "Filter": ("Lọc", "필터", "筛选"),
    "Assign": ("Giao", "배정", "分配"),
    "Resolve": ("Giải quyết", "해결", "解决"),
    "Reply": ("Trả lời", "답장", "回复"),
    "Done": ("Xong", "완료", "完成"),
    "Snooze": ("Hoãn", "미루기", "推迟"),
    "Call": ("Gọi", "통화", "通话"),
    "Note": ("Ghi chú", "메모", "备注"),
    "Ticket": ("Phiếu mới", "티켓 열기", "新工单"),
    "Send": ("Gửi", "보내기", "发送"),
    "Opt out": ("Từ chối", "수신 거부", "退订"),
    "Merge": ("Gộp", "병합", "合并"),
    "Separate": ("Khác người", "별개", "不同人"),
    "State": ("Trạng thái", "상태", "状态"),
    "customers": ("khách hàng", "고객", "位客户"),
    "loading…": ("đang tải…", "불러오는 중…", "加载中…"),
    "Keys": ("Phím", "키", "按键"),
    "Plugin problem": ("Lỗi plugin", "플러그인 문제", "插件问题"),
    "members": ("thành viên", "회원", "成员"),
    "no customers": ("không có khách hàng", "고객 없음", "没有客户"),
    "database busy (another process is writing); retrying…": (
        "cơ sở dữ liệu đang bận (tiến trình khác đang ghi); đang thử lại…",
        "데이터베이스 사용 중 (다른 프로세스가 쓰는 중); 다시 시도 중…",
        "数据库繁忙(另一进程正在写入);正在重试…",
    ),
    "/ to search: name, code, phone or email": (
        "/ để tìm: tên, mã, điện thoại hoặc email",
        "/ 검색: 이름, 코드, 전화 또는 이메일",
        "/ 搜索:姓名、编号、电话或邮箱",
    ),
    "code": ("mã", "코드", "编号"),
    "name": ("tên", "이름", "姓名"),
    "phone": ("điện thoại", "전화", "电话"),
    "email": ("email", "이메일", "邮箱"),
    "rg": ("KV", "국", "区"),
    "lang": ("ngữ", "언어", "语言"),
    "updated": ("cập nhật", "수정일", "更新"),
    "customer": ("khách hàng", "고객", "客户"),
    "subject": ("chủ đề", "제목", "主题"),
    "status": ("trạng thái", "상태", "状态"),
    "prio": ("ưu tiên", "우선", "优先"),
    "agent": ("nhân viên", "담당자", "客服"),
    "due": ("hạn", "기한", "到期"),
    "pri": ("ưu tiên", "우선", "优先"),
    "step": ("bước", "단계", "步骤"),
    "via": ("qua", "채널", "渠道"),
    "template": ("mẫu", "템플릿", "模板"),
    "state": ("trạng thái", "상태", "状态"),
    "tries": ("lần thử", "시도", "次数"),
    "reason": ("lý do", "사유", "原因"),
    "file": ("tệp", "파일", "文件"),
    "source": ("nguồn", "출처", "来源"),
    "rows": ("dòng", "행", "行数"),
    "new": ("mới", "신규", "新增"),
    "merged": ("đã gộp", "병합", "合并"),
    "review": ("cần xem", "검토", "待查"),
    "rejected": ("bị loại", "거부", "拒绝"),
    "done": ("xong", "완료", "完成"),
    "segment": ("phân khúc", "세그먼트", "客群"),
    "change": ("thay đổi", "변화", "变化"),
    "group": ("nhóm", "그룹", "分组"),
    "stage": ("giai đoạn", "단계", "阶段"),
    "since": ("từ", "시작", "起始"),
    "score": ("điểm", "점수", "分数"),
    "why": ("lý do", "이유", "原因"),
    "outcome: answered, no_answer, callback, …": (
        "kết quả: answered, no_answer, callback, …",
        "결과: answered, no_answer, callback, …",
        "结果:answered、no_answer、callback…",
    ),
    "note": ("ghi chú", "메모", "备注"),
    "outcome": ("kết quả", "결과", "结果"),
    "note (optional), Enter to save": (
        "ghi chú (tùy chọn), Enter để lưu",
        "메모 (선택), Enter 저장",
        "备注(可选),回车保存",
    ),
    "what was done, Enter to save": (
        "đã làm gì, Enter để lưu",
        "처리 내용, Enter 저장",
        "处理内容,回车保存",
    ),
    "the reply": ("câu trả lời", "답장", "回复内容"),
    "wait on the customer? y/n, Enter to save": (
        "chờ khách hàng? y/n, Enter để lưu",
        "고객 응답 대기? y/n, Enter 저장",
        "等待客户?y/n,回车保存",
    ),
    "agent, Enter to save": ("nhân viên, Enter để lưu", "담당자, Enter 저장", "客服,回车保存"),
    "channel: email, sms or all; Enter to opt out": (
        "kênh: email, sms hoặc all; Enter để từ chối",
        "채널: email, sms 또는 all; Enter 수신 거부",
        "渠道:email、sms 或 all;回车退订",
    ),
    "Filter customers by segment, tag or vendor": (
        "Lọc khách hàng theo phân khúc, nhãn hoặc nhà cung cấp",
        "세그먼트, 태그 또는 업체로 고객 필터",
        "按客群、标签或供应商筛选客户",
    ),
    "all customers": ("mọi khách hàng", "모든 고객", "全部客户"),
    "tag": ("nhãn", "태그", "标签"),
    "vendor": ("nhà cung cấp", "업체", "供应商"),
    "code order": ("theo mã", "코드 순", "按编号"),
    # keys, footers and the palette
    "palette": ("lệnh", "명령", "命令"),
    "Down": ("Xuống", "아래", "下移"),
    "Up": ("Lên", "위", "上移"),
    "Close": ("Đóng", "닫기", "关闭"),
    "Cancel": ("Hủy", "취소", "取消"),
    "Apply": ("Áp dụng", "적용", "应用"),
    "Clear": ("Bỏ chọn", "해제", "清除"),
    "Members": ("Thành viên", "회원", "成员"),
    "Files": ("Tệp", "파일", "文件"),
    "Page down": ("Trang sau", "다음 페이지", "下一页"),
    "Page up": ("Trang trước", "이전 페이지", "上一页"),
    "First": ("Đầu", "처음", "首行"),
    "Last": ("Cuối", "마지막", "末行"),
    "Clear search": ("Xóa tìm", "검색 지우기", "清除搜索"),
    "No filter": ("Bỏ lọc", "필터 해제", "取消筛选"),
    "Palette": ("Lệnh", "명령", "命令"),
    "Dashboard": ("Tổng quan", "대시보드", "概览"),
    "Customers": ("Khách hàng", "고객", "客户"),
    "Search customers": ("Tìm khách hàng", "고객 검색", "搜索客户"),
    "Filter customers": ("Lọc khách hàng", "고객 필터", "筛选客户"),
    "Reload customers": ("Tải lại khách hàng", "고객 새로고침", "刷新客户"),
    "Sort customers by {sort}": (
        "Sắp xếp khách hàng theo {sort}",
        "{sort} 순으로 고객 정렬",
        "按{sort}排序客户",
    ),
    "KPIs, backlog, tasks, outbox, ingest": (
        "KPI, tồn đọng, việc, hộp thư đi, nhập liệu",
        "KPI, 적체, 업무, 발신함, 수집",
        "KPI、积压、任务、发件箱、导入",
    ),
    "My care tasks due today": (
        "Việc chăm sóc đến hạn hôm nay",
        "오늘 마감인 내 관리 업무",
        "我今天到期的关怀任务",
    ),
    "The ticket queue with SLA countdowns": (
        "Hàng đợi phiếu với đếm ngược SLA",
        "SLA 카운트다운이 있는 티켓 대기열",
        "带 SLA 倒计时的工单队列",
    ),
    "Segment counts, 8-week trend, members": (
        "Số lượng phân khúc, xu hướng 8 tuần, thành viên",
        "세그먼트 수, 8주 추세, 회원",
        "客群人数、8 周趋势、成员",
    ),
    "Possible duplicates side by side: merge or keep separate": (
        "Có thể trùng, đặt cạnh nhau: gộp hoặc giữ riêng",
        "중복 의심 나란히: 병합 또는 별개 유지",
        "疑似重复并排对比:合并或保持分开",
    ),
    "Message queue by state, lead files, quarantine": (
        "Hàng đợi tin theo trạng thái, tệp khách tiềm năng, cách ly",
        "상태별 메시지 대기열, 리드 파일, 격리",
        "按状态的消息队列、线索文件、隔离区",
    ),
    "The customer list": ("Danh sách khách hàng", "고객 목록", "客户列表"),
    "By name, code, phone or email": (
        "Theo tên, mã, điện thoại hoặc email",
        "이름, 코드, 전화 또는 이메일로",
        "按姓名、编号、电话或邮箱",
    ),
    "By segment, tag or vendor": (
        "Theo phân khúc, nhãn hoặc nhà cung cấp",
        "세그먼트, 태그 또는 업체로",
        "按客群、标签或供应商",
    ),
    "Order the list by {sort}": (
        "Sắp danh sách theo {sort}",
        "{sort} 순으로 목록 정렬",
        "按{sort}排列列表",
    ),
    "Count again and reload": ("Đếm lại và tải lại", "다시 세고 새로고침", "重新计数并刷新"),
    "Every key of carectl": ("Mọi phím của carectl", "carectl의 모든 키", "carectl 的全部按键"),
    "{action} ({key}) on this screen": (
        "{action} ({key}) trên màn hình này",
        "이 화면에서 {action} ({key})",
        "本屏:{action}({key})",
    ),
    "Quit the application": ("Thoát ứng dụng", "앱 종료", "退出程序"),
    "Change the theme": ("Đổi giao diện", "테마 변경", "更换主题"),
    "Theme": ("Giao diện", "테마", "主题"),
    "Screenshot": ("Chụp màn hình", "스크린샷", "截图"),
    "Save an SVG 'screenshot' of the current screen": (
        "Lưu ảnh SVG của màn hình hiện tại",
        "현재 화면을 SVG로 저장",
        "将当前屏幕保存为 SVG",
    ),
    "Maximize": ("Phóng to", "최대화", "最大化"),
    "Maximize the focused widget": (
        "Phóng to phần đang chọn",
        "선택한 위젯 최대화",
        "最大化当前部件",
    ),
    "Minimize": ("Thu nhỏ", "최소화", "还原"),
    "Minimize the widget and restore to normal size": (
        "Thu nhỏ và trả về cỡ thường",
        "위젯을 원래 크기로",
        "将部件还原为正常大小",
    ),
    "Show help for the focused widget and a summary of available keys": (
        "Trợ giúp phần đang chọn và các phím",
        "선택한 위젯 도움말과 키 요약",
        "当前部件帮助与按键摘要",
    ),
    "Search for commands…": ("Tìm lệnh…", "명령 검색…", "搜索命令…"),
    # titles, status lines, messages
    "tasks due: {n}": ("việc đến hạn: {n}", "마감 업무: {n}", "到期任务:{n}"),
    "{n} tasks due": ("{n} việc đến hạn", "마감 업무 {n}건", "{n} 项任务到期"),
    "task {id} done ({outcome})": (
        "việc {id} xong ({outcome})",
        "업무 {id} 완료 ({outcome})",
        "任务 {id} 已完成({outcome})",
    ),
    "task {id} snoozed": ("việc {id} đã hoãn", "업무 {id} 미룸", "任务 {id} 已推迟"),
    "newest first": ("mới nhất trước", "최신순", "最新在前"),
    "filter": ("lọc", "필터", "筛选"),
    "paused": ("tạm dừng", "일시정지", "已暂停"),
    "resp": ("phản hồi", "응답", "响应"),
    "res": ("xử lý", "해결", "解决"),
    "{n} pending pairs, strongest first": (
        "{n} cặp chờ, mạnh nhất trước",
        "대기 {n}쌍, 강한 순",
        "{n} 对待定,最强在前",
    ),
    "no pair waits for a decision": (
        "không cặp nào chờ quyết định",
        "결정을 기다리는 쌍 없음",
        "没有待决定的配对",
    ),
    "pair {pair} merged (merge {merge}; `carectl merges undo {merge}` reverses it)": (
        "cặp {pair} đã gộp (lần gộp {merge}; `carectl merges undo {merge}` để hoàn tác)",
        "쌍 {pair} 병합됨 (병합 {merge}; `carectl merges undo {merge}`로 되돌림)",
        "配对 {pair} 已合并(合并 {merge};`carectl merges undo {merge}` 可撤销)",
    ),
    "pair {pair}: {a} and {b} kept separate": (
        "cặp {pair}: {a} và {b} là hai người",
        "쌍 {pair}: {a}와 {b} 별개 유지",
        "配对 {pair}:{a} 与 {b} 保持分开",
    ),
    "field": ("trường", "항목", "字段"),
    "Ingest": ("Nhập liệu", "수집", "导入"),
    "daemon running": ("tiến trình nền đang chạy", "데몬 실행 중", "守护进程运行中"),
    "daemon stopped": ("tiến trình nền đã dừng", "데몬 중지됨", "守护进程已停止"),
    "last": ("lần cuối", "마지막", "最近"),
    "waiting": ("đang chờ", "대기", "等待"),
    "quarantine": ("cách ly", "격리", "隔离"),
    "n/a": ("không có", "해당 없음", "无"),
    "never": ("chưa", "없음", "从未"),
    "running": ("đang chạy", "실행 중", "运行中"),
    "stopped": ("đã dừng", "중지됨", "已停止"),
    "last ingest": ("lần nhập cuối", "최근 수집", "最近导入"),
    "files done": ("tệp xong", "완료 파일", "已处理文件"),
    "daemon": ("tiến trình nền", "데몬", "守护进程"),
    "tasks due today": ("việc hôm nay", "오늘 마감", "今日到期任务"),
    "prev": ("trước", "이전", "上期"),
    "/wk": ("/tuần", "/주", "/周"),
    "this month": ("tháng này", "이번 달", "本月"),
    "vs": ("so với", "대비", "对比"),
    "opened": ("đã mở", "접수", "新建"),
    "answers": ("phản hồi", "응답", "回答"),
    "ART first response": ("ART phản hồi đầu", "ART 첫 응답", "ART 首次响应"),
    "FCR first contact": ("FCR một lần", "FCR 1차 해결", "FCR 首次解决"),
    "RR resolved": ("RR đã xử lý", "RR 해결률", "RR 解决率"),
    "CSAT satisfied": ("CSAT hài lòng", "CSAT 만족", "CSAT 满意"),
    "CCR churn": ("CCR rời bỏ", "CCR 이탈", "CCR 流失"),
    "TB open backlog": ("TB tồn đọng", "TB 미결", "TB 积压"),
    "< 1 day": ("< 1 ngày", "< 1일", "< 1 天"),
    "1–3 days": ("1–3 ngày", "1–3일", "1–3 天"),
    "3–7 days": ("3–7 ngày", "3–7일", "3–7 天"),
    "≥ 7 days": ("≥ 7 ngày", "≥ 7일", "≥ 7 天"),
    "backlog by age": ("tồn đọng theo tuổi", "경과별 적체", "按时长积压"),
    "today": ("hôm nay", "오늘", "今天"),
    "ingest": ("nhập liệu", "수집", "导入"),
    "outbox": ("hộp thư đi", "발신함", "发件箱"),
    "kind": ("loại", "종류", "类型"),
    "value": ("giá trị", "값", "值"),
    "when": ("lúc", "시각", "时间"),
    "what": ("việc", "내용", "事项"),
    "no segment": ("không phân khúc", "세그먼트 없음", "无客群"),
    "consent": ("đồng ý", "수신 동의", "同意"),
    "segments": ("phân khúc", "세그먼트", "客群"),
    "in": ("có", "동의", "同意"),
    "OUT": ("TỪ CHỐI", "거부", "退订"),
    "points": ("điểm", "포인트", "积分"),
    "orders": ("đơn hàng", "주문", "订单"),
    "none": ("không có", "없음", "无"),
    "{n} paid": ("{n} đã trả", "결제 {n}건", "已付 {n}"),
    "details": ("chi tiết", "상세", "详情"),
    "contacts": ("liên hệ", "연락처", "联系方式"),
    "timeline": ("dòng thời gian", "타임라인", "时间线"),
    "channel": ("kênh", "채널", "渠道"),
    "category": ("loại", "분류", "类别"),
    "priority": ("ưu tiên", "우선순위", "优先级"),
    "{code}: call logged ({outcome})": (
        "{code}: đã ghi cuộc gọi ({outcome})",
        "{code}: 통화 기록됨 ({outcome})",
        "{code}:已记录通话({outcome})",
    ),
    "{code}: note added": ("{code}: đã thêm ghi chú", "{code}: 메모 추가됨", "{code}:已添加备注"),
    "{ticket} opened for {code}": (
        "đã mở {ticket} cho {code}",
        "{code}에 {ticket} 접수",
        "已为 {code} 新建 {ticket}",
    ),
    "already queued as message {id} ({state})": (
        "đã xếp hàng: tin {id} ({state})",
        "이미 대기 중: 메시지 {id} ({state})",
        "已在队列:消息 {id}({state})",
    ),
    "message {id} queued: {template} by {channel}": (
        "tin {id} đã xếp hàng: {template} qua {channel}",
        "메시지 {id} 대기: {template}, {channel}",
        "消息 {id} 已排队:{template},经 {channel}",
    ),
    "{code} opted out of {channels}": (
        "{code} đã từ chối {channels}",
        "{code} 수신 거부: {channels}",
        "{code} 已退订 {channels}",
    ),
    "channel: email or sms": ("kênh: email hoặc sms", "채널: email 또는 sms", "渠道:email 或 sms"),
    "date": ("ngày", "날짜", "日期"),
    "amount": ("số tiền", "금액", "金额"),
    "items": ("mặt hàng", "품목", "商品"),
    "primary": ("chính", "기본", "主要"),
    "verified": ("đã xác minh", "인증됨", "已验证"),
    "region": ("khu vực", "지역", "地区"),
    "language": ("ngôn ngữ", "언어", "语言"),
    "timezone": ("múi giờ", "시간대", "时区"),
    "birthday": ("sinh nhật", "생일", "生日"),
    "created": ("tạo lúc", "생성", "创建"),
    "full name": ("họ tên", "성명", "全名"),
    "created at": ("tạo lúc", "생성", "创建时间"),
    "sorted by {sort}": ("xếp theo {sort}", "{sort} 순", "按{sort}排序"),
    "{n} matches for “{query}”": (
        "{n} kết quả cho “{query}”",
        "“{query}” 결과 {n}건",
        "“{query}” 的结果 {n} 个",
    ),
    "no customer matches “{query}”": (
        "không khách hàng nào khớp “{query}”",
        "“{query}”와 일치하는 고객 없음",
        "没有客户匹配“{query}”",
    ),
    "clear search": ("xóa tìm", "검색 지우기", "清除搜索"),
    "Enter: tick · x: clear all · Esc: apply": (
        "Enter: chọn · x: bỏ hết · Esc: áp dụng",
        "Enter: 선택 · x: 모두 해제 · Esc: 적용",
        "回车:勾选 · x:全部清除 · Esc:应用",
    ),
    "no segment, tag or vendor yet": (
        "chưa có phân khúc, nhãn hay nhà cung cấp",
        "세그먼트, 태그, 업체 없음",
        "尚无客群、标签或供应商",
    ),
    "8 weeks": ("8 tuần", "8주", "8 周"),
    "rfm": ("RFM", "RFM", "RFM"),
    "id": ("số", "번호", "编号"),
    # stored names shown (statuses, states, channels, priorities, stages, timeline kinds)
    "active": ("đang mở", "진행 중", "进行中"),
    "all": ("tất cả", "전체", "全部"),
    "open": ("mở", "열림", "未结"),
    "pending customer": ("chờ khách", "고객 대기", "待客户"),
    "pending": ("chờ khách", "고객 대기", "待客户"),
    "resolved": ("đã xử lý", "해결됨", "已解决"),
    "closed": ("đã đóng", "종료", "已关闭"),
    "reopened": ("mở lại", "재개", "重开"),
    "queued": ("đang chờ", "대기", "排队"),
    "sending": ("đang gửi", "발송 중", "发送中"),
    "sent": ("đã gửi", "발송됨", "已发送"),
    "deferred": ("hoãn", "보류", "延后"),
    "failed": ("lỗi", "실패", "失败"),
    "suppressed": ("chặn", "차단", "已拦截"),
    "processing": ("đang xử lý", "처리 중", "处理中"),
    "urgent": ("gấp", "긴급", "紧急"),
    "high": ("cao", "높음", "高"),
    "normal": ("thường", "보통", "普通"),
    "low": ("thấp", "낮음", "低"),
    "sms": ("SMS", "문자", "短信"),
    "chat": ("chat", "채팅", "聊天"),
    "visit": ("ghé thăm", "방문", "到访"),
    "workshop": ("hội thảo", "워크숍", "工作坊"),
    "social": ("mạng xã hội", "소셜", "社交"),
    "paid": ("đã trả", "결제", "已付"),
    "refunded": ("hoàn tiền", "환불", "已退款"),
    "cancelled": ("đã hủy", "취소", "已取消"),
    "lead": ("tiềm năng", "리드", "线索"),
    "prospect": ("quan tâm", "잠재", "潜在"),
    "lapsed": ("ngừng mua", "휴면", "流失中"),
    "churned": ("rời bỏ", "이탈", "已流失"),
    "order": ("đơn hàng", "주문", "订单"),
    "ticket": ("phiếu", "티켓", "工单"),
    "feedback": ("phản hồi", "피드백", "反馈"),
    "loyalty": ("tích điểm", "적립", "积分"),
    "lifecycle": ("vòng đời", "생애주기", "生命周期"),
    "opt in": ("đồng ý", "동의", "同意"),
    "opt out": ("từ chối", "거부", "退订"),
    # help
    "move the cursor": ("di chuyển con trỏ", "커서 이동", "移动光标"),
    "a page down / up; first / last": (
        "trang sau / trước; đầu / cuối",
        "다음 / 이전 페이지; 처음 / 끝",
        "下 / 上一页;首 / 末",
    ),
    "open the customer": ("mở khách hàng", "고객 열기", "打开客户"),
    "search: name, code, phone, email": (
        "tìm: tên, mã, điện thoại, email",
        "검색: 이름, 코드, 전화, 이메일",
        "搜索:姓名、编号、电话、邮箱",
    ),
    "clear the search": ("xóa tìm kiếm", "검색 지우기", "清除搜索"),
    "sort: code, name, updated, recent": (
        "xếp: mã, tên, cập nhật, mới nhất",
        "정렬: 코드, 이름, 수정일, 최근",
        "排序:编号、姓名、更新、最近",
    ),
    "recent": ("mới nhất", "최근", "最近"),
    "filter: tick segment, tag, vendor": (
        "lọc: chọn phân khúc, nhãn, nhà cung cấp",
        "필터: 세그먼트, 태그, 업체 선택",
        "筛选:勾选客群、标签、供应商",
    ),
    "drop every filter": ("bỏ mọi bộ lọc", "모든 필터 해제", "取消全部筛选"),
    "A customer": ("Một khách hàng", "고객 한 명", "单个客户"),
    "log a call / add a note": (
        "ghi cuộc gọi / thêm ghi chú",
        "통화 기록 / 메모 추가",
        "记录通话 / 添加备注",
    ),
    "open a ticket": ("mở phiếu", "티켓 열기", "新建工单"),
    "send a templated message (queued)": (
        "gửi tin theo mẫu (xếp hàng)",
        "템플릿 메시지 보내기 (대기열)",
        "发送模板消息(排队)",
    ),
    "opt out of email, sms or all": (
        "từ chối email, sms hoặc tất cả",
        "email, sms 또는 전체 수신 거부",
        "退订 email、sms 或全部",
    ),
    "done: outcome, note": ("xong: kết quả, ghi chú", "완료: 결과, 메모", "完成:结果、备注"),
    "snooze a day": ("hoãn một ngày", "하루 미루기", "推迟一天"),
    "filter: active → each status → all": (
        "lọc: đang mở → từng trạng thái → tất cả",
        "필터: 진행 중 → 상태별 → 전체",
        "筛选:进行中 → 各状态 → 全部",
    ),
    "assign / reply / resolve": (
        "giao / trả lời / giải quyết",
        "배정 / 답장 / 해결",
        "分配 / 回复 / 解决",
    ),
    "merge the pair / keep them separate": (
        "gộp cặp / giữ hai người",
        "병합 / 별개 유지",
        "合并 / 保持分开",
    ),
    "Segments, Outbox": ("Phân khúc, Hộp thư đi", "세그먼트, 발신함", "客群、发件箱"),
    "members / lead files": (
        "thành viên / tệp khách tiềm năng",
        "회원 / 리드 파일",
        "成员 / 线索文件",
    ),
    "outbox: filter by state": (
        "hộp thư đi: lọc theo trạng thái",
        "발신함: 상태별 필터",
        "发件箱:按状态筛选",
    ),
    "Every screen": ("Mọi màn hình", "모든 화면", "所有屏幕"),
    "dashboard / today's tasks / tickets": (
        "tổng quan / việc hôm nay / phiếu",
        "대시보드 / 오늘 업무 / 티켓",
        "概览 / 今日任务 / 工单",
    ),
    "segments / dedupe review / outbox, ingest": (
        "phân khúc / trùng lặp / hộp thư đi, nhập liệu",
        "세그먼트 / 중복 검토 / 발신함, 수집",
        "客群 / 查重 / 发件箱、导入",
    ),
    "reload (screens also follow the daemon live)": (
        "tải lại (màn hình cũng tự cập nhật)",
        "새로고침 (화면은 실시간으로도 갱신)",
        "刷新(屏幕也会实时更新)",
    ),
    "back to the list (q there: quit)": (
        "về danh sách (q ở đó: thoát)",
        "목록으로 (목록에서 q: 종료)",
        "返回列表(在列表按 q 退出)",
    ),
    "next / previous part of the screen": (
        "phần kế / trước của màn hình",
        "화면의 다음 / 이전 부분",
        "屏幕的下一 / 上一部分",
    ),
    "this help": ("trợ giúp này", "이 도움말", "本帮助"),
    "command palette: every screen and action": (
        "bảng lệnh: mọi màn hình và thao tác",
        "명령 팔레트: 모든 화면과 동작",
        "命令面板:所有屏幕和操作",
    ),
}
CATALOGUE: dict[str, dict[str, str]] = {
    lang: {en: texts[i] for en, texts in ENTRIES.items()} for i, lang in enumerate(LANGUAGES[1:])
}

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


def label(value: str) -> str:
    """A stored name (a status, a state) as the interface shows it: "pending_customer" is
    "pending customer" in English, looked up in the catalogue in the others."""
    return _(value.replace("_", " "))

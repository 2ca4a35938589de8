"""Configuration: one TOML file, validated against the dataclasses below.

Every key a user may write is a dataclass field here, so an unknown key or a wrong type is reported
by its dotted name (``drop_folders[1].region``) instead of surfacing later as a crash. Paths are
resolved relative to the config file so a config folder can be moved as a unit. Later features add
their section as a new dataclass field; nothing else has to change.
"""

from __future__ import annotations

import codecs
import dataclasses
import difflib
import os
import re
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Any

import platformdirs

ENV_VAR = "CARECTL_CONFIG"
APP_NAME = "carectl"


class ConfigError(Exception):
    """A config problem, phrased for the person editing the file."""


@dataclass
class DropFolder:
    path: Path
    source: str
    region: str = "VN"
    language: str = "vi"
    mapping: dict[str, str] = field(default_factory=dict)
    processed: Path | None = None
    quarantine: Path | None = None
    settle_seconds: float = 2.0
    encoding: str = ""  # empty: detected per file

    def __post_init__(self) -> None:
        self.processed = self.processed or self.path / "processed"
        self.quarantine = self.quarantine or self.path / "quarantine"
        if self.settle_seconds < 0:
            raise ConfigError("drop_folders.settle_seconds must be 0 or more")
        if self.encoding:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise ConfigError(f"drop_folders.encoding: unknown {self.encoding!r}") from None


@dataclass
class DaemonConfig:
    """`carectl daemon`: how often it re-scans the drop folders besides watching them."""

    rescan_seconds: float = 30.0

    def __post_init__(self) -> None:
        if self.rescan_seconds <= 0:
            raise ConfigError("daemon.rescan_seconds must be more than 0")


BAD_FIELD = ("reject", "keep")


@dataclass
class IngestConfig:
    """The lead pipeline: worker processes, and how long a plugin may take or keep failing."""

    workers: int = -1  # processes normalising a large file; -1: one per core, 0: none
    plugin_timeout_seconds: float = 10.0
    plugin_max_failures: int = 20
    bad_field: str = "reject"  # a row with an invalid phone, email or date: rejected or kept

    def __post_init__(self) -> None:
        if self.bad_field not in BAD_FIELD:
            raise ConfigError(f"ingest.bad_field must be one of {', '.join(BAD_FIELD)}")
        if self.workers < -1:
            raise ConfigError("ingest.workers must be -1 (one per core), 0 or more")
        if self.plugin_max_failures < 1:
            raise ConfigError("ingest.plugin_max_failures must be 1 or more")


@dataclass
class PluginsConfig:
    folder: Path | None = None
    disabled: list[str] = field(default_factory=list)
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class TuiConfig:
    page_size: int = 200
    language: str = ""


PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass
class ServiceConfig:
    """The service desk: ticket categories, business hours and the churn window."""

    categories: list[str] = field(
        default_factory=lambda: ["question", "complaint", "warranty_return", "technical", "billing"]
    )
    timezone: str = ""  # empty: default_timezone
    holidays_region: str = ""  # empty: default_region
    workdays: list[int] = field(default_factory=lambda: [1, 2, 3, 4, 5])
    day_start: str = "08:00"
    day_end: str = "17:00"
    churn_lapse_days: int = 180
    churn_reasons: list[str] = field(
        default_factory=lambda: [
            "price",
            "quality",
            "service",
            "competitor",
            "moved",
            "no_longer_needed",
            "other",
        ]
    )

    def __post_init__(self) -> None:
        for key in ("day_start", "day_end"):
            value = getattr(self, key)
            parts = value.split(":")
            ok = len(parts) == 2 and all(p.isdigit() for p in parts)
            if not ok or not (0 <= int(parts[0]) <= 23 and 0 <= int(parts[1]) <= 59):
                raise ConfigError(f"service.{key} must be HH:MM, got {value!r}")
        if self.day_start >= self.day_end:
            raise ConfigError("service.day_start must be before service.day_end")
        if not self.workdays or any(not 1 <= d <= 7 for d in self.workdays):
            raise ConfigError("service.workdays must list ISO weekdays 1 (Monday) .. 7 (Sunday)")
        if self.churn_lapse_days < 1:
            raise ConfigError("service.churn_lapse_days must be at least 1")


@dataclass
class SlaPolicy:
    """Targets in business minutes; the first [[sla]] whose priority and category match wins."""

    priority: str = ""  # empty: any priority
    category: str = ""  # empty: any category
    first_response_minutes: int = 240
    resolution_minutes: int = 1440

    def __post_init__(self) -> None:
        if self.priority and self.priority not in PRIORITIES:
            raise ConfigError(f"sla.priority must be one of {', '.join(PRIORITIES)} or empty")
        if self.first_response_minutes < 1 or self.resolution_minutes < 1:
            raise ConfigError("sla targets must be at least 1 minute")


def _default_sla() -> list[SlaPolicy]:
    return [
        SlaPolicy("urgent", "", 30, 240),
        SlaPolicy("high", "", 60, 480),
        SlaPolicy("", "complaint", 60, 960),
        SlaPolicy("", "", 240, 1440),
    ]


@dataclass
class LoyaltyTier:
    name: str
    min_points: int = 0


@dataclass
class LoyaltyConfig:
    """Earn rules, expiry and tiers of the points ledger (carectl.service.loyalty)."""

    points_per_unit: int = 1
    amount_unit: int = 10_000  # in the currency's minor unit (VND: dong)
    currency: str = ""  # empty: default_currency; orders in other currencies earn nothing
    earn_on_orders: bool = True
    actions: dict[str, int] = field(
        default_factory=lambda: {"review": 50, "referral": 200, "survey": 20}
    )
    expiry_days: int = 365  # 0: points never expire
    tiers: list[LoyaltyTier] = field(
        default_factory=lambda: [
            LoyaltyTier("member", 0),
            LoyaltyTier("silver", 1_000),
            LoyaltyTier("gold", 5_000),
            LoyaltyTier("platinum", 20_000),
        ]
    )

    def __post_init__(self) -> None:
        if self.points_per_unit < 0 or self.amount_unit < 1 or self.expiry_days < 0:
            raise ConfigError(
                "loyalty: points_per_unit >= 0, amount_unit >= 1 and expiry_days >= 0"
            )
        if any(v < 0 for v in self.actions.values()):
            raise ConfigError("loyalty.actions: points must not be negative")


@dataclass
class MetricsConfig:
    """Windows (in days) of the customer metrics behind segments (carectl.segments.metrics)."""

    frequency_days: int = 365  # frequency and monetary count paid orders this recent
    enquiry_days: int = 90  # inbound interactions counted as enquiries
    complaint_days: int = 180  # complaint tickets opened this recent (open ones always count)
    satisfaction_days: int = 365  # CSAT answers averaged
    lapsed_days: int = 180  # no paid order for this long: lapsed
    churned_days: int = 365  # no paid order for this long: churned

    def __post_init__(self) -> None:
        if any(v < 1 for v in dataclasses.astuple(self)):
            raise ConfigError("metrics: every window must be at least 1 day")
        if self.churned_days <= self.lapsed_days:
            raise ConfigError("metrics.churned_days must be greater than metrics.lapsed_days")


@dataclass
class SegmentDef:
    """A segment: customers matching ``rule`` (docs/segments.md). Within a non-empty ``group``
    a customer belongs only to the matching segment of highest ``priority``."""

    name: str
    rule: str
    priority: int = 0
    group: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        from carectl.segments.rules import RuleError, compile_rule

        if not self.name.strip():
            raise ConfigError("segments: a segment needs a name")
        try:
            compile_rule(self.name, self.rule)
        except RuleError as exc:
            raise ConfigError(f"segments: {exc}") from None


def _default_segments() -> list[SegmentDef]:
    """The seed classes of the care process; config/carectl.toml spells out the same list."""
    behaviour = "behaviour"
    return [
        SegmentDef(
            "negative",
            "complaints >= 1 or avg_satisfaction <= 2",
            100,
            behaviour,
            "complaints or low satisfaction: handle with care first",
        ),
        SegmentDef(
            "stopped_buying",
            "lifecycle in ('lapsed', 'churned')",
            90,
            behaviour,
            "bought before, no paid order for metrics.lapsed_days",
        ),
        SegmentDef(
            "high_demand",
            "lifecycle = 'customer' and m_score = 5 and frequency >= 4",
            80,
            behaviour,
            "buys much and often: top monetary quintile, four or more orders in the window",
        ),
        SegmentDef(
            "loyal",
            "lifecycle = 'customer' and frequency >= 3",
            70,
            behaviour,
            "keeps buying: three or more paid orders in the frequency window",
        ),
        SegmentDef(
            "undecided",
            "orders_total = 0 and enquiries >= 2",
            60,
            behaviour,
            "asked repeatedly, never bought",
        ),
        SegmentDef("value_high", "rfm_score >= 12", 30, "value", "RFM 12-15"),
        SegmentDef("value_medium", "rfm_score >= 7", 20, "value", "RFM 7-11"),
        SegmentDef("value_low", "rfm_score >= 3", 10, "value", "RFM 3-6"),
    ]


@dataclass
class DedupeConfig:
    """Identity resolution (carectl.dedupe): score thresholds in log2-odds points (see
    carectl/dedupe/score.py for the weights) and the rules that make two values the same."""

    merge_threshold: float = 12.0  # at or above: merge automatically
    review_threshold: float = 6.0  # at or above (and below merge): the review queue
    email_provider_rules: list[str] = field(default_factory=list)  # e.g. ["gmail"]
    locked_fields: list[str] = field(default_factory=list)  # never overwritten by a merge
    max_candidates: int = 40  # customers compared per lead at most

    def __post_init__(self) -> None:
        if self.review_threshold > self.merge_threshold:
            raise ConfigError("dedupe.review_threshold must not be above dedupe.merge_threshold")
        unknown = set(self.email_provider_rules) - {"gmail"}
        if unknown:
            raise ConfigError(
                f"dedupe.email_provider_rules: unknown {sorted(unknown)}; known: gmail"
            )
        if self.max_candidates < 1:
            raise ConfigError("dedupe.max_candidates must be at least 1")


TLS_MODES = ("none", "starttls", "implicit")


def _check_hhmm(section: str, key: str, value: str) -> None:
    parts = value.split(":")
    ok = len(parts) == 2 and all(p.isdigit() for p in parts)
    if not ok or not (0 <= int(parts[0]) <= 23 and 0 <= int(parts[1]) <= 59):
        raise ConfigError(f"{section}.{key} must be HH:MM, got {value!r}")


@dataclass
class MarketingRule:
    """Rules for marketing messages to customers of one region (ISO country code)."""

    allowed_start: str = "08:00"  # local time from which marketing may be sent
    allowed_end: str = "21:00"  # ... and until which
    night_opt_in: bool = False  # outside those hours only with a separate "marketing_night" opt-in
    max_per_day: int = 0  # marketing messages per customer and channel in 24 hours; 0: no cap
    label: str = ""  # put first in the subject / SMS text unless already there
    reconfirm_days: int = 0  # an opt-in older than this must be confirmed again; 0: never

    def __post_init__(self) -> None:
        for key in ("allowed_start", "allowed_end"):
            _check_hhmm("outbox.marketing", key, getattr(self, key))


def _default_marketing() -> dict[str, MarketingRule]:
    """Vietnam (Decree 91/2020) and Korea (Network Act art. 50) as shipped defaults."""
    return {
        "VN": MarketingRule("07:00", "22:00", False, 3, "[QC]", 0),
        "KR": MarketingRule("08:00", "21:00", True, 0, "(광고)", 730),
    }


@dataclass
class OutboxConfig:
    """The outbox sender: templates, retries, leases and the contact policy checked at send time."""

    templates: Path | None = None  # unset: the "templates" folder beside the config file
    company: str = ""
    batch_size: int = 200
    lease_seconds: int = 300
    retry_base_seconds: float = 60.0
    retry_max_seconds: float = 3600.0
    give_up_hours: float = 48.0
    quiet_start: str = "21:00"
    quiet_end: str = "08:00"
    max_per_day: int = 3  # per customer and channel over 24 hours; 0: no cap
    poll_seconds: float = 5.0
    in_daemon: bool = True  # `carectl daemon` also runs the sender
    marketing: dict[str, MarketingRule] = field(default_factory=_default_marketing)

    def __post_init__(self) -> None:
        for key in ("quiet_start", "quiet_end"):
            _check_hhmm("outbox", key, getattr(self, key))
        if self.batch_size < 1 or self.lease_seconds < 1 or self.max_per_day < 0:
            raise ConfigError("outbox: batch_size and lease_seconds >= 1, max_per_day >= 0")


@dataclass
class EmailConfig:
    """SMTP delivery (carectl.builtin.send_email); the password never sits in this file."""

    host: str = "localhost"
    port: int = 587
    from_address: str = ""
    tls: str = "starttls"
    username: str = ""
    password_env: str = ""  # name of the environment variable holding the password
    password_file: Path | None = None  # a file of mode 0600 holding the password
    timeout_seconds: float = 30.0
    concurrency: int = 2
    rate_per_second: float = 0.0  # 0: as fast as the server accepts
    unsubscribe_url: str = ""  # e.g. "https://example.com/unsubscribe/{token}"
    unsubscribe_mailto: str = ""  # e.g. "unsubscribe@example.com"

    def __post_init__(self) -> None:
        if self.tls not in TLS_MODES:
            raise ConfigError(f"email.tls must be one of {', '.join(TLS_MODES)}, got {self.tls!r}")
        if self.concurrency < 1 or self.rate_per_second < 0:
            raise ConfigError("email: concurrency >= 1 and rate_per_second >= 0")


CARE_CHANNELS = ("phone", "email", "sms", "visit", "workshop")


@dataclass
class CareStep:
    """One step of a care plan: when (cadence, docs in carectl/care/plans.py), how and by whom."""

    name: str
    cadence: str
    channel: str = "phone"  # phone, email, sms (to the outbox), visit, workshop
    template: str = ""
    owner: str = ""  # an agent or a queue name
    priority: str = "normal"

    def __post_init__(self) -> None:
        from carectl.care.plans import parse_cadence

        try:
            parse_cadence(self.cadence)
        except ValueError as exc:
            raise ConfigError(f"care_plans: step {self.name!r}: {exc}") from None
        if self.channel not in CARE_CHANNELS:
            raise ConfigError(
                f"care_plans: step {self.name!r}: channel must be one of {', '.join(CARE_CHANNELS)}"
            )
        if self.priority not in PRIORITIES:
            raise ConfigError(
                f"care_plans: step {self.name!r}: priority must be one of {', '.join(PRIORITIES)}"
            )


@dataclass
class CarePlan:
    """Care for the members of one segment; caps of 0 use the [care] defaults."""

    segment: str
    steps: list[CareStep] = field(default_factory=list)
    max_contacts: int = 0
    cap_days: int = 0
    neglect_days: int = 0  # members not contacted this long raise a "neglected" task; 0: off


@dataclass
class CareConfig:
    """The contact policy every scheduled task and message obeys, whatever the plan."""

    max_contacts: int = 2  # at most this many contacts, all channels together ...
    cap_days: int = 7  # ... in this many days
    quiet_start: str = "21:00"  # no contact from quiet_start to quiet_end, customer's own zone
    quiet_end: str = "08:00"
    dates: dict[str, str] = field(default_factory=dict)  # own occasions: name -> MM-DD

    def __post_init__(self) -> None:
        for key in ("quiet_start", "quiet_end"):
            value = getattr(self, key)
            parts = value.split(":")
            if len(parts) != 2 or not all(p.isdigit() for p in parts) or int(parts[0]) > 23:
                raise ConfigError(f"care.{key} must be HH:MM, got {value!r}")
        if self.max_contacts < 1 or self.cap_days < 1:
            raise ConfigError("care.max_contacts and care.cap_days must be at least 1")
        for name, value in self.dates.items():
            if not re.fullmatch(r"\d{2}-\d{2}", value):
                raise ConfigError(f"care.dates.{name} must be MM-DD, got {value!r}")


SMS_AUTH = ("none", "bearer", "basic", "header")


@dataclass
class SmsConfig:
    """The built-in HTTP SMS gateway (carectl.builtin.send_sms_http); field names fit most APIs."""

    url: str = ""  # empty: no built-in SMS gateway
    format: str = "json"  # json body or form-encoded
    to_field: str = "to"
    text_field: str = "text"
    sender_field: str = "from"
    sender: str = ""
    reference_field: str = ""  # e.g. "client_ref": carries the outbox Message-ID
    extra: dict[str, str] = field(default_factory=dict)  # constant fields sent every time
    auth: str = "none"
    auth_header: str = "Authorization"  # for auth = "header": the header's name
    username: str = ""  # for auth = "basic"
    token_env: str = ""  # the token / password from this environment variable
    token_file: Path | None = None  # ... or from this 0600 file
    id_field: str = "id"  # key of the gateway's message id in a JSON answer
    timeout_seconds: float = 15.0

    def __post_init__(self) -> None:
        if self.auth not in SMS_AUTH:
            raise ConfigError(f"sms.auth must be one of {', '.join(SMS_AUTH)}, got {self.auth!r}")
        if self.format not in ("json", "form"):
            raise ConfigError(f"sms.format must be json or form, got {self.format!r}")


@dataclass
class Config:
    database: Path
    default_region: str = "VN"
    default_language: str = "vi"
    default_timezone: str = "Asia/Ho_Chi_Minh"
    default_currency: str = "VND"
    plugins: PluginsConfig = field(default_factory=PluginsConfig)
    drop_folders: list[DropFolder] = field(default_factory=list)
    daemon: DaemonConfig = field(default_factory=DaemonConfig)
    ingest: IngestConfig = field(default_factory=IngestConfig)
    tui: TuiConfig = field(default_factory=TuiConfig)
    service: ServiceConfig = field(default_factory=ServiceConfig)
    sla: list[SlaPolicy] = field(default_factory=_default_sla)
    loyalty: LoyaltyConfig = field(default_factory=LoyaltyConfig)
    outbox: OutboxConfig = field(default_factory=OutboxConfig)
    email: EmailConfig = field(default_factory=EmailConfig)
    sms: SmsConfig = field(default_factory=SmsConfig)
    dedupe: DedupeConfig = field(default_factory=DedupeConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    segments: list[SegmentDef] = field(default_factory=_default_segments)
    care: CareConfig = field(default_factory=CareConfig)
    care_plans: list[CarePlan] = field(default_factory=list)
    # Where this config came from; None when running on defaults.
    source_path: Path | None = field(default=None, metadata={"internal": True})


# ---------------------------------------------------------------- locating


def user_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP_NAME)) / "carectl.toml"


def find_config(explicit: Path | None = None) -> Path | None:
    """The config file to use, by precedence; None when there is none anywhere."""
    if explicit is not None:
        return explicit
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR])
    for candidate in (Path("config/carectl.toml"), user_config_path()):
        if candidate.is_file():
            return candidate
    return None


def load(explicit: Path | None = None) -> Config:
    """Load the config by precedence; with no file anywhere, defaults in the user data dir."""
    path = find_config(explicit)
    if path is None:
        data_dir = Path(platformdirs.user_data_dir(APP_NAME))
        return Config(database=data_dir / "carectl.db")
    if not path.is_file():
        raise ConfigError(f"{path}: config file not found (run `carectl --config {path} init`)")
    return load_file(path)


def load_file(path: Path) -> Config:
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    return parse(raw, base=path.resolve().parent, source=path)


def parse(raw: dict[str, Any], base: Path, source: Path | None = None) -> Config:
    label = str(source) if source else "config"
    if "database" not in raw:
        raise ConfigError(f"{label}: missing required key 'database'")
    cfg = _build(Config, raw, "", base, label)
    cfg.source_path = source.resolve() if source else None
    return cfg


# ---------------------------------------------------------------- validation


def _build(cls: type, raw: Any, prefix: str, base: Path, label: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{label}: key '{prefix.rstrip('.')}' must be a table")
    hints = typing.get_type_hints(cls)
    public = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    for key in raw:
        if key not in public:
            close = difflib.get_close_matches(key, public, n=1)
            hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
            raise ConfigError(f"{label}: unknown key '{prefix}{key}'{hint}")
    kwargs = {}
    for name, f in public.items():
        if name in raw:
            kwargs[name] = _convert(hints[name], raw[name], f"{prefix}{name}", base, label)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ConfigError(f"{label}: missing required key '{prefix}{name}'")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, key: str, base: Path, label: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return _convert(inner[0], value, key, base, label)
    if dataclasses.is_dataclass(tp):
        return _build(tp, value, f"{key}.", base, label)
    if origin is list:
        (item,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise _type_error(label, key, "a list", value)
        return [_convert(item, v, f"{key}[{i}]", base, label) for i, v in enumerate(value)]
    if origin is dict:
        _, item = typing.get_args(tp)
        if not isinstance(value, dict):
            raise _type_error(label, key, "a table", value)
        return {k: _convert(item, v, f"{key}.{k}", base, label) for k, v in value.items()}
    if tp is Any:
        return value
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise _type_error(label, key, "a non-empty path string", value)
        p = Path(value).expanduser()
        return p if p.is_absolute() else (base / p).resolve()
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if tp is int and isinstance(value, bool):
        raise _type_error(label, key, "an integer", value)
    if not isinstance(value, tp):
        names = {str: "a string", int: "an integer", float: "a number", bool: "true or false"}
        raise _type_error(label, key, names.get(tp, tp.__name__), value)
    return value


def _type_error(label: str, key: str, expected: str, value: Any) -> ConfigError:
    kinds = {str: "string", int: "integer", float: "number", bool: "boolean"}
    kinds.update({list: "list", dict: "table"})
    got = kinds.get(type(value), type(value).__name__)
    return ConfigError(f"{label}: key '{key}' must be {expected}, got {got} {value!r}")


# ---------------------------------------------------------------- writing


def template_text(
    database: str = "carectl.db",
    plugins_folder: str = "plugins",
    drop_folder: str = "drop/inbox",
) -> str:
    """The commented config `carectl init` writes; config/carectl.toml is this same text."""
    raw = (Path(__file__).parent / "templates" / "carectl.toml").read_text(encoding="utf-8")
    return Template(raw).substitute(
        database=database, plugins_folder=plugins_folder, drop_folder=drop_folder
    )


def write_template(path: Path) -> bool:
    """Write a commented config at path unless one is there; True when written."""
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(template_text(), encoding="utf-8")
    return True

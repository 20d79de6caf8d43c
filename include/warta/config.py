"""The SOP and deployment settings, loaded from the YAML files in ``config/``.

Each file has a pydantic model (``SopFile``, ``ChannelsFile``, ``UsersFile``,
``SettingsFile``) whose parts are the typed objects the rest of Warta reads (``Step``,
``Channel`` with its kind's typed options, ``Limits``...). A bad file gives one
``ConfigError`` naming the file and the key; what needs two files (a step's role, a
user's roles, the deputies) is checked after each file has loaded.

``WARTA_CONFIG_DIR`` points at another folder (tests use it to prove that editing the
SOP changes the DAG and the rules with no code change).
"""

from __future__ import annotations

import dataclasses
import os
import re
from datetime import date, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic import dataclasses as pydantic_dataclasses
from pydantic import model_validator
from pydantic_core import ArgsKwargs

from warta.channel_options import CHANNEL_KINDS, AnyChannelOptions

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

HUMAN_KINDS = ("coverage", "manuscript", "correction", "decision")
AUTOMATIC_KINDS = ("publish", "online_check", "archive")
# How a step's standard time is counted: in the unit's working hours, or around the clock.
CLOCKS = ("working_hours", "wall")
NOTIFY_CHANNELS = ("email", "chat", "none")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
AIRFLOW_BASE_ROLES = ("Admin", "Op", "User", "Viewer")
GRAPH_VERSION = re.compile(r"^v\d+\.\d+$")


class ConfigError(ValueError):
    """The configuration files are inconsistent; the message names the file and field."""


# Every configuration object is a frozen pydantic dataclass: typed, validated when built
# (from a file or in code), and still a dataclass (``dataclasses.replace`` works).
def config_model(cls):
    return pydantic_dataclasses.dataclass(frozen=True, config=ConfigDict(extra="forbid"))(cls)


# ------------------------------------------------------------------ value types
_DURATION = re.compile(r"^\s*(\d+)\s*(d|h|m|s)\s*$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION_HINT = "is not like '1d', '1h', '10m' or '30s'"


def _duration_value(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value)) if isinstance(value, str) else None
    if not match:
        raise ValueError(f"{value!r} {_DURATION_HINT}")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def parse_duration(text: str | int, where: str) -> timedelta:
    """Parse '1d', '1h', '10m', '5m' or a number of seconds."""
    try:
        return _duration_value(text)
    except ValueError:
        raise ConfigError(f"{where}: standard_time {text!r} {_DURATION_HINT}") from None


def _step_id(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError(f"{value!r} must be lower-case letters, digits and _")
    return value


def _graph_version(value: str) -> str:
    if not GRAPH_VERSION.match(value):
        raise ValueError(f"{value!r} is not a version like v26.0")
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration_value)]
WholeNumber = Annotated[int, Field(strict=True, ge=0)]
BaseRole = Literal[AIRFLOW_BASE_ROLES]
StepKind = Literal[HUMAN_KINDS + AUTOMATIC_KINDS]
Clock = Literal[CLOCKS]
NotifyChannel = Literal[NOTIFY_CHANNELS]
ChannelKind = Literal[CHANNEL_KINDS]
GraphVersion = Annotated[str, AfterValidator(_graph_version)]


# ------------------------------------------------------------------ sop.yaml
@config_model
class Role:
    id: str
    name_id: str
    name_en: str


@config_model
class Step:
    id: Annotated[str, AfterValidator(_step_id)]
    number: int
    name_id: str
    name_en: str
    role: str
    kind: StepKind
    standard_time: Duration
    input: str = ""
    output: str = ""
    once_per_item: bool = False
    on_reject: str | None = None
    # "working_hours" or "wall" (see ServiceLevels and warta.service_clock).
    clock: Clock = "working_hours"
    # How long before the due time the role's holders are reminded; None = the
    # service_levels default, zero = no reminder.
    reminder_before: Duration | None = None

    @property
    def is_human(self) -> bool:
        return self.kind in HUMAN_KINDS

    @property
    def task_id(self) -> str:
        return self.id

    @property
    def display_name(self) -> str:
        return f"{self.number}. {self.name_id}"


@config_model
class SeparationOfDuties:
    """Who may not act on whose work (sop.yaml ``separation_of_duties``)."""

    # The checker (correction step) of a round is not the author of that round's manuscript.
    checker_not_author: Annotated[bool, Field(strict=True)] = True
    # Nobody decides on a manuscript holding text they wrote or corrected in any round.
    decider_not_author: Annotated[bool, Field(strict=True)] = True


# ------------------------------------------------------------------ channels.yaml
@config_model
class Channel:
    id: str
    name_id: str
    name_en: str
    kind: ChannelKind
    conn_id: str
    default: bool = False
    # The kind's typed options (warta.channel_options); a mapping is validated into them.
    options: AnyChannelOptions = Field(default=None, validate_default=True)

    @field_validator("options", mode="before")
    @classmethod
    def _options_of_kind(cls, value, info):
        if value is None:
            value = {}
        if isinstance(value, dict) and "kind" in info.data:
            value = {**value, "kind": info.data["kind"]}
        return value


@config_model
class GraphApiVersions:
    """Meta Graph API versions (channels.yaml ``graph_api``): the one Warta calls unless a
    Connection's extra ``api_version`` says otherwise, and when each stops working."""

    default_version: GraphVersion = "v26.0"
    # Warn the Operator this long before the version in use expires, once per threshold.
    warn_before: tuple[Duration, ...] = (timedelta(days=90), timedelta(days=30), timedelta(days=7))
    # version -> the last day Meta serves it (its changelog's "Available until").
    expires: dict[GraphVersion, date] = Field(default_factory=dict)

    @field_validator("warn_before")
    @classmethod
    def _longest_first(cls, value):
        return tuple(sorted(value, reverse=True))


# ------------------------------------------------------------------ users.yaml
@config_model
class User:
    username: str
    full_name: str
    roles: tuple[str, ...]
    email: str = ""
    # Where alerts reach this user: "email", "chat" (the warta_chat connection's target
    # tagged ``chat_tag``) or "none".
    notify: NotifyChannel = "none"
    chat_tag: str = ""
    # The language the CLI speaks to this user ("id" or "en"; default Indonesian).
    lang: Literal["id", "en"] = "id"


# ------------------------------------------------------------------ warta.yaml
def _working_hours(value):
    """``{mon: "07:30-16:00", ...}`` -> {0: (07:30, 16:00), ...} (weekday 0 = Monday)."""
    if not isinstance(value, dict) or all(isinstance(day, int) for day in value):
        return value
    hours = {}
    for day, window in value.items():
        if str(day).lower() not in WEEKDAYS:
            raise ValueError(f"{day!r} is not one of {WEEKDAYS}")
        start_text, _, end_text = str(window).partition("-")
        try:
            start, end = time.fromisoformat(start_text.strip()), time.fromisoformat(end_text.strip())
        except ValueError:
            raise ValueError(f"{day}: {window!r} is not a time range like 07:30-16:00") from None
        if end <= start:
            raise ValueError(f"{day}: the day must end after it starts")
        hours[WEEKDAYS.index(str(day).lower())] = (start, end)
    if not hours:
        raise ValueError("at least one working day is required")
    return hours


@config_model
class ServiceLevels:
    """Service clock, reminders, escalation and the freshness warning (warta.yaml)."""

    # weekday (0 = Monday) -> (start, end) of the working day in the SOP's timezone.
    working_hours: Annotated[dict[int, tuple[time, time]], BeforeValidator(_working_hours)] = Field(
        default_factory=lambda: {
            0: (time(7, 30), time(16, 0)), 1: (time(7, 30), time(16, 0)), 2: (time(7, 30), time(16, 0)),
            3: (time(7, 30), time(16, 0)), 4: (time(7, 30), time(16, 30)),
        }
    )
    holiday_country: str = "ID"
    # Days off the holiday library does not know (cuti bersama, local decrees).
    extra_holidays: tuple[date, ...] = ()
    reminder_before: Duration = timedelta(minutes=15)
    escalate_after: Duration = timedelta(hours=1)
    escalation_role: str = "subkoordinator"
    # Plt/Plh: acting officials alerted when the escalation role's own step is overdue.
    deputies: tuple[str, ...] = ()
    freshness_days: int = 3
    freshness_role: str = "operator"
    desk_base_url: str = "http://127.0.0.1:8080"
    scan_schedule: str = "*/5 * * * *"
    smtp_conn_id: str = "warta_smtp"
    chat_conn_id: str = "warta_chat"
    email_from: str | None = None
    max_delivery_attempts: int = 5

    def item_link(self, item_id: int) -> str:
        return f"{self.desk_base_url.rstrip('/')}/warta/items/{item_id}"

    @property
    def desk_link(self) -> str:
        return f"{self.desk_base_url.rstrip('/')}/warta/items"


@config_model
class Limits:
    title_max_chars: WholeNumber = 200
    manuscript_max_chars: WholeNumber = 50000
    notes_max_chars: WholeNumber = 10000
    reason_min_chars: WholeNumber = 5
    # A decision's reason is shown on every page of the item: bounded like notes.
    reason_max_chars: WholeNumber = 2000
    upload_max_bytes: WholeNumber = 50 * 1024 * 1024
    # Photos beyond this many pixels would trip the social channels' conversion (Pillow's
    # decompression-bomb guard, 89.5 MP); WordPress 6.1 here processed 120 MP. Refused at intake.
    photo_max_pixels: WholeNumber = 89_000_000
    caption_max_chars: WholeNumber = 1000
    # Whole request bodies, refused (413) before they are read: a multipart post with
    # files, and any other body (JSON, a form without files).
    request_max_bytes: WholeNumber = 250 * 1024 * 1024
    form_max_bytes: WholeNumber = 1024 * 1024
    # asset kind -> allowed file extensions
    upload_types: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "photo": ["jpg", "jpeg", "png", "webp"],
            "video": ["mp4", "mov", "webm"],
            "audio": ["mp3", "m4a", "wav", "ogg"],
            "document": ["pdf"],
        }
    )

    @model_validator(mode="after")
    def _consistent(self):
        if self.reason_max_chars < self.reason_min_chars:
            raise ValueError("reason_max_chars is below reason_min_chars")
        if self.request_max_bytes < self.upload_max_bytes:
            raise ValueError("request_max_bytes is below upload_max_bytes (one file would never fit)")
        return self


@config_model
class RejectionReason:
    """A preset reason the Subkoordinator can pick when rejecting (warta.yaml
    ``rejection_reasons``): the stored reason is its Indonesian text."""

    id: str
    text_id: str
    text_en: str = ""

    def text(self, lang: str) -> str:
        return self.text_en if lang == "en" and self.text_en else self.text_id


@config_model
class Logins:
    """Production logins (FAB auth manager, ``warta users sync``): each SOP role becomes a
    FAB role of its Indonesian name holding the Airflow permissions of a base role."""

    # SOP role -> the built-in Airflow role whose permissions it gets.
    role_permissions: dict[str, BaseRole] = Field(default_factory=dict)
    # Users without an SOP role (the head of the unit reads the report).
    reader_role: BaseRole = "Viewer"
    # users.yaml usernames who administer Airflow and Warta.
    admins: tuple[str, ...] = ()
    # users.yaml usernames of the head of the unit (Kepala): the desk opens on the month page.
    heads_of_unit: tuple[str, ...] = ()
    # The Airflow Connection whose login Warta's pipeline uses to start the next round.
    service_conn_id: str = "warta_airflow_api"
    service_role: BaseRole = "User"
    # Password logins on the api-server (warta.web.login_throttle): after this many
    # failures within the window, the user at that address (or, across users, the address)
    # waits; 0 turns throttling off.
    throttle_max_failures: WholeNumber = 5
    throttle_address_max_failures: WholeNumber = 20
    throttle_window: Duration = timedelta(minutes=15)

    def airflow_roles_of(self, username: str, sop_roles: tuple[str, ...], role_names: dict[str, str]) -> list[str]:
        """FAB role names for a user: their SOP roles' FAB roles, Admin for admins."""
        names = [role_names[r] for r in sop_roles if r in role_names]
        if username in self.admins:
            names.append("Admin")
        return names or [self.reader_role]


@dataclasses.dataclass(frozen=True)
class WartaConfig:
    sop: dict
    roles: dict[str, Role]
    steps: tuple[Step, ...]
    services: dict[str, dict]
    channels: dict[str, Channel]
    users: dict[str, User]
    dag_id: str
    max_active_runs: int
    record_poll_seconds: float
    limits: Limits
    timezone: str
    service_levels: ServiceLevels = dataclasses.field(default_factory=ServiceLevels)
    logins: Logins = dataclasses.field(default_factory=Logins)
    duties: SeparationOfDuties = dataclasses.field(default_factory=SeparationOfDuties)
    graph_api: GraphApiVersions = dataclasses.field(default_factory=GraphApiVersions)
    rejection_reasons: tuple[RejectionReason, ...] = ()

    def full_name(self, username: str | None) -> str:
        """The person's name from users.yaml (the login name for anyone not listed)."""
        user = self.users.get(username or "")
        return user.full_name if user and user.full_name else (username or "–")

    def rejection_reason(self, reason_id: str) -> RejectionReason | None:
        return next((r for r in self.rejection_reasons if r.id == reason_id), None)

    def step(self, step_id: str) -> Step:
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    @property
    def human_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if s.is_human)

    @property
    def automatic_steps(self) -> tuple[Step, ...]:
        return tuple(s for s in self.steps if not s.is_human)

    @property
    def decision_step(self) -> Step:
        return next(s for s in self.steps if s.kind == "decision")

    def step_of_kind(self, kind: str) -> Step:
        return next(s for s in self.steps if s.kind == kind)

    def next_step(self, step_id: str) -> Step | None:
        ids = [s.id for s in self.steps]
        index = ids.index(step_id)
        return self.steps[index + 1] if index + 1 < len(self.steps) else None

    def roles_of(self, username: str) -> tuple[str, ...]:
        user = self.users.get(username)
        return user.roles if user else ()

    def holders_of(self, role: str) -> list[str]:
        return sorted(u.username for u in self.users.values() if role in u.roles)

    def full_name(self, username: str) -> str:
        """How people are named to each other: users.yaml ``full_name``, else the login."""
        user = self.users.get(username)
        return user.full_name if user and user.full_name else username

    @property
    def default_channels(self) -> list[str]:
        return [c.id for c in self.channels.values() if c.default]


# ------------------------------------------------------------------ the files
class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SopFile(_File):
    sop: dict[str, Any] = Field(default_factory=dict)
    roles: dict[str, Role] = Field(default_factory=dict)
    steps: list[Step] = Field(default_factory=list)
    separation_of_duties: SeparationOfDuties = Field(default_factory=SeparationOfDuties)
    services: dict[str, dict[str, Any]] = Field(default_factory=dict)


class ChannelsFile(_File):
    channels: dict[str, Channel] = Field(default_factory=dict)
    graph_api: GraphApiVersions = Field(default_factory=GraphApiVersions)


class UsersFile(_File):
    users: dict[str, User] = Field(default_factory=dict)


class SettingsFile(_File):
    dag_id: str = "warta_berita"
    max_active_runs: Annotated[int, Field(gt=0)] = 10000
    record_poll_seconds: Annotated[float, Field(gt=0)] = 0.5
    limits: Limits = Field(default_factory=Limits)
    service_levels: ServiceLevels = Field(default_factory=ServiceLevels)
    logins: Logins = Field(default_factory=Logins)
    rejection_reasons: list[RejectionReason] = Field(default_factory=list)
    # The monthly report's settings, read by warta.report.settings.
    report: dict[str, Any] = Field(default_factory=dict)
    # The reach and engagement DAG's settings, read by warta.reach.parse_reach_settings.
    reach: dict[str, Any] = Field(default_factory=dict)
    # How long the desk keeps what people typed or attached, read by warta.keep.
    keep: dict[str, Any] = Field(default_factory=dict)
    # Scheduled publishing (jadwal tayang), read by warta.schedule_settings.
    schedule: dict[str, Any] = Field(default_factory=dict)


# The record lists whose entries carry their own id: their fields read "<record>: <field> <value>".
_RECORDS = {"sop.yaml": ("roles", "steps"), "channels.yaml": ("channels",), "users.yaml": ("users",)}
# Files that are about one kind of record: their paths start at the record's id.
_RECORD_FILES = {"channels.yaml": "channels", "users.yaml": "users"}
_UNKNOWN = ("extra_forbidden", "unexpected_keyword_argument")


def _path(file: str, loc: tuple) -> str:
    """'sop.yaml steps[2]', 'warta.yaml logins role_permissions.operator'."""
    parts = [p for p in loc if p != "[key]"]
    if parts and parts[0] == _RECORD_FILES.get(file):
        parts = parts[1:]
    # A channel's options are its own keys in the file (the kind tags their model).
    if len(parts) >= 2 and parts[1] == "options" and file == "channels.yaml":
        parts = [parts[0], *parts[3 if len(parts) > 2 and parts[2] in CHANNEL_KINDS else 2:]]
    # The section and its first key are words; deeper keys are dotted, list indexes bracketed.
    text = file
    for index, part in enumerate(parts):
        if isinstance(part, int):
            text += f"[{part}]"
        elif index <= 1:
            text += f" {part}"
        else:
            text += f".{part}"
    return text


def _problem(error: dict) -> str:
    kind = error["type"]
    if kind == "literal_error":
        return f"{error['input']!r} is not one of {error['ctx']['expected']}"
    if kind == "value_error":
        return str(error["ctx"]["error"])
    return f"{error['input']!r} is not valid ({error['msg']})"


def _message(file: str, error: dict) -> str:
    loc = tuple(p for p in error["loc"] if p != "[key]")
    if error["type"] == "missing":
        return f"{_path(file, loc[:-1])}: missing field {loc[-1]!r}"
    if error["type"] in _UNKNOWN:
        return f"{_path(file, loc[:-1])}: unknown settings [{loc[-1]!r}]"
    if error["type"] == "value_error" and isinstance(error["input"], (dict, ArgsKwargs)):
        return f"{_path(file, loc)}: {_problem(error)}"  # a check of the whole section
    is_record_field = len(loc) == 3 and loc[0] in _RECORDS.get(file, ()) and not str(loc[1]).startswith("[")
    if is_record_field or (file == "channels.yaml" and len(loc) == 5 and loc[2] == "options"):
        field_name = loc[-1]
        return f"{_path(file, loc[:-1])}: {field_name} {_problem(error)}"
    return f"{_path(file, loc)}: {_problem(error)}"


def config_error(file: str, exc: ValidationError) -> ConfigError:
    """One ConfigError naming the file and key of each problem pydantic found."""
    messages = []
    unknown: dict[str, list[str]] = {}
    for error in exc.errors():
        if error["type"] == "union_tag_not_found":
            continue  # a channel's options without a valid kind: the kind's own error says it
        if error["type"] in _UNKNOWN:
            loc = tuple(p for p in error["loc"] if p != "[key]")
            unknown.setdefault(_path(file, loc[:-1]), []).append(str(loc[-1]))
        else:
            messages.append(_message(file, error))
    messages += [f"{where}: unknown settings {sorted(names)}" for where, names in unknown.items()]
    return ConfigError("; ".join(messages))


def _read(folder: Path, name: str) -> dict:
    path = folder / name
    try:
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
    except FileNotFoundError as exc:
        raise ConfigError(f"missing config file {path}") from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def _validated(model: type[BaseModel], file: str, data: dict):
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise config_error(file, exc) from None


def _mapping(value) -> dict:
    return value if isinstance(value, dict) else {}


def _sop_document(doc: dict) -> dict:
    """sop.yaml with each record's id and defaults filled in, as SopFile reads it."""
    doc = dict(doc)
    doc["roles"] = {
        role_id: ({"id": role_id, "name_en": spec.get("name_id"), **spec} if isinstance(spec, dict) else spec)
        for role_id, spec in _mapping(doc.get("roles")).items()
    }
    steps = []
    for index, spec in enumerate(doc.get("steps") or []):
        if isinstance(spec, dict):
            spec = {"number": index + 1, **spec}
            if "name_id" in spec:
                spec.setdefault("name_en", spec["name_id"])
            # People work office hours; the pipeline runs around the clock.
            if not spec.get("clock") and "kind" in spec:
                spec["clock"] = "working_hours" if spec["kind"] in HUMAN_KINDS else "wall"
            if spec.get("reminder_before") is None:
                spec.pop("reminder_before", None)
        steps.append(spec)
    doc["steps"] = steps
    doc["separation_of_duties"] = _mapping(doc.get("separation_of_duties"))
    doc["sop"] = _mapping(doc.get("sop"))
    doc["services"] = _mapping(doc.get("services"))
    return doc


_CHANNEL_FIELDS = ("name_id", "name_en", "kind", "conn_id", "default")


def channel_from_spec(channel_id: str, spec: dict) -> Channel:
    """A channel as channels.yaml writes it (options beside the channel's fields)."""
    return _validated(ChannelsFile, "channels.yaml", _channels_document({"channels": {channel_id: spec}})).channels[
        channel_id]


def _channels_document(doc: dict) -> dict:
    doc = dict(doc)
    channels = {}
    for channel_id, spec in _mapping(doc.get("channels")).items():
        if isinstance(spec, dict):
            fields = {k: v for k, v in spec.items() if k in _CHANNEL_FIELDS}
            spec = {"id": channel_id, "name_en": channel_id, **fields,
                    "options": {k: v for k, v in spec.items() if k not in _CHANNEL_FIELDS}}
        channels[channel_id] = spec
    doc["channels"] = channels
    doc["graph_api"] = _mapping(doc.get("graph_api"))
    return doc


def _users_document(doc: dict) -> dict:
    doc = dict(doc)
    users = {}
    for username, spec in _mapping(doc.get("users")).items():
        if isinstance(spec, dict):
            email = str(spec.get("email") or "")
            spec = {**spec, "username": username, "full_name": spec.get("full_name", username),
                    "roles": spec.get("roles") or (), "email": email,
                    "notify": spec.get("notify") or ("email" if email else "none"),
                    "chat_tag": str(spec.get("chat_tag") or username)}
        users[username] = spec
    doc["users"] = users
    return doc


def _settings_document(doc: dict) -> dict:
    doc = dict(doc)
    for section in ("limits", "service_levels", "logins", "report"):
        doc[section] = _mapping(doc.get(section))
    levels = {k: v for k, v in doc["service_levels"].items() if v is not None or k == "email_from"}
    # A deployment's public address (docker-compose.yaml passes it) wins over the file's.
    if os.environ.get("WARTA_BASE_URL"):
        levels["desk_base_url"] = os.environ["WARTA_BASE_URL"]
    doc["service_levels"] = levels
    logins = dict(doc["logins"])
    for listed in ("admins", "heads_of_unit"):
        if listed in logins:
            logins[listed] = tuple(logins[listed] or ())
    doc["logins"] = logins
    return doc


# ------------------------------------------------------------------ warta.yaml sections
# Sections that one part reads (report:, reach:) are modelled beside that part and parsed
# with these, so their errors name the file and key like every other config error.
def _dag_id(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", value):
        raise ValueError(f"{value!r} is not a valid DAG id")
    return value


# YAML gives numbers for a NIP or None for an empty key: both are text here.
Text = Annotated[str, BeforeValidator(lambda value: "" if value is None else str(value))]
DagId = Annotated[str, AfterValidator(_dag_id)]
AtLeastOne = Annotated[int, Field(ge=1)]


def warta_yaml_section(name: str, folder: Path | str | None = None) -> dict | None:
    """One top-level section of warta.yaml in ``folder`` (default: the config in force)."""
    return _read(Path(folder or config_dir()), "warta.yaml").get(name)


def warta_yaml_section_parser(name: str, model: type):
    """A pydantic model of warta.yaml's section ``name`` whose errors name the file and key
    ("warta.yaml report list_limit: ...")."""
    section = type(f"_{name.title()}Section", (BaseModel,), {
        "__annotations__": {name: model}, "model_config": ConfigDict(extra="forbid"),
    })

    def parse(spec: dict | None):
        try:
            return getattr(section.model_validate({name: dict(spec or {})}), name)
        except ValidationError as exc:
            raise config_error("warta.yaml", exc) from None

    return parse


def config_dir() -> Path:
    return Path(os.environ.get("WARTA_CONFIG_DIR") or DEFAULT_CONFIG_DIR)


def load_config(folder: Path | str | None = None) -> WartaConfig:
    folder = Path(folder) if folder else config_dir()
    sop = _validated(SopFile, "sop.yaml", _sop_document(_read(folder, "sop.yaml")))
    settings = _validated(SettingsFile, "warta.yaml", _settings_document(_read(folder, "warta.yaml")))
    channels = _validated(ChannelsFile, "channels.yaml", _channels_document(_read(folder, "channels.yaml")))
    users = _validated(UsersFile, "users.yaml", _users_document(_read(folder, "users.yaml")))

    roles = sop.roles
    _check_steps(sop.steps, roles)
    timezone_name = str(sop.sop.get("timezone", "Asia/Jakarta"))
    try:
        ZoneInfo(timezone_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"sop.yaml sop timezone: {timezone_name!r} is not a timezone like Asia/Jakarta") from None
    for username, user in users.users.items():
        unknown = set(user.roles) - set(roles)
        if unknown:
            raise ConfigError(f"users.yaml {username}: unknown roles {sorted(unknown)}")
        if user.notify == "email" and not user.email:
            raise ConfigError(f"users.yaml {username}: notify is email but no email address is given")
    return WartaConfig(
        sop=sop.sop,
        roles=roles,
        steps=tuple(sop.steps),
        services=sop.services,
        channels=channels.channels,
        users=users.users,
        dag_id=settings.dag_id,
        max_active_runs=settings.max_active_runs,
        record_poll_seconds=settings.record_poll_seconds,
        limits=settings.limits,
        timezone=timezone_name,
        service_levels=_check_service_levels(settings.service_levels, roles, users.users),
        logins=_check_logins(settings.logins, roles, users.users),
        duties=sop.separation_of_duties,
        graph_api=channels.graph_api,
        rejection_reasons=_check_rejection_reasons(settings.rejection_reasons),
    )


def _check_steps(steps: list[Step], roles: dict[str, Role]) -> None:
    for index, step in enumerate(steps):
        if step.role not in roles:
            raise ConfigError(f"sop.yaml steps[{index}]: role {step.role!r} is not one of {sorted(roles)}")
    ids = [s.id for s in steps]
    if len(set(ids)) != len(ids):
        raise ConfigError("sop.yaml: step ids must be unique")
    kinds = [s.kind for s in steps]
    for kind in ("manuscript", "decision", "publish"):
        if kinds.count(kind) != 1:
            raise ConfigError(f"sop.yaml: exactly one step of kind {kind!r} is required")
    decision = steps[kinds.index("decision")]
    if decision.on_reject not in ids or ids.index(decision.on_reject) >= ids.index(decision.id):
        raise ConfigError("sop.yaml: the decision step's on_reject must name an earlier step")
    first_auto = next(i for i, s in enumerate(steps) if not s.is_human)
    if any(s.is_human for s in steps[first_auto:]):
        raise ConfigError("sop.yaml: human steps must all come before the automatic steps")


def _check_logins(logins: Logins, roles: dict, users: dict) -> Logins:
    where = "warta.yaml logins"
    for role in logins.role_permissions:
        if role not in roles:
            raise ConfigError(f"{where} role_permissions: {role!r} is not one of {sorted(roles)}")
    for listed in ("admins", "heads_of_unit"):
        missing = [u for u in getattr(logins, listed) if u not in users]
        if missing:
            raise ConfigError(f"{where} {listed}: {missing} are not in users.yaml")
    # A role left out of the mapping only reads.
    permissions = {role: logins.role_permissions.get(role, "Viewer") for role in roles}
    return dataclasses.replace(logins, role_permissions=permissions)


def _check_rejection_reasons(reasons: list[RejectionReason]) -> tuple[RejectionReason, ...]:
    ids = [r.id for r in reasons]
    if len(set(ids)) != len(ids):
        raise ConfigError("warta.yaml rejection_reasons: ids must be unique")
    return tuple(reasons)


def _check_service_levels(levels: ServiceLevels, roles: dict, users: dict) -> ServiceLevels:
    where = "warta.yaml service_levels"
    for name in ("escalation_role", "freshness_role"):
        if getattr(levels, name) not in roles:
            raise ConfigError(f"{where} {name}: {getattr(levels, name)!r} is not one of {sorted(roles)}")
    missing = [u for u in levels.deputies if u not in users]
    if missing:
        raise ConfigError(f"{where} deputies: {missing} are not in users.yaml")
    return levels


@lru_cache(maxsize=8)
def _cached(folder: str) -> WartaConfig:
    return load_config(folder)


def get_config() -> WartaConfig:
    """The configuration in force (cached per folder)."""
    return _cached(str(config_dir()))

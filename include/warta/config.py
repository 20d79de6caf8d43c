"""The SOP and deployment settings, loaded from the YAML files in ``config/``.

``WARTA_CONFIG_DIR`` points at another folder (tests use it to prove that editing the
SOP changes the DAG and the rules with no code change).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache
from pathlib import Path

import yaml

DEFAULT_CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

HUMAN_KINDS = ("coverage", "manuscript", "correction", "decision")
AUTOMATIC_KINDS = ("publish", "online_check", "archive")
# How a step's standard time is counted: in the unit's working hours, or around the clock.
CLOCKS = ("working_hours", "wall")
NOTIFY_CHANNELS = ("email", "chat", "none")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ConfigError(ValueError):
    """The configuration files are inconsistent; the message names the file and field."""


@dataclass(frozen=True)
class Role:
    id: str
    name_id: str
    name_en: str


@dataclass(frozen=True)
class Step:
    id: str
    number: int
    name_id: str
    name_en: str
    role: str
    kind: str
    standard_time: timedelta
    input: str = ""
    output: str = ""
    once_per_item: bool = False
    on_reject: str | None = None
    # "working_hours" or "wall" (see ServiceLevels and warta.service_clock).
    clock: str = "working_hours"
    # How long before the due time the role's holders are reminded; None = the
    # service_levels default, zero = no reminder.
    reminder_before: timedelta | None = None

    @property
    def is_human(self) -> bool:
        return self.kind in HUMAN_KINDS

    @property
    def task_id(self) -> str:
        return self.id

    @property
    def display_name(self) -> str:
        return f"{self.number}. {self.name_id}"


@dataclass(frozen=True)
class Channel:
    id: str
    name_id: str
    name_en: str
    kind: str
    conn_id: str
    default: bool = False
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class User:
    username: str
    full_name: str
    roles: tuple[str, ...]
    email: str = ""
    # Where alerts reach this user: "email", "chat" (the warta_chat connection's target
    # tagged ``chat_tag``) or "none".
    notify: str = "none"
    chat_tag: str = ""


@dataclass(frozen=True)
class ServiceLevels:
    """Service clock, reminders, escalation and the freshness warning (warta.yaml)."""

    # weekday (0 = Monday) -> (start, end) of the working day in the SOP's timezone.
    working_hours: dict[int, tuple[time, time]] = field(
        default_factory=lambda: {
            0: (time(7, 30), time(16, 0)), 1: (time(7, 30), time(16, 0)), 2: (time(7, 30), time(16, 0)),
            3: (time(7, 30), time(16, 0)), 4: (time(7, 30), time(16, 30)),
        }
    )
    holiday_country: str = "ID"
    # Days off the holiday library does not know (cuti bersama, local decrees).
    extra_holidays: tuple[date, ...] = ()
    reminder_before: timedelta = timedelta(minutes=15)
    escalate_after: timedelta = timedelta(hours=1)
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


@dataclass(frozen=True)
class Limits:
    title_max_chars: int = 200
    manuscript_max_chars: int = 50000
    notes_max_chars: int = 10000
    reason_min_chars: int = 5
    # A decision's reason is shown on every page of the item: bounded like notes.
    reason_max_chars: int = 2000
    upload_max_bytes: int = 50 * 1024 * 1024
    # Photos beyond this many pixels would trip the social channels' conversion (Pillow's
    # decompression-bomb guard, 89.5 MP); WordPress 6.1 here processed 120 MP. Refused at intake.
    photo_max_pixels: int = 89_000_000
    caption_max_chars: int = 1000
    # Whole request bodies, refused (413) before they are read: a multipart post with
    # files, and any other body (JSON, a form without files).
    request_max_bytes: int = 250 * 1024 * 1024
    form_max_bytes: int = 1024 * 1024
    # asset kind -> allowed file extensions
    upload_types: dict = field(
        default_factory=lambda: {
            "photo": ["jpg", "jpeg", "png", "webp"],
            "video": ["mp4", "mov", "webm"],
            "audio": ["mp3", "m4a", "wav", "ogg"],
            "document": ["pdf"],
        }
    )


AIRFLOW_BASE_ROLES = ("Admin", "Op", "User", "Viewer")


@dataclass(frozen=True)
class Logins:
    """Production logins (FAB auth manager, ``warta users sync``): each SOP role becomes a
    FAB role of its Indonesian name holding the Airflow permissions of a base role."""

    # SOP role -> the built-in Airflow role whose permissions it gets.
    role_permissions: dict[str, str] = field(default_factory=dict)
    # Users without an SOP role (the head of the unit reads the report).
    reader_role: str = "Viewer"
    # users.yaml usernames who administer Airflow and Warta.
    admins: tuple[str, ...] = ()
    # The Airflow Connection whose login Warta's pipeline uses to start the next round.
    service_conn_id: str = "warta_airflow_api"
    service_role: str = "User"
    # Password logins on the api-server (warta.airflow.login_throttle): after this many
    # failures within the window, the user at that address (or, across users, the address)
    # waits; 0 turns throttling off.
    throttle_max_failures: int = 5
    throttle_address_max_failures: int = 20
    throttle_window: timedelta = timedelta(minutes=15)

    def airflow_roles_of(self, username: str, sop_roles: tuple[str, ...], role_names: dict[str, str]) -> list[str]:
        """FAB role names for a user: their SOP roles' FAB roles, Admin for admins."""
        names = [role_names[r] for r in sop_roles if r in role_names]
        if username in self.admins:
            names.append("Admin")
        return names or [self.reader_role]


GRAPH_VERSION = re.compile(r"^v\d+\.\d+$")


@dataclass(frozen=True)
class GraphApiVersions:
    """Meta Graph API versions (channels.yaml ``graph_api``): the one Warta calls unless a
    Connection's extra ``api_version`` says otherwise, and when each stops working."""

    default_version: str = "v26.0"
    # Warn the Operator this long before the version in use expires, once per threshold.
    warn_before: tuple[timedelta, ...] = (timedelta(days=90), timedelta(days=30), timedelta(days=7))
    # version -> the last day Meta serves it (its changelog's "Available until").
    expires: dict[str, date] = field(default_factory=dict)


@dataclass(frozen=True)
class SeparationOfDuties:
    """Who may not act on whose work (sop.yaml ``separation_of_duties``)."""

    # The checker (correction step) of a round is not the author of that round's manuscript.
    checker_not_author: bool = True
    # Nobody decides on a manuscript holding text they wrote or corrected in any round.
    decider_not_author: bool = True


@dataclass(frozen=True)
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
    service_levels: ServiceLevels = field(default_factory=ServiceLevels)
    logins: Logins = field(default_factory=Logins)
    duties: SeparationOfDuties = field(default_factory=SeparationOfDuties)
    graph_api: GraphApiVersions = field(default_factory=GraphApiVersions)

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

    @property
    def default_channels(self) -> list[str]:
        return [c.id for c in self.channels.values() if c.default]


_DURATION = re.compile(r"^\s*(\d+)\s*(d|h|m|s)\s*$")
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str | int, where: str) -> timedelta:
    """Parse '1d', '1h', '10m', '5m' or a number of seconds."""
    if isinstance(text, int):
        return timedelta(seconds=text)
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"{where}: standard_time {text!r} is not like '1d', '1h', '10m' or '30s'")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


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


def config_dir() -> Path:
    return Path(os.environ.get("WARTA_CONFIG_DIR") or DEFAULT_CONFIG_DIR)


def load_config(folder: Path | str | None = None) -> WartaConfig:
    folder = Path(folder) if folder else config_dir()
    sop_doc = _read(folder, "sop.yaml")
    settings = _read(folder, "warta.yaml")
    channels_doc = _read(folder, "channels.yaml")
    users_doc = _read(folder, "users.yaml")

    roles = {}
    for role_id, spec in (sop_doc.get("roles") or {}).items():
        if not isinstance(spec, dict) or "name_id" not in spec:
            raise ConfigError(f"sop.yaml roles {role_id}: missing field 'name_id'")
        roles[role_id] = Role(role_id, spec["name_id"], spec.get("name_en", spec["name_id"]))
    steps: list[Step] = []
    for index, spec in enumerate(sop_doc.get("steps") or []):
        where = f"sop.yaml steps[{index}]"
        try:
            step = Step(
                id=spec["id"],
                number=int(spec.get("number", index + 1)),
                name_id=spec["name_id"],
                name_en=spec.get("name_en", spec["name_id"]),
                role=spec["role"],
                kind=spec["kind"],
                standard_time=parse_duration(spec["standard_time"], where),
                input=spec.get("input", ""),
                output=spec.get("output", ""),
                once_per_item=bool(spec.get("once_per_item", False)),
                on_reject=spec.get("on_reject"),
                # People work office hours; the pipeline runs around the clock.
                clock=spec.get("clock") or ("working_hours" if spec["kind"] in HUMAN_KINDS else "wall"),
                reminder_before=(
                    parse_duration(spec["reminder_before"], f"{where} reminder_before")
                    if spec.get("reminder_before") is not None else None
                ),
            )
        except KeyError as exc:
            raise ConfigError(f"{where}: missing field {exc.args[0]!r}") from exc
        if step.clock not in CLOCKS:
            raise ConfigError(f"{where}: clock {step.clock!r} is not one of {CLOCKS}")
        if step.role not in roles:
            raise ConfigError(f"{where}: role {step.role!r} is not one of {sorted(roles)}")
        if step.kind not in HUMAN_KINDS + AUTOMATIC_KINDS:
            raise ConfigError(f"{where}: kind {step.kind!r} is not one of {HUMAN_KINDS + AUTOMATIC_KINDS}")
        if not re.fullmatch(r"[a-z][a-z0-9_]*", step.id):
            raise ConfigError(f"{where}: id {step.id!r} must be lower-case letters, digits and _")
        steps.append(step)

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

    channels = {}
    for channel_id, spec in (channels_doc.get("channels") or {}).items():
        spec = dict(spec)
        try:
            channels[channel_id] = Channel(
                id=channel_id,
                name_id=spec.pop("name_id"),
                name_en=spec.pop("name_en", channel_id),
                kind=spec.pop("kind"),
                conn_id=spec.pop("conn_id"),
                default=bool(spec.pop("default", False)),
                options=spec,
            )
        except KeyError as exc:
            raise ConfigError(f"channels.yaml {channel_id}: missing field {exc.args[0]!r}") from exc

    users = {}
    for username, spec in (users_doc.get("users") or {}).items():
        user_roles = tuple(spec.get("roles") or ())
        unknown = set(user_roles) - set(roles)
        if unknown:
            raise ConfigError(f"users.yaml {username}: unknown roles {sorted(unknown)}")
        email = str(spec.get("email") or "")
        notify = spec.get("notify") or ("email" if email else "none")
        if notify not in NOTIFY_CHANNELS:
            raise ConfigError(f"users.yaml {username}: notify {notify!r} is not one of {NOTIFY_CHANNELS}")
        if notify == "email" and not email:
            raise ConfigError(f"users.yaml {username}: notify is email but no email address is given")
        users[username] = User(
            username, spec.get("full_name", username), user_roles, email=email, notify=notify,
            chat_tag=str(spec.get("chat_tag") or username),
        )

    limit_values = settings.get("limits") or {}
    unknown_limits = set(limit_values) - set(Limits.__dataclass_fields__)
    if unknown_limits:
        raise ConfigError(f"warta.yaml limits: unknown settings {sorted(unknown_limits)}")
    limits = _limits(limit_values)
    service_levels = _service_levels(settings.get("service_levels") or {}, roles, users)
    return WartaConfig(
        sop=sop_doc.get("sop") or {},
        roles=roles,
        steps=tuple(steps),
        services=sop_doc.get("services") or {},
        channels=channels,
        users=users,
        dag_id=settings.get("dag_id", "warta_berita"),
        max_active_runs=int(settings.get("max_active_runs", 10000)),
        record_poll_seconds=float(settings.get("record_poll_seconds", 0.5)),
        limits=limits,
        timezone=(sop_doc.get("sop") or {}).get("timezone", "Asia/Jakarta"),
        service_levels=service_levels,
        logins=_logins(settings.get("logins") or {}, roles, users),
        duties=_duties(sop_doc.get("separation_of_duties") or {}),
        graph_api=_graph_api(channels_doc.get("graph_api") or {}),
    )


def _graph_api(spec: dict) -> GraphApiVersions:
    where = "channels.yaml graph_api"
    unknown = set(spec) - set(GraphApiVersions.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}")
    values = dict(spec)
    expires = {}
    for version, until in (values.get("expires") or {}).items():
        if not GRAPH_VERSION.match(str(version)):
            raise ConfigError(f"{where} expires: {version!r} is not a version like v26.0")
        try:
            expires[str(version)] = until if isinstance(until, date) else date.fromisoformat(str(until))
        except ValueError:
            raise ConfigError(f"{where} expires.{version}: {until!r} is not a date like 2028-07-29") from None
    values["expires"] = expires
    if "default_version" in values and not GRAPH_VERSION.match(str(values["default_version"])):
        raise ConfigError(f"{where} default_version: {values['default_version']!r} is not a version like v26.0")
    if "warn_before" in values:
        values["warn_before"] = tuple(sorted(
            (parse_duration(d, f"{where} warn_before") for d in values["warn_before"] or ()), reverse=True))
    return GraphApiVersions(**values)


def _duties(spec: dict) -> SeparationOfDuties:
    where = "sop.yaml separation_of_duties"
    unknown = set(spec) - set(SeparationOfDuties.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}")
    for name, value in spec.items():
        if not isinstance(value, bool):
            raise ConfigError(f"{where} {name}: {value!r} is not true or false")
    return SeparationOfDuties(**spec)


def _limits(values: dict) -> Limits:
    where = "warta.yaml limits"
    limits = Limits(**values)
    for name, value in vars(limits).items():
        if name != "upload_types" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise ConfigError(f"{where} {name}: {value!r} is not a whole number >= 0")
    if limits.reason_max_chars < limits.reason_min_chars:
        raise ConfigError(f"{where}: reason_max_chars is below reason_min_chars")
    if limits.request_max_bytes < limits.upload_max_bytes:
        raise ConfigError(f"{where}: request_max_bytes is below upload_max_bytes (one file would never fit)")
    return limits


def _logins(spec: dict, roles: dict, users: dict) -> Logins:
    where = "warta.yaml logins"
    unknown = set(spec) - set(Logins.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}")
    values = dict(spec)
    permissions = dict(values.get("role_permissions") or {})
    for role, base in permissions.items():
        if role not in roles:
            raise ConfigError(f"{where} role_permissions: {role!r} is not one of {sorted(roles)}")
        if base not in AIRFLOW_BASE_ROLES:
            raise ConfigError(f"{where} role_permissions.{role}: {base!r} is not one of {AIRFLOW_BASE_ROLES}")
    values["role_permissions"] = {role: permissions.get(role, "Viewer") for role in roles}
    for name in ("reader_role", "service_role"):
        if name in values and values[name] not in AIRFLOW_BASE_ROLES:
            raise ConfigError(f"{where} {name}: {values[name]!r} is not one of {AIRFLOW_BASE_ROLES}")
    if "throttle_window" in values:
        values["throttle_window"] = parse_duration(values["throttle_window"], f"{where} throttle_window")
    for name in ("throttle_max_failures", "throttle_address_max_failures"):
        if name in values and (not isinstance(values[name], int) or values[name] < 0):
            raise ConfigError(f"{where} {name}: {values[name]!r} is not a whole number >= 0")
    values["admins"] = tuple(values.get("admins") or ())
    missing = [u for u in values["admins"] if u not in users]
    if missing:
        raise ConfigError(f"{where} admins: {missing} are not in users.yaml")
    return Logins(**values)


def _clock_time(text: str, where: str) -> time:
    try:
        return time.fromisoformat(str(text).strip())
    except ValueError:
        raise ConfigError(f"{where}: {text!r} is not a time like 07:30") from None


def _service_levels(spec: dict, roles: dict, users: dict) -> ServiceLevels:
    where = "warta.yaml service_levels"
    known = set(ServiceLevels.__dataclass_fields__)
    unknown = set(spec) - known
    if unknown:
        raise ConfigError(f"{where}: unknown settings {sorted(unknown)}")
    values = dict(spec)
    if "working_hours" in values:
        hours = {}
        for day, window in (values["working_hours"] or {}).items():
            if str(day).lower() not in WEEKDAYS:
                raise ConfigError(f"{where} working_hours: {day!r} is not one of {WEEKDAYS}")
            start_text, _, end_text = str(window).partition("-")
            start = _clock_time(start_text, f"{where} working_hours.{day}")
            end = _clock_time(end_text, f"{where} working_hours.{day}")
            if end <= start:
                raise ConfigError(f"{where} working_hours.{day}: the day must end after it starts")
            hours[WEEKDAYS.index(str(day).lower())] = (start, end)
        if not hours:
            raise ConfigError(f"{where} working_hours: at least one working day is required")
        values["working_hours"] = hours
    if "extra_holidays" in values:
        try:
            values["extra_holidays"] = tuple(
                d if isinstance(d, date) else date.fromisoformat(str(d)) for d in values["extra_holidays"] or ()
            )
        except ValueError as exc:
            raise ConfigError(f"{where} extra_holidays: {exc}") from None
    for name in ("reminder_before", "escalate_after"):
        if name in values:
            values[name] = parse_duration(values[name], f"{where} {name}")
    for name in ("escalation_role", "freshness_role"):
        if name in values and values[name] not in roles:
            raise ConfigError(f"{where} {name}: {values[name]!r} is not one of {sorted(roles)}")
    if "deputies" in values:
        values["deputies"] = tuple(values["deputies"] or ())
        missing = [u for u in values["deputies"] if u not in users]
        if missing:
            raise ConfigError(f"{where} deputies: {missing} are not in users.yaml")
    if "freshness_days" in values:
        values["freshness_days"] = int(values["freshness_days"])
    # A deployment's public address (docker-compose.yaml passes it) wins over the file's.
    if os.environ.get("WARTA_BASE_URL"):
        values["desk_base_url"] = os.environ["WARTA_BASE_URL"]
    return ServiceLevels(**values)


@lru_cache(maxsize=8)
def _cached(folder: str) -> WartaConfig:
    return load_config(folder)


def get_config() -> WartaConfig:
    """The configuration in force (cached per folder)."""
    return _cached(str(config_dir()))

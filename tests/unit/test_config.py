"""config/*.yaml -> WartaConfig: the SOP as data, and its validation."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from warta import workflow
from warta.channel_options import WordPressOptions
from warta.config import ConfigError, get_config, load_config, parse_duration
from warta.workflow import PermissionDenied, Position


def edit_yaml(folder, name, change):
    path = folder / name
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def step_spec(data, step_id):
    return next(s for s in data["steps"] if s["id"] == step_id)


# ----------------------------------------------------------------- the SOP as loaded
def test_seven_steps_in_sop_order_with_indonesian_names(config):
    assert [s.id for s in config.steps] == [
        "meliput", "menyusun", "memeriksa", "menyetujui", "updating", "pengecekan", "mendokumentasi",
    ]
    assert [s.number for s in config.steps] == [1, 2, 3, 4, 5, 6, 7]
    assert [s.name_id for s in config.steps] == [
        "Meliput kegiatan",
        "Menyusun bahan informasi",
        "Memeriksa bahan berita",
        "Menyetujui atau menolak bahan berita untuk diterbitkan",
        "Melakukan proses updating ke sistem",
        "Melakukan pengecekan hasil secara online",
        "Mendokumentasi",
    ]
    assert config.step("menyetujui").display_name == "4. Menyetujui atau menolak bahan berita untuk diterbitkan"


def test_roles_and_kinds(config):
    assert set(config.roles) == {"pelaksana_kegiatan", "operator", "subkoordinator"}
    assert config.roles["operator"].name_id == "Operator Website dan Media Sosial"
    assert [s.role for s in config.steps] == [
        "pelaksana_kegiatan", "pelaksana_kegiatan", "operator", "subkoordinator",
        "operator", "operator", "operator",
    ]
    assert [s.id for s in config.human_steps] == ["meliput", "menyusun", "memeriksa", "menyetujui"]
    assert [s.id for s in config.automatic_steps] == ["updating", "pengecekan", "mendokumentasi"]
    assert config.decision_step.id == "menyetujui"
    assert config.decision_step.on_reject == "menyusun"
    assert config.step_of_kind("publish").id == "updating"
    assert config.step("meliput").once_per_item is True
    assert not any(s.once_per_item for s in config.steps[1:])


def test_standard_times_from_the_sop(config):
    assert [s.standard_time for s in config.steps] == [
        timedelta(days=1), timedelta(hours=1), timedelta(hours=1), timedelta(hours=1),
        timedelta(minutes=10), timedelta(minutes=5), timedelta(hours=1),
    ]


def test_users_services_channels_settings(config):
    assert config.roles_of("pelaksana") == ("pelaksana_kegiatan",)
    assert config.roles_of("pelaksana2") == ("pelaksana_kegiatan",)
    assert config.roles_of("operator") == ("operator",)
    assert config.roles_of("subkoor") == ("subkoordinator",)
    assert set(config.roles_of("admin")) == {"pelaksana_kegiatan", "operator", "subkoordinator"}
    assert config.roles_of("nobody") == ()
    assert config.holders_of("pelaksana_kegiatan") == ["admin", "pelaksana", "pelaksana2"]
    assert config.holders_of("subkoordinator") == ["admin", "subkoor"]
    assert "bimtek" in config.services and "lainnya" in config.services
    assert config.default_channels == ["website"]
    assert config.channels["website"].conn_id == "warta_website"
    assert config.channels["website"].options == WordPressOptions(category="Berita")
    assert config.dag_id == "warta_berita"
    assert config.timezone == "Asia/Jakarta"
    assert config.limits.reason_min_chars == 12
    assert [r.id for r in config.rejection_reasons][:2] == ["kutipan", "data"]
    assert config.rejection_reason("kutipan").text("en") == "Add a quote from a source"
    assert config.logins.heads_of_unit == ("kepala",)
    assert config.full_name("operator") == "Operator Website dan Medsos (dev)" and config.full_name("nobody") == "nobody"
    assert config.limits.upload_max_bytes == 50 * 1024 * 1024
    assert config.next_step("menyetujui").id == "updating"
    assert config.next_step("mendokumentasi") is None


def test_get_config_follows_warta_config_dir(config_copy, monkeypatch):
    edit_yaml(config_copy, "warta.yaml", lambda d: d.update(dag_id="warta_lain"))
    monkeypatch.setenv("WARTA_CONFIG_DIR", str(config_copy))
    assert get_config().dag_id == "warta_lain"
    monkeypatch.delenv("WARTA_CONFIG_DIR")
    assert get_config().dag_id == "warta_berita"


# ------------------------------------------------------------------- parse_duration
@pytest.mark.parametrize(
    "text, seconds",
    [("1d", 86400), ("1h", 3600), ("10m", 600), ("5m", 300), ("30s", 30), (" 2 h ", 7200), (90, 90)],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text, "here") == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["1 jam", "1w", "h", "-1h", "1.5h", "", "1H"])
def test_parse_duration_rejects(text):
    with pytest.raises(ConfigError, match="here: standard_time"):
        parse_duration(text, "here")


# ------------------------------------------------------------------ ConfigError cases
def test_unknown_step_role(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "memeriksa").update(role="editor"))
    with pytest.raises(ConfigError, match=r"steps\[2\].*role 'editor'"):
        load_config(config_copy)


def test_unknown_user_role(config_copy):
    edit_yaml(config_copy, "users.yaml", lambda d: d["users"]["operator"].update(roles=["operator", "boss"]))
    with pytest.raises(ConfigError, match=r"users.yaml operator: unknown roles \['boss'\]"):
        load_config(config_copy)


def test_bad_duration(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "updating").update(standard_time="sepuluh menit"))
    with pytest.raises(ConfigError, match=r"steps\[4\]: standard_time 'sepuluh menit'"):
        load_config(config_copy)


@pytest.mark.parametrize("missing", ["id", "name_id", "role", "kind", "standard_time"])
def test_missing_step_field(config_copy, missing):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "menyusun").pop(missing))
    with pytest.raises(ConfigError, match=rf"steps\[1\]: missing field '{missing}'"):
        load_config(config_copy)


def test_missing_channel_field(config_copy):
    edit_yaml(config_copy, "channels.yaml", lambda d: d["channels"]["website"].pop("conn_id"))
    with pytest.raises(ConfigError, match="channels.yaml website: missing field 'conn_id'"):
        load_config(config_copy)


def test_duplicate_step_ids(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "memeriksa").update(id="menyusun"))
    with pytest.raises(ConfigError, match="step ids must be unique"):
        load_config(config_copy)


def test_human_step_after_automatic(config_copy):
    def move_memeriksa_last(data):
        spec = step_spec(data, "memeriksa")
        data["steps"].remove(spec)
        data["steps"].append(spec)

    edit_yaml(config_copy, "sop.yaml", move_memeriksa_last)
    with pytest.raises(ConfigError, match="human steps must all come before the automatic steps"):
        load_config(config_copy)


def test_unknown_kind(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "pengecekan").update(kind="tweet"))
    with pytest.raises(ConfigError, match="kind 'tweet'"):
        load_config(config_copy)


def test_bad_step_id(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "pengecekan").update(id="Cek Online"))
    with pytest.raises(ConfigError, match="id 'Cek Online' must be lower-case"):
        load_config(config_copy)


def test_on_reject_must_name_an_earlier_step(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "menyetujui").update(on_reject="updating"))
    with pytest.raises(ConfigError, match="on_reject must name an earlier step"):
        load_config(config_copy)


def test_exactly_one_decision_step(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "memeriksa").update(kind="decision"))
    with pytest.raises(ConfigError, match="exactly one step of kind 'decision'"):
        load_config(config_copy)


def test_missing_file_and_bad_yaml(config_copy):
    (config_copy / "users.yaml").unlink()
    with pytest.raises(ConfigError, match="missing config file .*users.yaml"):
        load_config(config_copy)
    (config_copy / "users.yaml").write_text("users: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="users.yaml: not valid YAML"):
        load_config(config_copy)
    (config_copy / "users.yaml").write_text("- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="expected a mapping"):
        load_config(config_copy)


# --------------------------------------------- editing the SOP changes the rules, no code
def test_copy_loads_like_the_original(config_copy, config):
    assert load_config(config_copy) == config


def test_changing_the_approver_role_changes_who_may_decide(config_copy, make_service, clock):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "menyetujui").update(role="operator"))
    edited = load_config(config_copy)
    assert edited.decision_step.role == "operator"

    # The pure rule...
    waiting = Position("menyetujui", 1)
    assert workflow.check_can_record(edited, waiting, "menyetujui", "operator", ("operator",), set()).id == "menyetujui"
    with pytest.raises(PermissionDenied):
        workflow.check_can_record(edited, waiting, "menyetujui", "subkoor", ("subkoordinator",), set())

    # ...and the service built from the edited files.
    service = make_service(edited)
    item_id = service.create_item("pelaksana", title="Kunjungan agro eduwisata")["id"]
    service.record_step(item_id, "meliput", "pelaksana")
    service.record_step(item_id, "menyusun", "pelaksana", body="Naskah")
    service.record_step(item_id, "memeriksa", "admin")  # admin holds operator too
    assert service.waiting_for(role="operator")[0]["current_step"] == "menyetujui"
    assert service.waiting_for(role="subkoordinator") == []
    with pytest.raises(PermissionDenied):
        service.record_step(item_id, "menyetujui", "subkoor", decision="approve")
    result = service.record_step(item_id, "menyetujui", "operator", decision="approve")
    assert result["recorded"]["decision"] == "approved"
    assert result["current_step"] == "updating"


def test_changing_a_standard_time_changes_the_timing(config_copy, make_service, clock):
    edit_yaml(config_copy, "sop.yaml", lambda d: step_spec(d, "memeriksa").update(standard_time="2h"))
    edited = load_config(config_copy)
    assert edited.step("memeriksa").standard_time == timedelta(hours=2)

    service = make_service(edited)
    item_id = service.create_item("pelaksana", title="Layanan UPBS")["id"]
    service.record_step(item_id, "meliput", "pelaksana")
    service.record_step(item_id, "menyusun", "pelaksana", body="Naskah")
    clock.advance(90 * 60)  # 1.5 h: late under the original SOP, within the edited one
    service.record_step(item_id, "memeriksa", "operator")
    timing = next(t for t in service.history(item_id)["timings"] if t["step"] == "memeriksa")
    assert timing["standard_seconds"] == 7200
    assert timing["duration_seconds"] == 5400
    assert timing["within_standard"] is True


def test_missing_role_field(config_copy):
    edit_yaml(config_copy, "sop.yaml", lambda d: d["roles"]["operator"].pop("name_id"))
    with pytest.raises(ConfigError, match="sop.yaml roles operator: missing field 'name_id'"):
        load_config(config_copy)


def test_unknown_limit_setting(config_copy):
    edit_yaml(config_copy, "warta.yaml", lambda d: d["limits"].update(upload_max_byte=10))
    with pytest.raises(ConfigError, match=r"warta.yaml limits: unknown settings \['upload_max_byte'\]"):
        load_config(config_copy)


# ------------------------------------------------------------------ production logins
def test_sop_roles_map_to_airflow_roles_for_production_logins(config):
    logins = config.logins
    names = {role_id: role.name_id for role_id, role in config.roles.items()}
    assert logins.role_permissions == {"pelaksana_kegiatan": "User", "operator": "User", "subkoordinator": "Viewer"}
    assert logins.airflow_roles_of("pelaksana", config.roles_of("pelaksana"), names) == ["Pelaksana Kegiatan"]
    assert logins.airflow_roles_of("subkoor", config.roles_of("subkoor"), names) == ["Subkoordinator"]
    # No SOP role: the head of the unit reads.
    assert logins.airflow_roles_of("kepala", config.roles_of("kepala"), names) == ["Viewer"]
    admin = logins.airflow_roles_of("admin", config.roles_of("admin"), names)
    assert "Admin" in admin and "Pelaksana Kegiatan" in admin
    assert logins.service_conn_id == "warta_airflow_api"


def test_a_role_left_out_of_the_login_mapping_reads_only(config_copy):
    edit_yaml(config_copy, "warta.yaml", lambda d: d["logins"]["role_permissions"].pop("operator"))
    assert load_config(config_copy).logins.role_permissions["operator"] == "Viewer"


@pytest.mark.parametrize("edit, message", [
    (lambda d: d["logins"]["role_permissions"].update(editor="User"), r"role_permissions: 'editor'"),
    (lambda d: d["logins"]["role_permissions"].update(operator="Root"), r"role_permissions.operator: 'Root'"),
    (lambda d: d["logins"].update(admins=["nobody"]), r"admins: \['nobody'\]"),
    (lambda d: d["logins"].update(reader_role="Guest"), r"reader_role: 'Guest'"),
    (lambda d: d["logins"].update(colour="red"), r"unknown settings \['colour'\]"),
])
def test_bad_login_settings_are_refused(config_copy, edit, message):
    edit_yaml(config_copy, "warta.yaml", edit)
    with pytest.raises(ConfigError, match=rf"warta.yaml logins.*{message}"):
        load_config(config_copy)


def test_separation_of_duties_and_reason_limits_are_validated(tmp_path):
    import shutil

    import pytest
    import yaml

    from warta.config import DEFAULT_CONFIG_DIR, ConfigError, load_config

    folder = tmp_path / "config"
    shutil.copytree(DEFAULT_CONFIG_DIR, folder)
    loaded = load_config(folder)
    assert loaded.duties.checker_not_author and loaded.duties.decider_not_author
    assert loaded.limits.reason_max_chars == 2000
    sop = yaml.safe_load((folder / "sop.yaml").read_text())
    sop["separation_of_duties"] = {"checker_not_author": "yes"}
    (folder / "sop.yaml").write_text(yaml.safe_dump(sop))
    with pytest.raises(ConfigError, match="checker_not_author"):
        load_config(folder)
    sop["separation_of_duties"] = {"nobody_at_all": True}
    (folder / "sop.yaml").write_text(yaml.safe_dump(sop))
    with pytest.raises(ConfigError, match="unknown settings"):
        load_config(folder)
    sop["separation_of_duties"] = {}
    (folder / "sop.yaml").write_text(yaml.safe_dump(sop))
    settings = yaml.safe_load((folder / "warta.yaml").read_text())
    settings["limits"]["reason_max_chars"] = 2
    (folder / "warta.yaml").write_text(yaml.safe_dump(settings))
    with pytest.raises(ConfigError, match="reason_max_chars"):
        load_config(folder)


# ------------------------------------------------------------------ typed models: errors name the file and key
@pytest.mark.parametrize("name, edit, message", [
    ("channels.yaml", lambda d: d["channels"]["website"].update(categori="Berita"),
     r"channels.yaml website: unknown settings \['categori'\]"),
    ("channels.yaml", lambda d: d["channels"]["instagram"].update(status_poll_seconds=-1),
     r"channels.yaml instagram: status_poll_seconds -1 is not valid"),
    ("channels.yaml", lambda d: d["channels"]["x"]["caption"].update(max_chars="banyak"),
     r"channels.yaml x caption.max_chars: 'banyak' is not valid"),
    ("channels.yaml", lambda d: d["channels"]["facebook"]["images"].update(formats=["BMP"]),
     r"channels.yaml facebook images.formats\[0\]: 'BMP' is not one of 'JPEG', 'PNG', 'GIF' or 'WEBP'"),
    ("channels.yaml", lambda d: d["channels"]["instagram"]["images"].update(min_aspect="4:0"),
     r"channels.yaml instagram images.min_aspect: '4:0' is not a ratio like 4:5"),
    ("channels.yaml", lambda d: d["channels"]["website"].update(kind="youtube"),
     r"^channels.yaml website: kind 'youtube' is not one of 'wordpress', 'facebook_page', 'instagram' or 'x'$"),
    ("channels.yaml", lambda d: d["graph_api"]["expires"].update({"v27": "2029-01-01"}),
     r"channels.yaml graph_api expires.v27: 'v27' is not a version like v26.0"),
    ("sop.yaml", lambda d: d["sop"].update(timezone="Asia/Jakarta_Selatan"),
     r"sop.yaml sop timezone: 'Asia/Jakarta_Selatan' is not a timezone"),
    ("sop.yaml", lambda d: d["steps"][0].update(once_per_item="kadang"), r"sop.yaml steps\[0\]: once_per_item 'kadang'"),
    ("warta.yaml", lambda d: d["limits"].update(upload_max_bytes=True, title_max_chars=-1),
     r"warta.yaml limits title_max_chars: -1 is not valid.*; warta.yaml limits upload_max_bytes: True is not valid"),
    ("warta.yaml", lambda d: d.update(servis_levels={}), r"^warta.yaml: unknown settings \['servis_levels'\]$"),
    ("warta.yaml", lambda d: d["logins"].update(throttle_window="lama"),
     r"warta.yaml logins throttle_window: 'lama' is not like '1d', '1h', '10m' or '30s'"),
    ("warta.yaml", lambda d: d.update(max_active_runs=0), r"warta.yaml max_active_runs: 0 is not valid"),
    ("users.yaml", lambda d: d["users"]["operator"].update(roles="operator"), r"users.yaml operator: roles 'operator'"),
    ("users.yaml", lambda d: d["users"]["operator"].update(telepon="0812"),
     r"users.yaml operator: unknown settings \['telepon'\]"),
])
def test_bad_config_names_the_file_and_the_key(config_copy, name, edit, message):
    edit_yaml(config_copy, name, edit)
    with pytest.raises(ConfigError, match=message):
        load_config(config_copy)


def test_channel_options_are_typed_per_kind(config):
    from warta.channel_options import InstagramOptions, WordPressOptions, XOptions

    website, instagram, x = (config.channels[c].options for c in ("website", "instagram", "x"))
    assert isinstance(website, WordPressOptions) and website.category == "Berita" and website.tags == ()
    assert isinstance(instagram, InstagramOptions) and instagram.image_host_conn_id == "warta_website"
    assert instagram.status_poll_seconds == 5.0 and instagram.images.min_aspect == pytest.approx(0.8)
    assert isinstance(x, XOptions) and x.caption.counting == "x_weighted" and x.link_from == "website"
    assert x.freshness_days is None  # the service_levels default applies


def test_a_setting_of_another_kind_is_refused(config_copy):
    # A WordPress category on the X channel is a typo or a misunderstanding, not an option.
    edit_yaml(config_copy, "channels.yaml", lambda d: d["channels"]["x"].update(category="Berita"))
    with pytest.raises(ConfigError, match=r"channels.yaml x: unknown settings \['category'\]"):
        load_config(config_copy)


def test_the_deployment_address_comes_from_the_environment(config_copy, monkeypatch):
    monkeypatch.setenv("WARTA_BASE_URL", "https://warta.example.go.id")
    assert load_config(config_copy).service_levels.item_link(7) == "https://warta.example.go.id/warta/items/7"


@pytest.mark.parametrize("section, message", [
    ({"list_limit": -1}, "warta.yaml report list_limit: -1 is not valid"),
    ({"language": "fr"}, "warta.yaml report language: 'fr' is not one of"),
    ({"letterhead": {"hierarchy": "Kementerian"}}, "warta.yaml report letterhead.hierarchy:"),
    ({"prepared_by": {"name": "Ani"}}, "warta.yaml report prepared_by: missing field 'title_id'"),
    ({"number_pattern": "{nomor}"}, "warta.yaml report number_pattern: only {year}, {month} and {month_roman}"),
    ({"dag_id": "laporan bulanan"}, "warta.yaml report dag_id: 'laporan bulanan' is not a valid DAG id"),
    ({"list_limt": 5}, "warta.yaml report: unknown settings ['list_limt']"),
])
def test_a_bad_report_section_names_the_file_and_key(section, message):
    from warta.report.settings import parse_report_settings

    with pytest.raises(ConfigError) as raised:
        parse_report_settings(section)
    assert message in str(raised.value)


def test_the_report_section_reads_a_numeric_nip_as_text():
    from warta.report.settings import parse_report_settings

    settings = parse_report_settings({"prepared_by": {"title_id": "Operator", "nip": 199001012020121001}})
    assert settings.prepared_by.nip == "199001012020121001" and settings.prepared_by.title_en == "Operator"


def test_rejection_reasons_and_heads_of_unit_are_checked(config_copy):
    edit_yaml(config_copy, "warta.yaml", lambda d: d["rejection_reasons"].append(dict(d["rejection_reasons"][0])))
    with pytest.raises(ConfigError, match="rejection_reasons: ids must be unique"):
        load_config(config_copy)
    edit_yaml(config_copy, "warta.yaml", lambda d: (d["rejection_reasons"].pop(), d["logins"].update(heads_of_unit=["siapa"])))
    with pytest.raises(ConfigError, match=r"logins heads_of_unit: \['siapa'\] are not in users.yaml"):
        load_config(config_copy)

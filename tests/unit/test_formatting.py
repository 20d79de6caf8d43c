"""One formatting module: dates, moments, durations and numbers in id/en and the SOP's zone."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from warta.formatting import Formatter, formatter

# 01:00 UTC on Thursday 26 November 2026: 08:00 in Jakarta, 09:00 in Makassar, 10:00 in Jayapura.
MOMENT = datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc)


def test_the_styles_in_indonesian():
    wib = formatter("id", "Asia/Jakarta")
    # One format of a moment everywhere (desk, report, CLI, sandboxes).
    assert wib.moment(MOMENT) == wib.datetime(MOMENT) == wib.medium_datetime(MOMENT) == "26 Nov 2026 08.00 WIB"
    assert wib.moment(datetime(2026, 12, 2, 7, 5, tzinfo=timezone.utc)) == "2 Des 2026 14.05 WIB"
    assert wib.long_datetime(MOMENT) == "Kamis, 26 November 2026 08.00 WIB"
    assert wib.compact_datetime(MOMENT) == "26/11 08.00"
    assert wib.date(MOMENT) == "26 November 2026" and wib.medium_date("2026-08-05") == "5 Agu 2026"
    assert wib.short_date(date(2026, 1, 2)) == "02/01/2026" and wib.month_name(2026, 8) == "Agustus 2026"


def test_the_styles_in_english():
    en = formatter("en", "Asia/Jakarta")
    assert en.datetime(MOMENT) == "26 Nov 2026 08:00 WIB"
    assert en.medium_datetime(MOMENT.isoformat()) == "26 Nov 2026 08:00 WIB"
    assert en.long_datetime(MOMENT) == "Thursday, 26 November 2026 08:00 WIB"
    assert en.compact_datetime(MOMENT) == "11-26 08:00"


@pytest.mark.parametrize("zone, clock, label", [
    ("Asia/Jakarta", "08.00", "WIB"), ("Asia/Makassar", "09.00", "WITA"), ("Asia/Jayapura", "10.00", "WIT")])
def test_every_unit_gets_its_own_zone_label(zone, clock, label):
    formats = Formatter("id", zone)
    assert formats.medium_datetime(MOMENT) == f"26 Nov 2026 {clock} {label}"
    assert formats.tzname == label


def test_a_zone_with_summer_time_labels_each_moment_by_its_own_offset():
    berlin = Formatter("en", "Europe/Berlin")
    assert berlin.datetime(datetime(2026, 7, 1, 10, tzinfo=timezone.utc)) == "1 Jul 2026 12:00 CEST"
    assert berlin.datetime(datetime(2026, 12, 1, 10, tzinfo=timezone.utc)) == "1 Dec 2026 11:00 CET"


def test_a_moment_near_midnight_takes_the_local_date():
    assert formatter("id", "Asia/Jakarta").short_date(datetime(2026, 10, 31, 17, 30, tzinfo=timezone.utc)) == "01/11/2026"


def test_durations():
    wib = formatter("id", "Asia/Jakarta")
    assert wib.duration(90061) == "1 hari 1 jam"
    assert wib.duration(timedelta(days=1, minutes=5)) == "1 hari 5 menit"
    assert wib.duration(timedelta(days=1, hours=2, minutes=5), parts=None) == "1 hari 2 jam 5 menit"
    assert wib.duration(30) == "kurang dari 1 menit" and wib.duration(None) == "–"
    assert wib.duration(250, smallest="second") == "4 menit 10 detik" and wib.duration(0, smallest="second") == "0 detik"
    assert formatter("en", "UTC").duration(300, smallest="second") == "5 min"


def test_numbers_follow_the_language():
    assert formatter("id", "UTC").number(1234567) == "1.234.567"
    assert formatter("id", "UTC").number(1234.5, 1) == "1.234,5"
    assert formatter("en", "UTC").number(1234.5, 1) == "1,234.5"
    assert formatter("id", "UTC").percent(0.125) == "12,5%" and formatter("en", "UTC").signed(-3) == "−3"


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="language 'fr'"):
        Formatter("fr", "Asia/Jakarta")


def test_a_pattern_field_the_compiler_does_not_know_falls_back_to_babel():
    from babel import Locale

    from warta.formatting import _compile

    render = _compile("QQQQ y", Locale.parse("en_GB"), timezone.utc)
    assert render(MOMENT) == "4th quarter 2026"


def test_file_sizes_follow_the_language():
    assert formatter("id", "UTC").file_size(52428800) == "50,0 MB" and formatter("id", "UTC").file_size(12) == "12 B"
    assert formatter("en", "UTC").file_size(1536) == "1.5 KB" and formatter("en", "UTC").file_size(None) == "0 B"

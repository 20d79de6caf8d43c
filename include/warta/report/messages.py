"""The report's words and number/date formats, in Bahasa Indonesia (default) and English."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

MONTHS = {
    "id": ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
           "November", "Desember"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"),
}

MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "title": "Laporan Bulanan Updating Website dan Media Sosial",
        "period": "Periode",
        "sop_number": "Nomor SOP",
        "sop_name": "Nama SOP",
        "unit": "Unit",
        "generated": "Dibuat",
        "summary": "Ringkasan",
        "figure": "Uraian",
        "this_month": "Bulan ini",
        "previous_month": "Bulan lalu",
        "change": "Perubahan",
        "items_published": "Berita tayang",
        "publications": "Publikasi (unggahan per kanal)",
        "items_registered": "Berita didaftarkan",
        "rejections_count": "Penolakan",
        "in_progress_count": "Berita dalam proses pada akhir bulan",
        "steps_done": "Langkah SOP diselesaikan",
        "share_within_standard": "Langkah dalam mutu baku",
        "nothing_published": "Tidak ada berita yang tayang pada bulan ini.",
        "no_activity": "Tidak ada kegiatan yang tercatat pada bulan ini: tidak ada berita tayang, tidak ada "
                       "langkah SOP yang diselesaikan, dan tidak ada berita dalam proses.",
        "per_channel": "Publikasi per kanal",
        "per_service": "Berita per layanan terkait (Keterkaitan SOP)",
        "per_author": "Berita per penulis",
        "channel": "Kanal",
        "service": "Layanan terkait",
        "author": "Penulis",
        "no_authors": "Tidak ada penulis dengan berita tayang pada bulan ini atau bulan lalu.",
        "items": "Daftar berita tayang",
        "item_id": "No. berita",
        "number_short": "No.",
        "rounds_short": "Putaran",
        "activity_short": "Kegiatan",
        "published_short": "Tayang",
        "item_title": "Judul",
        "activity_date": "Tanggal kegiatan",
        "registered": "Didaftarkan",
        "first_published": "Tayang pertama",
        "channels_links": "Kanal dan tautan",
        "rounds": "Putaran revisi",
        "online_check": "Cek online",
        "check_ok": "Baik",
        "check_failed": "Gagal",
        "check_unchecked": "Belum dicek",
        "check_publish_failed": "Gagal tayang",
        "post_pending": "Belum tayang",
        "post_failed": "Gagal tayang",
        "no_items": "Tidak ada berita yang tayang pada bulan ini.",
        "list_limited": "Ditampilkan {shown} dari {total} baris; daftar lengkap ada di berkas XLSX.",
        "rounds_table": "Putaran revisi per berita",
        "rounds_count": "Putaran revisi",
        "items_count": "Jumlah berita",
        "service_levels": "Mutu baku per langkah SOP",
        "step": "Langkah",
        "standard_time": "Mutu baku (waktu)",
        "done": "Selesai",
        "median": "Median",
        "p90": "9 dari 10 selesai dalam",
        "share_within": "Dalam mutu baku",
        "breaches": "Lewat batas",
        "worst_cases": "Langkah yang paling jauh melampaui mutu baku",
        "no_worst_cases": "Tidak ada langkah yang melampaui mutu baku pada bulan ini.",
        "duration": "Durasi",
        "round": "Putaran",
        "started": "Mulai",
        "ended": "Selesai",
        "rejections": "Penolakan dan alasannya",
        "rejected_at": "Ditolak",
        "rejected_by": "Oleh",
        "reason": "Alasan",
        "no_rejections": "Tidak ada penolakan pada bulan ini.",
        "freshness": "Kemutakhiran kanal (Peringatan SOP)",
        "freshness_warning": "Peringatan SOP: website dan sosial media perlu selalu update untuk memberikan "
                             "informasi terkini.",
        "longest_gap": "Jeda terpanjang tanpa publikasi",
        "gap_from_to": "Dari – sampai",
        "days_without": "Hari tanpa publikasi",
        "in_progress": "Berita dalam proses pada akhir bulan",
        "waiting_at": "Menunggu di langkah",
        "waiting_since": "Menunggu sejak",
        "waited": "Lama menunggu (akhir bulan)",
        "overdue": "Melampaui mutu baku",
        "yes": "Ya",
        "no": "Tidak",
        "no_in_progress": "Tidak ada berita dalam proses pada akhir bulan.",
        "charts": "Grafik",
        "chart_per_day": "Publikasi per hari",
        "chart_compliance": "Persentase langkah dalam mutu baku",
        "day": "Tanggal",
        "total": "Jumlah",
        "no_data": "tidak ada data",
        "signature_place_date": "{place}, {date}",
        "prepared_by": "Disusun oleh,",
        "approved_by": "Mengetahui,",
        "nip": "NIP",
        "definitions": "Catatan definisi",
        "definition_month": "Bulan dihitung dalam waktu {tz} ({tzname}): pukul 00.00 tanggal 1 sampai sebelum pukul "
                            "00.00 tanggal 1 bulan berikutnya.",
        "definition_published": "Publikasi = satu unggahan berita pada satu kanal yang berhasil tayang; masuk "
                                "bulan ini bila waktu tayangnya dalam bulan ini. Berita tayang = berita yang "
                                "publikasi pertamanya dalam bulan ini.",
        "definition_author": "Penulis = pengisi naskah terakhir (langkah 2), atau pendaftar berita bila tidak ada.",
        "definition_levels": "Mutu baku: langkah yang selesai dalam bulan ini. Sebuah langkah dalam mutu baku "
                             "bila dicatat selesai paling lambat pada batas waktunya, dihitung dengan jam kerja "
                             "(tanpa malam, akhir pekan dan hari libur) untuk langkah manusia, atau waktu berjalan "
                             "untuk langkah otomatis, sama seperti pada kotak masuk dan pengingat. Median = separuh "
                             "langkah selesai dalam waktu itu; \"9 dari 10\" = sembilan dari sepuluh langkah "
                             "selesai dalam waktu itu (durasi menurut jam dinding).",
        "definition_freshness": "Kemutakhiran: hari kerja tanpa publikasi di antara dua publikasi (dari awal "
                                "bulan sampai akhir bulan), menurut tanggal {tzname}, tanpa akhir pekan dan hari "
                                "libur; sesuai bila jeda terpanjang tidak lebih dari batas hari kerja.",
        "definition_in_progress": "Dalam proses: berita yang langkahnya sudah dimulai sebelum akhir bulan dan "
                                  "belum selesai pada akhir bulan.",
        "definition_limit": "PDF dan XLSX memuat semua baris. Daftar yang lebih dari {threshold} baris dimuat "
                            "lengkap di Lampiran PDF (di badan laporan {limit} baris pertama); HTML memuat paling "
                            "banyak {limit} baris per daftar.",
        "shown_annex": "Ditampilkan {shown} dari {total} baris; daftar lengkap ada di Lampiran dokumen ini dan "
                       "di berkas XLSX.",
        "page": "Halaman",
        "of": "dari",
        "sheet_summary": "Ringkasan",
        "sheet_channels": "Per kanal",
        "sheet_services": "Per layanan",
        "sheet_authors": "Per penulis",
        "sheet_items": "Berita",
        "sheet_rounds": "Putaran revisi",
        "sheet_levels": "Mutu baku",
        "sheet_worst": "Paling lama",
        "sheet_rejections": "Penolakan",
        "sheet_freshness": "Kemutakhiran",
        "sheet_in_progress": "Dalam proses",
        "sheet_per_day": "Per hari",
        "link": "tautan",
        "status": "Status",
        "seconds": "detik",
        "days_count": "Jumlah hari",
        "dates": "Tanggal",
        "role": "Peran",
        "publications_short": "Publikasi",
        "percent_col": "Persen",
        "field": "Isian",
        "value": "Nilai",
        "report_number": "Nomor",
        "sheet_failures": "Kegagalan",
        "sheet_trend": "Tren",
        "sheet_alerts": "Peringatan",
        "error_raw": "Pesan platform",
        "attempts_col": "Percobaan",
        "resolved_col": "Teratasi",
        "change_percent": "Perubahan (%)",
        "failures": "Kegagalan dan kendala",
        "failures_intro": "Setiap kegagalan tayang dan cek online yang gagal pada bulan ini; yang belum teratasi di atas dan ditandai.",
        "no_failures": "Tidak ada kegagalan tayang maupun cek online yang gagal pada bulan ini.",
        "failure_kind": "Jenis",
        "failure_publish": "Gagal tayang",
        "failure_check": "Cek online gagal",
        "error": "Kesalahan",
        "when": "Waktu",
        "resolution": "Penyelesaian",
        "unresolved": "Belum teratasi",
        "resolved_at": "Teratasi {when}",
        "attempts": "{count} kali",
        "stuck": "Berita tertahan melampaui mutu baku pada akhir bulan",
        "no_stuck": "Tidak ada berita yang tertahan melampaui mutu baku pada akhir bulan.",
        "stuck_reason": "Sebab",
        "stuck_waiting_for": "Menunggu {role} mencatat langkah ini",
        "stuck_pipeline": "Proses otomatis belum selesai",
        "stuck_failed": "Gagal tayang: {error}",
        "due": "Batas waktu",
        "trend": "Tren enam bulan dan tahun berjalan",
        "month": "Bulan",
        "year_to_date": "Januari s.d. {month} {year}",
        "trend_change": "Perubahan terhadap bulan lalu",
        "chart_trend": "Berita tayang dan publikasi per bulan",
        "alerts": "Pengingat dan peringatan",
        "alerts_per_step": "Per langkah SOP",
        "alerts_per_person": "Per penerima",
        "no_alerts": "Tidak ada pengingat maupun peringatan pada bulan ini.",
        "alert_reminder": "Pengingat",
        "alert_breach": "Melampaui mutu baku",
        "alert_escalation": "Eskalasi",
        "alert_freshness": "Kemutakhiran",
        "alert_other": "Lainnya",
        "person": "Penerima",
        "freshness_verdict": "Penilaian",
        "freshness_ok": "Sesuai",
        "freshness_late": "Tidak sesuai",
        "freshness_unwatched": "Tidak dipantau",
        "freshness_limit": "Batas (hari kerja)",
        "working_days_without": "Hari kerja tanpa publikasi",
        "gap_working_days": "{days} hari kerja",
        "narrative": "Uraian",
        "draft_summary": "Pada bulan ini {items} berita tayang dalam {posts} publikasi (bulan lalu {previous} "
                         "berita). {share} langkah SOP selesai dalam mutu baku ({change} dibanding bulan lalu).",
        "draft_failures": "{count} kegagalan tayang atau cek online, {open} di antaranya belum teratasi",
        "draft_rejections": "{count} penolakan naskah",
        "draft_stuck": "{count} berita tertahan melampaui mutu baku pada akhir bulan",
        "draft_late": "kanal yang tidak mutakhir: {channels}",
        "draft_problems": "Tercatat {list}.",
        "draft_no_problems": "Tidak ada permasalahan yang tercatat.",
        "follow_failures": "Operator menayangkan ulang atau memperbaiki publikasi yang gagal",
        "follow_stuck": "pemegang langkah yang tertahan menyelesaikannya",
        "follow_late": "Operator menjadwalkan publikasi rutin pada kanal yang tidak mutakhir",
        "follow_none": "Mempertahankan kinerja bulan ini.",
        "narrative_summary": "Ringkasan",
        "narrative_problems": "Permasalahan",
        "narrative_follow_up": "Tindak lanjut",
        "annex": "Lampiran: daftar seluruh berita tayang",
        "annex_failures": "Lampiran: seluruh kegagalan tayang dan cek online",
        "annex_rejections": "Lampiran: seluruh penolakan dan alasannya",
        "annex_in_progress": "Lampiran: seluruh berita dalam proses pada akhir bulan",
        "annex_note": "Seluruh {total} berita tayang bulan ini tercantum dalam Lampiran di akhir dokumen ini (satu baris per berita).",
        "annex_page": "Lampiran · Halaman {page} dari {pages}",
        "running_number": "No.",
        "annex_count": "{count} berita",
        "since": "Sejak",
        "channels_short": "Kanal",
        "legend_channels": "Kanal: W = Website, F = Facebook, I = Instagram, X = X, Y = YouTube; tanda ! = gagal.",
    },
    "en": {
        "title": "Monthly Report: Updating the Website and Social Media",
        "period": "Period",
        "sop_number": "SOP number",
        "sop_name": "SOP name",
        "unit": "Unit",
        "generated": "Generated",
        "summary": "Summary",
        "figure": "Figure",
        "this_month": "This month",
        "previous_month": "Previous month",
        "change": "Change",
        "items_published": "News items published",
        "publications": "Publications (posts per channel)",
        "items_registered": "News items registered",
        "rejections_count": "Rejections",
        "in_progress_count": "Items in progress at month end",
        "steps_done": "SOP steps completed",
        "share_within_standard": "Steps within the standard time",
        "nothing_published": "No news item was published this month.",
        "no_activity": "Nothing was recorded this month: no item published, no SOP step completed and no item "
                       "in progress.",
        "per_channel": "Publications per channel",
        "per_service": "Items per related service (SOP Keterkaitan)",
        "per_author": "Items per author",
        "channel": "Channel",
        "service": "Related service",
        "author": "Author",
        "no_authors": "No author had an item published this month or the month before.",
        "items": "Items published",
        "item_id": "Item no.",
        "number_short": "No.",
        "rounds_short": "Rounds",
        "activity_short": "Activity",
        "published_short": "Published",
        "item_title": "Title",
        "activity_date": "Activity date",
        "registered": "Registered",
        "first_published": "First published",
        "channels_links": "Channels and links",
        "rounds": "Revision rounds",
        "online_check": "Online check",
        "check_ok": "OK",
        "check_failed": "Failed",
        "check_unchecked": "Not checked",
        "check_publish_failed": "Publishing failed",
        "post_pending": "Not published yet",
        "post_failed": "Publishing failed",
        "no_items": "No news item was published this month.",
        "list_limited": "Showing {shown} of {total} rows; the XLSX file has the full list.",
        "rounds_table": "Revision rounds per item",
        "rounds_count": "Rounds",
        "items_count": "Items",
        "service_levels": "Service levels per SOP step",
        "step": "Step",
        "standard_time": "Standard time",
        "done": "Done",
        "median": "Median",
        "p90": "9 in 10 done within",
        "share_within": "Within standard",
        "breaches": "Over",
        "worst_cases": "Steps furthest over the standard time",
        "no_worst_cases": "No step went over its standard time this month.",
        "duration": "Duration",
        "round": "Round",
        "started": "Started",
        "ended": "Ended",
        "rejections": "Rejections and their reasons",
        "rejected_at": "Rejected",
        "rejected_by": "By",
        "reason": "Reason",
        "no_rejections": "No rejections this month.",
        "freshness": "Channels kept up to date (SOP warning)",
        "freshness_warning": "SOP warning: the website and social media must always be kept up to date with "
                             "current information.",
        "longest_gap": "Longest gap without a post",
        "gap_from_to": "From – to",
        "days_without": "Days without a post",
        "in_progress": "Items in progress at month end",
        "waiting_at": "Waiting at step",
        "waiting_since": "Waiting since",
        "waited": "Waited (at month end)",
        "overdue": "Over the standard time",
        "yes": "Yes",
        "no": "No",
        "no_in_progress": "No item was in progress at month end.",
        "charts": "Charts",
        "chart_per_day": "Publications per day",
        "chart_compliance": "Share of steps within the standard time",
        "day": "Date",
        "total": "Total",
        "no_data": "no data",
        "signature_place_date": "{place}, {date}",
        "prepared_by": "Prepared by,",
        "approved_by": "Acknowledged by,",
        "nip": "NIP",
        "definitions": "Definitions",
        "definition_month": "Months are counted in {tz} time ({tzname}): from 00:00 on the 1st to before 00:00 on "
                            "the 1st of the next month.",
        "definition_published": "Publication = one post of an item on one channel with status published; it "
                                "belongs to the month its published_at falls in. Item published = an item whose "
                                "first publication falls in the month.",
        "definition_author": "Author = who wrote the latest manuscript version (step 2), else who registered "
                             "the item.",
        "definition_levels": "Service levels: steps that ended in the month. A step is within the standard "
                             "time when recorded no later than its due time, counted in working hours (no nights, "
                             "weekends or holidays) for human steps and around the clock for automatic ones, as "
                             "in the inbox and the reminders. Median = half the steps were done within it; "
                             "\"9 in 10\" = nine in ten were (wall-clock durations).",
        "definition_freshness": "Up to date: working days without a post between two posts (from the month's "
                                "start to its end), by {tzname} date, weekends and holidays not counted; met when "
                                "the longest gap is no longer than the limit.",
        "definition_in_progress": "In progress: items with a step started before the month ended and not "
                                  "finished by then.",
        "definition_limit": "The PDF and XLSX list every row. Lists over {threshold} rows are listed whole "
                            "in the PDF's Annex (the report's body shows the first {limit}); the HTML shows at "
                            "most {limit} rows per list.",
        "shown_annex": "Showing {shown} of {total} rows; the full list is in this document's Annex and in the "
                       "XLSX file.",
        "page": "Page",
        "of": "of",
        "sheet_summary": "Summary",
        "sheet_channels": "Per channel",
        "sheet_services": "Per service",
        "sheet_authors": "Per author",
        "sheet_items": "Items",
        "sheet_rounds": "Revision rounds",
        "sheet_levels": "Service levels",
        "sheet_worst": "Furthest over",
        "sheet_rejections": "Rejections",
        "sheet_freshness": "Up to date",
        "sheet_in_progress": "In progress",
        "sheet_per_day": "Per day",
        "link": "link",
        "status": "Status",
        "seconds": "seconds",
        "days_count": "Days",
        "dates": "Dates",
        "role": "Role",
        "publications_short": "Publications",
        "percent_col": "Percent",
        "field": "Field",
        "value": "Value",
        "report_number": "Number",
        "sheet_failures": "Failures",
        "sheet_trend": "Trend",
        "sheet_alerts": "Alerts",
        "error_raw": "Platform message",
        "attempts_col": "Attempts",
        "resolved_col": "Resolved",
        "change_percent": "Change (%)",
        "failures": "Failures and problems",
        "failures_intro": "Every publishing failure and failed online check this month; still-open ones first and highlighted.",
        "no_failures": "No publishing failure and no failed online check this month.",
        "failure_kind": "Kind",
        "failure_publish": "Publishing failed",
        "failure_check": "Online check failed",
        "error": "Error",
        "when": "When",
        "resolution": "Resolution",
        "unresolved": "Not resolved",
        "resolved_at": "Resolved {when}",
        "attempts": "{count} times",
        "stuck": "Items held past the standard time at month end",
        "no_stuck": "No item was held past its standard time at month end.",
        "stuck_reason": "Reason",
        "stuck_waiting_for": "Waiting for the {role} to record this step",
        "stuck_pipeline": "The automatic process has not finished",
        "stuck_failed": "Publishing failed: {error}",
        "due": "Due",
        "trend": "Six-month trend and year to date",
        "month": "Month",
        "year_to_date": "January to {month} {year}",
        "trend_change": "Change against the previous month",
        "chart_trend": "Items published and publications per month",
        "alerts": "Reminders and warnings",
        "alerts_per_step": "Per SOP step",
        "alerts_per_person": "Per recipient",
        "no_alerts": "No reminders or warnings this month.",
        "alert_reminder": "Reminders",
        "alert_breach": "Over standard",
        "alert_escalation": "Escalations",
        "alert_freshness": "Up-to-dateness",
        "alert_other": "Other",
        "person": "Recipient",
        "freshness_verdict": "Verdict",
        "freshness_ok": "Met",
        "freshness_late": "Not met",
        "freshness_unwatched": "Not watched",
        "freshness_limit": "Limit (working days)",
        "working_days_without": "Working days without a post",
        "gap_working_days": "{days} working days",
        "narrative": "Narrative",
        "draft_summary": "This month {items} items were published in {posts} posts (previous month {previous}). "
                         "{share} of SOP steps were within the standard time ({change} against the previous "
                         "month).",
        "draft_failures": "{count} publishing or check failures, {open} still open",
        "draft_rejections": "{count} rejections",
        "draft_stuck": "{count} items held past the standard time at month end",
        "draft_late": "channels not kept up to date: {channels}",
        "draft_problems": "Recorded: {list}.",
        "draft_no_problems": "No problems were recorded.",
        "follow_failures": "the Operator republishes or fixes the failed posts",
        "follow_stuck": "whoever holds a stuck step completes it",
        "follow_late": "the Operator schedules regular posts on the channels not kept up to date",
        "follow_none": "Keep up this month's performance.",
        "narrative_summary": "Summary",
        "narrative_problems": "Problems",
        "narrative_follow_up": "Follow-up",
        "annex": "Annex: every item published",
        "annex_failures": "Annex: every publishing failure and failed online check",
        "annex_rejections": "Annex: every rejection and its reason",
        "annex_in_progress": "Annex: every item in progress at month end",
        "annex_note": "All {total} items published this month are listed in the Annex at the end of this document (one line per item).",
        "annex_page": "Annex · Page {page} of {pages}",
        "running_number": "No.",
        "annex_count": "{count} items",
        "since": "Since",
        "channels_short": "Channels",
        "legend_channels": "Channels: W = Website, F = Facebook, I = Instagram, X = X, Y = YouTube; ! = failed.",
    },
}

_UNITS = {
    "id": (("hari", 86400), ("jam", 3600), ("menit", 60), ("detik", 1)),
    "en": (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)),
}


# The reach section keeps its words beside its figures (warta.report.reach).
from warta.report.reach import REACH_MESSAGES  # noqa: E402

for _lang, _words in REACH_MESSAGES.items():
    MESSAGES[_lang].update(_words)


class Messages:
    """Words and formats for one language, bound to the SOP's timezone."""

    def __init__(self, lang: str, timezone_name: str):
        if lang not in MESSAGES:
            raise ValueError(f"language {lang!r} is not one of {sorted(MESSAGES)}")
        self.lang = lang
        self.tz = ZoneInfo(timezone_name)
        self.timezone_name = timezone_name

    def __call__(self, key: str, **values) -> str:
        text = MESSAGES[self.lang][key]
        return text.format(**values) if values else text

    @property
    def tzname(self) -> str:
        """The zone's abbreviation, e.g. WIB."""
        return datetime.now(self.tz).tzname() or self.timezone_name

    def month_name(self, year: int, month: int) -> str:
        return f"{MONTHS[self.lang][month - 1]} {year}"

    def date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return f"{value.day} {MONTHS[self.lang][value.month - 1]} {value.year}"

    def short_date(self, value: date | datetime | None) -> str:
        if value is None:
            return "–"
        if isinstance(value, datetime):
            value = value.astimezone(self.tz).date()
        return value.strftime("%d/%m/%Y") if self.lang == "id" else value.isoformat()

    def datetime(self, value: datetime | None) -> str:
        """Local date and time with the zone, e.g. 31/10/2026 23.30 WIB."""
        if value is None:
            return "–"
        local = value.astimezone(self.tz)
        clock = local.strftime("%H.%M") if self.lang == "id" else local.strftime("%H:%M")
        return f"{self.short_date(local)} {clock} {local.tzname()}"

    def local_naive(self, value: datetime | None) -> datetime | None:
        """Local wall time without tzinfo: what a spreadsheet cell can hold."""
        return value.astimezone(self.tz).replace(tzinfo=None) if value else None

    @property
    def locale(self) -> str:
        return "id_ID" if self.lang == "id" else "en_GB"

    def number(self, value: int | float | None, decimals: int = 0) -> str:
        """1.234,5 in Indonesian, 1,234.5 in English (Babel's CLDR data)."""
        if value is None:
            return "–"
        pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def signed(self, value: int | float | None, decimals: int = 0) -> str:
        if value is None:
            return "–"
        sign = "+" if value > 0 else ("−" if value < 0 else "±")
        return sign + self.number(abs(value), decimals)

    def percent(self, share: float | None) -> str:
        return "–" if share is None else f"{self.number(share * 100, 1)}%"

    def percent_points(self, change: float | None) -> str:
        if change is None:
            return "–"
        return self.signed(change * 100, 1) + (" poin persentase" if self.lang == "id" else " percentage points")

    def percent_change(self, current: float | int | None, previous: float | int | None) -> str:
        """The relative change, e.g. +12,5%; – when there is nothing to compare with."""
        if current is None or not previous:
            return "–"
        return self.signed((current - previous) / previous * 100, 1) + "%"

    def duration(self, seconds: float | None) -> str:
        """The two largest units: '1 hari 2 jam', '1 jam 5 menit', '4 menit 10 detik'."""
        if seconds is None:
            return "–"
        remaining = int(round(seconds))
        parts = []
        for name, size in _UNITS[self.lang]:
            amount, remaining = divmod(remaining, size)
            if amount or parts:
                parts.append((amount, name))
            if len(parts) == 2:
                break
        parts = [p for p in parts if p[0]] or [(0, _UNITS[self.lang][-1][0])]
        return " ".join(f"{amount} {name}" for amount, name in parts)

    def standard(self, seconds: int) -> str:
        return self.duration(seconds)

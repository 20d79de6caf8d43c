"""The report's words and number/date formats, in Bahasa Indonesia (default) and English."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

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
        "post_pending": "Belum tayang",
        "post_failed": "Gagal tayang",
        "no_items": "Tidak ada berita yang tayang pada bulan ini.",
        "list_limited": "Ditampilkan {shown} dari {total} baris; daftar lengkap ada di berkas XLSX.",
        "rounds_table": "Putaran revisi per berita",
        "rounds_count": "Jumlah putaran",
        "items_count": "Jumlah berita",
        "service_levels": "Mutu baku per langkah SOP",
        "step": "Langkah",
        "standard_time": "Mutu baku (waktu)",
        "done": "Selesai",
        "median": "Median",
        "p90": "P90",
        "share_within": "Dalam mutu baku",
        "breaches": "Melampaui",
        "worst_cases": "Kasus terburuk (melampaui mutu baku)",
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
        "freshness": "Kesegaran kanal",
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
        "prepared_by": "Dibuat oleh,",
        "approved_by": "Mengetahui,",
        "nip": "NIP",
        "definitions": "Catatan definisi",
        "definition_month": "Bulan dihitung dalam waktu {tz} ({tzname}): pukul 00.00 tanggal 1 sampai sebelum pukul "
                            "00.00 tanggal 1 bulan berikutnya.",
        "definition_published": "Publikasi = satu unggahan berita pada satu kanal berstatus tayang; masuk bulan "
                                "ini bila waktu tayangnya (published_at) dalam bulan ini. Berita tayang = berita "
                                "yang publikasi pertamanya dalam bulan ini.",
        "definition_author": "Penulis = pengisi naskah terakhir (langkah 2), atau pendaftar berita bila tidak ada.",
        "definition_levels": "Mutu baku: langkah yang selesai dalam bulan ini; durasi dari langkah dimulai sampai "
                             "dicatat selesai, dibandingkan dengan waktu mutu baku SOP. Median dan P90 dengan "
                             "interpolasi linear.",
        "definition_freshness": "Kesegaran: jeda dihitung di dalam bulan (dari awal bulan, antarpublikasi, sampai "
                                "akhir bulan); hari tanpa publikasi menurut tanggal {tzname}.",
        "definition_in_progress": "Dalam proses: berita yang langkahnya sudah dimulai sebelum akhir bulan dan "
                                  "belum selesai pada akhir bulan.",
        "definition_limit": "HTML dan PDF memuat paling banyak {limit} baris per daftar panjang (berita, penolakan, "
                            "berita dalam proses); berkas XLSX memuat semua baris.",
        "page": "Halaman",
        "of": "dari",
        "sheet_summary": "Ringkasan",
        "sheet_channels": "Per kanal",
        "sheet_services": "Per layanan",
        "sheet_authors": "Per penulis",
        "sheet_items": "Berita",
        "sheet_rounds": "Putaran revisi",
        "sheet_levels": "Mutu baku",
        "sheet_worst": "Kasus terburuk",
        "sheet_rejections": "Penolakan",
        "sheet_freshness": "Kesegaran",
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
        "p90": "P90",
        "share_within": "Within standard",
        "breaches": "Over",
        "worst_cases": "Worst cases (over the standard time)",
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
        "freshness": "Channel freshness",
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
        "definition_levels": "Service levels: steps that ended in the month; duration from the step's start to "
                             "its completion, against the SOP standard time. Median and P90 by linear "
                             "interpolation.",
        "definition_freshness": "Freshness: gaps are counted within the month (from its start, between posts, to "
                                "its end); days without a post by {tzname} date.",
        "definition_in_progress": "In progress: items with a step started before the month ended and not "
                                  "finished by then.",
        "definition_limit": "HTML and PDF list at most {limit} rows per long list (items, rejections, items in "
                            "progress); the XLSX file lists every row.",
        "page": "Page",
        "of": "of",
        "sheet_summary": "Summary",
        "sheet_channels": "Per channel",
        "sheet_services": "Per service",
        "sheet_authors": "Per author",
        "sheet_items": "Items",
        "sheet_rounds": "Revision rounds",
        "sheet_levels": "Service levels",
        "sheet_worst": "Worst cases",
        "sheet_rejections": "Rejections",
        "sheet_freshness": "Freshness",
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
    },
}

_UNITS = {
    "id": (("hari", 86400), ("jam", 3600), ("menit", 60), ("detik", 1)),
    "en": (("d", 86400), ("h", 3600), ("min", 60), ("s", 1)),
}


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

    def number(self, value: int | float | None, decimals: int = 0) -> str:
        if value is None:
            return "–"
        text = f"{value:,.{decimals}f}"
        if self.lang == "id":  # 1.234,5
            text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
        return text

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
        return self.signed(change * 100, 1) + (" poin" if self.lang == "id" else " pts")

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

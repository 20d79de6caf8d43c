"""The monthly report's reach and engagement section: per channel and per post (item ×
channel) reach, views, reactions, comments and shares, and the top posts, from the
readings the DAG ``jangkauan_kanal`` keeps in ``post_metrics``.

For each post published in the month the figures are those of its newest reading with
figures (``ok``), else its newest reading (which says why there are none). Totals are SQL
aggregates; only posts that were read are listed, so a month of 100,000 items costs one
grouped query and one top-N query when nothing was read. WordPress has no reach API:
the website is named, with no figure (not zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.engine import Connection

from warta.channels.metrics import METRIC_KINDS, OK
from warta.config import WartaConfig
from warta.models import NewsItem, PostMetric, Publication
from warta.report.period import ReportMonth
from warta.report.xlsx import Column, Sheet

FIGURES = ("reach", "views", "reactions", "comments", "shares")
# Status of a post never read (no row in post_metrics).
UNREAD = "unread"


@dataclass
class ChannelReach:
    channel: str
    posts: int = 0
    # Posts whose figures came (an ``ok`` reading).
    with_figures: int = 0
    reach: int | None = None
    views: int | None = None
    reactions: int | None = None
    comments: int | None = None
    shares: int | None = None
    # Posts without figures, by why: not_ready, no_access, gone, error, unread.
    missing: dict[str, int] = field(default_factory=dict)
    # The platform's own words for the first refusal (no_access/error), if any.
    refusal: str = ""


class PostReach(NamedTuple):
    item_id: int
    title: str
    channel: str
    url: str | None
    published_at: datetime
    status: str
    reading_date: date | None
    reach: int | None
    views: int | None
    reactions: int | None
    comments: int | None
    shares: int | None
    message: str


@dataclass
class ReachSection:
    channels: list[ChannelReach]
    top: list[PostReach]
    # Every post of the month that was read, oldest first.
    posts: list[PostReach]
    # Channels in use without a metrics API (the website).
    without_api: list[str]
    # Days after publishing a post is read (warta.yaml reach.window_days).
    window_days: int = 7

    @property
    def anything_read(self) -> bool:
        return any(c.with_figures or sum(c.missing.values()) - c.missing.get(UNREAD, 0) for c in self.channels)


def _chosen_readings(month: ReportMonth, channels: list[str]):
    """Per post published in the month on ``channels``: the reading date shown (newest
    ``ok`` reading, else newest reading; NULL when never read)."""
    newest_ok = func.max(case((PostMetric.status == OK, PostMetric.reading_date)))
    chosen = (
        select(PostMetric.publication_id, func.coalesce(newest_ok, func.max(PostMetric.reading_date)).label("day"))
        .group_by(PostMetric.publication_id)
        .subquery()
    )
    posts = (
        select(Publication.id, Publication.item_id, Publication.channel, Publication.url, Publication.published_at)
        .where(Publication.status == "published", Publication.published_at >= month.start,
               Publication.published_at < month.end, Publication.channel.in_(channels))
        .subquery()
    )
    joined = posts.outerjoin(chosen, chosen.c.publication_id == posts.c.id).outerjoin(
        PostMetric, and_(PostMetric.publication_id == posts.c.id, PostMetric.reading_date == chosen.c.day))
    return posts, joined


def compile_reach(db: Connection, config: WartaConfig, month: ReportMonth, channels_in_use: list[str],
                  top_count: int = 10, window_days: int = 7) -> ReachSection:
    metric_channels = [c for c in channels_in_use if c in config.channels and config.channels[c].kind in METRIC_KINDS]
    without_api = [c for c in channels_in_use if c in config.channels and config.channels[c].kind not in METRIC_KINDS]
    totals = {c: ChannelReach(c) for c in metric_channels}
    if not metric_channels:
        return ReachSection([], [], [], without_api, window_days)
    posts, joined = _chosen_readings(month, metric_channels)
    status = func.coalesce(PostMetric.status, literal(UNREAD))
    for channel, state, count, *sums in db.execute(
        select(posts.c.channel, status, func.count(), *(func.sum(getattr(PostMetric, f)) for f in FIGURES))
        .select_from(joined).group_by(posts.c.channel, status)
    ):
        entry = totals[channel]
        entry.posts += count
        if state == OK:
            entry.with_figures += count
            for name, value in zip(FIGURES, sums):
                if value is not None:
                    setattr(entry, name, (getattr(entry, name) or 0) + int(value))
        else:
            entry.missing[state] = entry.missing.get(state, 0) + count
    for channel, message in db.execute(
        select(posts.c.channel, func.min(PostMetric.message)).select_from(joined)
        .where(PostMetric.status.in_(("no_access", "error"))).group_by(posts.c.channel)
    ):
        totals[channel].refusal = message or ""

    columns = (posts.c.item_id, NewsItem.title, posts.c.channel, posts.c.url, posts.c.published_at, PostMetric.status,
               PostMetric.reading_date, *(getattr(PostMetric, f) for f in FIGURES), PostMetric.message)
    read = select(*columns).select_from(joined.join(NewsItem, NewsItem.id == posts.c.item_id)).where(
        PostMetric.id.is_not(None))
    # Reach where the platform gives it, else views (X gives impressions only).
    audience = func.coalesce(PostMetric.reach, PostMetric.views)
    engagement = (func.coalesce(PostMetric.reactions, 0) + func.coalesce(PostMetric.comments, 0)
                  + func.coalesce(PostMetric.shares, 0))
    top = [PostReach(*row) for row in db.execute(
        read.where(PostMetric.status == OK).order_by(audience.desc(), engagement.desc(), posts.c.item_id)
        .limit(top_count))]
    rows = [PostReach(*row) for row in db.execute(read.order_by(posts.c.published_at, posts.c.item_id,
                                                                  posts.c.channel))]
    return ReachSection(list(totals.values()), top, rows, without_api, window_days)


# ----------------------------------------------------------------------- words
REACH_MESSAGES: dict[str, dict[str, str]] = {
    "id": {
        "reach": "Jangkauan dan interaksi media sosial",
        "reach_intro": "Metrik publik setiap unggahan dibaca sekali sehari selama {days} hari setelah terbit "
                       "(angka terakhir yang tersedia). Jangkauan: Facebook = orang unik yang melihat "
                       "(post_total_media_view_unique), Instagram = akun unik (reach); X hanya memberi tayangan "
                       "(impression), bukan jangkauan unik.",
        "reach_per_channel": "Per kanal",
        "reach_top": "Unggahan teratas (menurut jangkauan; X: tayangan)",
        "reach_posts": "Per berita dan kanal",
        "reach_posts_col": "Unggahan",
        "reach_with_figures": "Ada angka",
        "reach_reach": "Jangkauan",
        "reach_views": "Tayangan",
        "reach_reactions": "Reaksi",
        "reach_comments": "Komentar",
        "reach_shares": "Dibagikan",
        "reach_note": "Keterangan",
        "reach_read_on": "Dibaca",
        "reach_no_api": "{channels}: tidak ada API jangkauan (WordPress); tidak ada angka, bukan nol.",
        "reach_nothing_read": "Belum ada unggahan media sosial yang dibaca pada bulan ini.",
        "reach_no_social": "Tidak ada unggahan media sosial yang terbit pada bulan ini.",
        "reach_missing_not_ready": "{n} terlalu baru, statistik belum tersedia",
        "reach_missing_no_access": "{n} tanpa izin membaca statistik",
        "reach_no_access_hint": "Token di Airflow Connection kanal ini kurang izin (read_insights, "
                                "pages_read_engagement, instagram_manage_insights) atau akses X ditolak; perbarui "
                                "izin aplikasi dan token.",
        "reach_missing_gone": "{n} sudah dihapus dari platform",
        "reach_missing_error": "{n} ditolak platform",
        "reach_missing_unread": "{n} belum dibaca",
        "reach_status_ok": "Ada angka",
        "reach_status_not_ready": "Terlalu baru",
        "reach_status_no_access": "Tanpa izin",
        "reach_status_gone": "Dihapus",
        "reach_status_error": "Ditolak",
        "reach_shown": "Ditampilkan {shown} dari {total} unggahan; daftar lengkap di XLSX (lembar Jangkauan unggahan).",
        "sheet_reach_channels": "Jangkauan per kanal",
        "sheet_reach_posts": "Jangkauan unggahan",
        "reach_status": "Status",
    },
    "en": {
        "reach": "Social media reach and engagement",
        "reach_intro": "Each post's public metrics are read once a day for {days} days after publishing (the "
                       "latest figures available). Reach: Facebook = unique people who saw it "
                       "(post_total_media_view_unique), Instagram = unique accounts (reach); X gives impressions "
                       "only, not unique reach.",
        "reach_per_channel": "Per channel",
        "reach_top": "Top posts (by reach; X: impressions)",
        "reach_posts": "Per item and channel",
        "reach_posts_col": "Posts",
        "reach_with_figures": "With figures",
        "reach_reach": "Reach",
        "reach_views": "Views",
        "reach_reactions": "Reactions",
        "reach_comments": "Comments",
        "reach_shares": "Shares",
        "reach_note": "Notes",
        "reach_read_on": "Read",
        "reach_no_api": "{channels}: no reach API (WordPress); no figure, not zero.",
        "reach_nothing_read": "No social media post was read this month yet.",
        "reach_no_social": "No social media post was published this month.",
        "reach_missing_not_ready": "{n} too new, no insights yet",
        "reach_missing_no_access": "{n} without permission to read insights",
        "reach_no_access_hint": "The token in this channel's Airflow Connection lacks a permission (read_insights, "
                                "pages_read_engagement, instagram_manage_insights) or X refused access; update the "
                                "app's permissions and the token.",
        "reach_missing_gone": "{n} deleted from the platform",
        "reach_missing_error": "{n} refused by the platform",
        "reach_missing_unread": "{n} not read yet",
        "reach_status_ok": "With figures",
        "reach_status_not_ready": "Too new",
        "reach_status_no_access": "No permission",
        "reach_status_gone": "Deleted",
        "reach_status_error": "Refused",
        "reach_shown": "{shown} of {total} posts shown; the full list is in the XLSX (sheet Post reach).",
        "sheet_reach_channels": "Reach per channel",
        "sheet_reach_posts": "Post reach",
        "reach_status": "Status",
    },
}


def missing_notes(t, entry: ChannelReach) -> list[tuple[str, str]]:
    """(status, "2 too new, no insights yet") for each reason figures are missing."""
    order = ("no_access", "not_ready", "gone", "error", UNREAD)
    return [(state, t(f"reach_missing_{state}", n=t.number(entry.missing[state])))
            for state in order if entry.missing.get(state)]


def reach_sheets(section: ReachSection | None, names, t) -> list[Sheet]:
    """The workbook's reach sheets: per channel, and every post read in the month."""
    if section is None or not section.channels:
        return []
    figure_columns = [Column(t(f"reach_{name}"), "number", 12) for name in FIGURES]
    per_channel = Sheet(
        t("sheet_reach_channels"),
        [Column(t("channel"), width=18), Column(t("reach_posts_col"), "number", 10),
         Column(t("reach_with_figures"), "number", 10), *figure_columns, Column(t("reach_note"), "wrap", 60)],
        [[names.channel(c.channel), c.posts, c.with_figures, *(getattr(c, f) for f in FIGURES),
          "; ".join([note for _, note in missing_notes(t, c)] + ([t("reach_no_access_hint")] if c.missing.get("no_access") else [])
                    + ([c.refusal] if c.refusal else []))] for c in section.channels]
        + [[names.channel(c), None, None, None, None, None, None, None,
            t("reach_no_api", channels=names.channel(c))] for c in section.without_api],
    )
    tz = t.tzname
    per_post = Sheet(
        t("sheet_reach_posts"),
        [Column(t("item_id"), "number", 10), Column(t("item_title"), "wrap", 44), Column(t("channel"), width=14),
         Column(t("link"), "link", 40), Column(f"{t('first_published')} ({tz})", "datetime", 17),
         Column(t("reach_status"), width=14), Column(t("reach_read_on"), "date", 12), *figure_columns,
         Column(t("reach_note"), "wrap", 50)],
        ([p.item_id, p.title, names.channel(p.channel), p.url, t.local_naive(p.published_at),
          t(f"reach_status_{p.status}"), p.reading_date, *(getattr(p, f) for f in FIGURES),
          "" if p.status == OK else p.message] for p in section.posts),
    )
    return [per_channel, per_post]

"""Per-channel content adaptation: caption limits (X's weighted count), link placement,
hashtags from config, image format and aspect-ratio rules."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.fakes.graph import image_bytes
from warta.channels.base import MediaFile, PostContent
from warta.config import Channel, ConfigError, channel_from_spec, get_config
from warta.channels.social import (
    CaptionRules,
    ImageRules,
    adapt,
    caption,
    hashtag,
    prepare_image,
    rules_for,
    x_weighted_length,
)

LINK = "https://bsip-babel.example/berita/kunjungan-agro-eduwisata-sman-1-pangkalpinang-ke-kebun-percobaan/"


def content(text: str = "Kata kepala sekolah: kunjungan ini sangat bermanfaat. " * 100, **changes) -> PostContent:
    base = PostContent(title="Kunjungan agro eduwisata SMAN 1 Pangkalpinang", body_html="", excerpt="",
                       text=text, link=LINK)
    return PostContent(**{**base.__dict__, **changes})


def size_of(data: bytes) -> tuple[str, tuple[int, int]]:
    with Image.open(io.BytesIO(data)) as image:
        return image.format, image.size


def test_x_counts_urls_as_23_and_wide_characters_as_2():
    assert x_weighted_length("halo") == 4
    assert x_weighted_length(f"lihat {LINK}") == 6 + 23
    assert x_weighted_length("\u6f22\u5b57") == 4  # CJK
    assert x_weighted_length("\U0001F33E") == 2  # an emoji
    assert x_weighted_length("\U0001F468\u200D\U0001F33E") == 2  # one ZWJ sequence, one emoji


def test_x_caption_fits_280_with_title_link_and_hashtags():
    rules = rules_for(get_config().channels["x"])
    text = caption(content(), rules.caption)
    assert x_weighted_length(text) <= 280
    assert text == f"Kunjungan agro eduwisata SMAN 1 Pangkalpinang\n\n{LINK}\n\n#BSIPBabel #Kementan"


def test_body_is_cut_at_a_word_with_an_ellipsis():
    rules = CaptionRules(max_chars=200, link="text", hashtags=("BSIPBabel",))
    text = caption(content(), rules)
    assert len(text) <= 200
    title, body, link, tags = text.split("\n\n")
    assert body.endswith("\u2026") and not body.endswith(" \u2026")
    assert (link, tags) == (LINK, "#BSIPBabel")


def test_hashtags_give_way_before_the_title():
    rules = CaptionRules(max_chars=69, link="none", hashtags=("Satu", "Dua", "Tiga", "Empat"), include_body=False)
    assert caption(content(), rules) == "Kunjungan agro eduwisata SMAN 1 Pangkalpinang\n\n#Satu #Dua #Tiga"


def test_instagram_has_link_in_bio_and_at_most_30_hashtags():
    rules = rules_for(get_config().channels["instagram"])
    body = "Petani panen " + " ".join(f"#tag{n}" for n in range(28))
    text = caption(content(text=body), rules.caption)
    assert LINK not in text and "link di bio" in text
    assert text.count("#") == 30 and len(text) <= 2200


def test_facebook_attaches_the_link():
    post = adapt(content(), rules_for(get_config().channels["facebook"]))
    assert post.link == LINK and LINK not in post.text and len(post.text) <= 5000


def test_no_website_link_means_no_link_line():
    rules = rules_for(get_config().channels["instagram"])
    assert "link di bio" not in caption(content(link=None), rules.caption)


def test_hashtag_names_become_single_words():
    assert hashtag("Agro Eduwisata") == "#AgroEduwisata"
    assert hashtag("#BSIPBabel") == "#BSIPBabel"


def test_instagram_photos_become_jpeg_within_its_aspect_ratios():
    rules = rules_for(get_config().channels["instagram"]).images
    tall = prepare_image(MediaFile("tinggi.png", image_bytes(600, 1500, "PNG"), "image/png"), rules)
    assert tall.content_type == "image/jpeg" and tall.filename == "tinggi.jpg"
    fmt, (width, height) = size_of(tall.data)
    assert fmt == "JPEG" and width / height == pytest.approx(0.8, abs=0.01)

    wide = prepare_image(MediaFile("lebar.jpg", image_bytes(3000, 1000), "image/jpeg"), rules)
    fmt, (width, height) = size_of(wide.data)
    assert width <= 1440 and width / height == pytest.approx(1.91, abs=0.01)


def test_a_photo_that_obeys_the_rules_is_left_alone():
    photo = MediaFile("ok.jpg", image_bytes(1080, 1080), "image/jpeg")
    assert prepare_image(photo, rules_for(get_config().channels["instagram"]).images) is photo


def test_too_large_files_are_reencoded_smaller():
    noisy = Image.effect_noise((1500, 1500), 100).convert("RGB")
    buffer = io.BytesIO()
    noisy.save(buffer, format="PNG")
    photo = MediaFile("besar.png", buffer.getvalue(), "image/png")
    smaller = prepare_image(photo, ImageRules(formats=("JPEG", "PNG"), max_bytes=300_000))
    assert len(smaller.data) <= 300_000 and smaller.content_type == "image/jpeg"


def test_photo_count_is_capped():
    photos = tuple(MediaFile(f"f{n}.jpg", image_bytes(400, 400), "image/jpeg") for n in range(6))
    post = adapt(content(media=photos), rules_for(get_config().channels["x"]))
    assert len(post.images) == 4


def test_bad_rules_are_config_errors():
    # Checked when channels.yaml loads (channel_from_spec reads a channel as the file writes it).
    with pytest.raises(ConfigError, match="caption.link"):
        rules_for(channel_from_spec("x2", {"name_id": "X", "kind": "x", "conn_id": "c",
                                           "caption": {"max_chars": 280, "link": "somewhere"}}))
    with pytest.raises(ConfigError, match="max_chars"):
        rules_for(channel_from_spec("x3", {"name_id": "X", "kind": "x", "conn_id": "c", "caption": {}}))


def test_every_configured_channel_has_a_publisher_and_valid_rules():
    from warta.channels.base import publisher_for

    config = get_config()
    assert config.default_channels == ["website"]  # social channels only when chosen
    for channel in config.channels.values():
        publisher = publisher_for(channel)  # no connection is needed to build one
        assert publisher.channel is channel
        if channel.kind != "wordpress":
            assert rules_for(channel).link_from == "website"


def test_a_social_channel_without_caption_rules_loads_but_does_not_publish():
    # A channel only reported on may omit them; publishing to it needs them.
    channel = channel_from_spec("fb", {"name_id": "Facebook", "kind": "facebook_page", "conn_id": "c"})
    with pytest.raises(ConfigError, match=r"channels.yaml fb caption: missing field 'max_chars'"):
        rules_for(channel)

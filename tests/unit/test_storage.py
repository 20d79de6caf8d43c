"""Asset and archive storage on a local folder."""

from __future__ import annotations

import hashlib

import pytest

from warta.storage import Storage, StorageError, archive_prefix, asset_key, safe_filename


@pytest.mark.parametrize(
    "name, expected",
    [
        ("foto.jpg", "foto.jpg"),
        ("../../etc/passwd.jpg", "passwd.jpg"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("/abs/path/klip.mp4", "klip.mp4"),
        ("Foto Kegiatan (1).JPG", "Foto-Kegiatan-1.JPG"),
        ("Bimtek Café Ñusantara.png", "Bimtek-Cafe-Nusantara.png"),
        ("..", "file"),
        ("", "file"),
        ("...", "file"),
        (".hidden.pdf", "hidden.pdf"),
        ("berita;rm -rf.pdf", "berita-rm--rf.pdf"),
        ("archive.tar.gz", "archive.tar.gz"),
        ("tanpa ekstensi", "tanpa-ekstensi"),
        ("x.", "x"),
        (".jpg", "file.jpg"),
        ("foto\x00.jpg", "foto.jpg"),
        ("漢字.jpg", "file.jpg"),  # the extension is kept even when the stem is lost
    ],
)
def test_safe_filename(name, expected):
    assert safe_filename(name) == expected


def test_safe_filename_fallback_and_length():
    assert safe_filename("///", fallback="naskah") == "naskah"
    assert safe_filename("漢字.pdf", fallback="naskah") == "naskah.pdf"
    long_name = safe_filename("a" * 500 + ".jpg")
    assert len(long_name) == 120
    assert long_name.endswith("a.jpg")  # shortened, extension kept
    assert len(safe_filename("b" * 500)) == 120


def test_asset_key_and_archive_prefix():
    data = b"isi foto"
    key = asset_key(7, "../../etc/passwd.jpg", data)
    assert key == f"items/7/assets/{hashlib.sha256(data).hexdigest()[:12]}-passwd.jpg"
    assert asset_key(7, "a.jpg", b"1") != asset_key(7, "a.jpg", b"2")
    assert archive_prefix(7) == "archive/items/7"


@pytest.mark.parametrize(
    "key", ["../outside.txt", "items/../../outside.txt", "/etc/passwd", "", ".", "items/..", "a/../b"]
)
def test_path_traversal_is_refused(tmp_path, key):
    storage = Storage(str(tmp_path / "files"))
    with pytest.raises(StorageError):
        storage.put_bytes(key, b"x")
    with pytest.raises(StorageError):
        storage.get_bytes(key)
    with pytest.raises(StorageError):
        storage.exists(key)
    with pytest.raises(StorageError):
        storage.delete(key)
    assert not (tmp_path / "outside.txt").exists()


def test_round_trip(tmp_path):
    root = tmp_path / "files"
    storage = Storage(str(root))
    assert storage.list("items") == []
    assert not storage.exists("items/1/a.jpg")
    assert storage.put_bytes("items/1/a.jpg", b"A") == "items/1/a.jpg"
    storage.put_bytes("items/1/sub/b.pdf", b"B")
    storage.put_bytes("items/2/c.mp3", b"C")
    storage.put_bytes("archive/items/1/naskah.txt", "Judul\n\nIsi naskah é".encode())
    assert storage.exists("items/1/a.jpg")
    assert storage.get_bytes("items/1/sub/b.pdf") == b"B"
    assert (root / "items" / "2" / "c.mp3").read_bytes() == b"C"
    assert storage.list("items") == ["items/1/a.jpg", "items/1/sub/b.pdf", "items/2/c.mp3"]
    assert storage.list("items/1") == ["items/1/a.jpg", "items/1/sub/b.pdf"]
    assert storage.list("archive/items/1") == ["archive/items/1/naskah.txt"]
    assert storage.url("items/1/a.jpg") == str(root / "items" / "1" / "a.jpg")

    storage.put_bytes("items/1/a.jpg", b"A2")  # overwrite
    assert storage.get_bytes("items/1/a.jpg") == b"A2"

    storage.delete("items/1/a.jpg")
    storage.delete("items/1/a.jpg")  # already gone: no error
    assert not storage.exists("items/1/a.jpg")
    assert storage.list("items/1") == ["items/1/sub/b.pdf"]
    with pytest.raises(FileNotFoundError):
        storage.get_bytes("items/1/a.jpg")


def test_file_url_root_and_trailing_slash(tmp_path):
    storage = Storage(f"file://{tmp_path}/files/")
    storage.put_bytes("x/y.txt", b"y")
    assert (tmp_path / "files" / "x" / "y.txt").read_bytes() == b"y"
    assert storage.list("x") == ["x/y.txt"]


def test_atomic_write_leaves_no_temp_files(tmp_path, monkeypatch):
    root = tmp_path / "files"
    storage = Storage(str(root))
    for i in range(5):
        storage.put_bytes("items/1/foto.jpg", bytes([i]) * 1000)
    assert sorted(p.name for p in (root / "items" / "1").iterdir()) == ["foto.jpg"]
    assert storage.get_bytes("items/1/foto.jpg") == bytes([4]) * 1000

    # The temp file is written next to the target and renamed over it.
    renames = []
    import os as real_os

    original = real_os.replace

    def spy(src, dst):
        renames.append((str(src), str(dst)))
        original(src, dst)

    monkeypatch.setattr("warta.storage.os.replace", spy)
    storage.put_bytes("items/1/foto.jpg", b"final")
    [(src, dst)] = renames
    assert dst == str(root / "items" / "1" / "foto.jpg")
    assert src.startswith(str(root / "items" / "1" / ".foto.jpg.")) and src.endswith(".tmp")
    assert [p.name for p in root.rglob("*") if p.is_file()] == ["foto.jpg"]


def test_default_storage_location(monkeypatch, tmp_path):
    monkeypatch.delenv("WARTA_STORAGE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path))
    assert Storage.default().root_url == str(tmp_path / "warta" / "files")
    monkeypatch.setenv("WARTA_STORAGE_URL", "s3://bucket/warta/")
    default = Storage.default()
    assert default.root_url == "s3://bucket/warta"
    assert default._local is False


def test_object_storage_urls_go_through_airflow_object_storage_path():
    """Production keeps assets in object storage: any fsspec URL works the same way
    (``memory://`` stands in for ``s3://`` here; credentials would come from a Connection)."""
    from warta.storage import Storage

    storage = Storage("memory://warta-test-bucket/files")
    storage.put_bytes("items/7/assets/abc-foto.png", b"\x89PNG")
    assert storage.exists("items/7/assets/abc-foto.png")
    assert storage.get_bytes("items/7/assets/abc-foto.png") == b"\x89PNG"
    assert storage.list("items/7") == ["items/7/assets/abc-foto.png"]
    assert storage.url("items/7/assets/abc-foto.png") == "memory://warta-test-bucket/files/items/7/assets/abc-foto.png"
    storage.delete("items/7/assets/abc-foto.png")
    assert not storage.exists("items/7/assets/abc-foto.png")

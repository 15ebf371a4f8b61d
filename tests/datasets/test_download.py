import contextlib
import functools
import hashlib
import http.server
import os
import threading
import warnings
import zipfile

import pytest

from recsys.datasets import DatasetNotFoundError, fetch_dataset
from recsys.datasets._catalog import Archive, DatasetInfo
from recsys.datasets._download import MARKER, unpack

RATINGS = b"user,item\n1,2\n3,4\n"


class _TruncatingHandler(http.server.SimpleHTTPRequestHandler):
    """Announces the whole file but sends only its first bytes, like a dropped connection."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "100000")
        self.end_headers()
        self.wfile.write(b"PK\x03\x04 truncated")


def _serve(folder, handler=http.server.SimpleHTTPRequestHandler):
    handler = functools.partial(handler, directory=str(folder))
    handler.func.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def served(tmp_path):
    """A zip in the official layout (top folder toy/) served on 127.0.0.1."""
    site = tmp_path / "site"
    site.mkdir()
    with zipfile.ZipFile(site / "toy.zip", "w") as bundle:
        bundle.writestr("toy/ratings.csv", RATINGS)
    server = _serve(site)
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _entry(url, sha256):
    return DatasetInfo(
        name="toy", title="Toy", description="", homepage="", license="", citation="",
        format="table", folder="toy", files=("ratings.csv",),
        archives=(Archive(url=url, sha256=sha256),),
        sha256={"ratings.csv": hashlib.sha256(RATINGS).hexdigest()},
    )


def _leftovers(home):
    return sorted(p.name for p in home.rglob("*")) if home.exists() else []


def test_download_verifies_unpacks_and_cleans_up(served, tmp_path):
    site, base = served
    home = tmp_path / "home"
    digest = hashlib.sha256((site / "toy.zip").read_bytes()).hexdigest()
    folder = fetch_dataset(_entry(f"{base}/toy.zip", digest), data_home=home, progressbar=False)
    assert (folder / "ratings.csv").read_bytes() == RATINGS
    assert _leftovers(home) == sorted(["toy", "ratings.csv", MARKER])
    # Present now: no second download is attempted even without a server.
    assert fetch_dataset(_entry("http://127.0.0.1:9/none.zip", digest), data_home=home) == folder


def test_corrupted_download_is_rejected_and_deleted(served, tmp_path):
    _, base = served
    home = tmp_path / "home"
    with pytest.raises(DatasetNotFoundError, match="sha256 .* not the expected 0{64}"):
        fetch_dataset(_entry(f"{base}/toy.zip", "0" * 64), data_home=home, progressbar=False)
    assert _leftovers(home) == []


def test_interrupted_download_is_never_used(tmp_path):
    server = _serve(tmp_path, _TruncatingHandler)
    home = tmp_path / "home"
    url = f"http://127.0.0.1:{server.server_address[1]}/toy.zip"
    try:
        # No checksum on purpose: the length check alone must catch the cut.
        with pytest.raises(DatasetNotFoundError, match="download failed"), \
                pytest.warns(UserWarning, match="cannot be verified"):
            fetch_dataset(_entry(url, None), data_home=home, progressbar=False)
    finally:
        server.shutdown()
    assert _leftovers(home) == []


def test_damaged_unpacked_file_is_reported(served, tmp_path):
    site, base = served
    home = tmp_path / "home"
    entry = _entry(f"{base}/toy.zip", hashlib.sha256((site / "toy.zip").read_bytes()).hexdigest())
    fetch_dataset(entry, data_home=home, progressbar=False)
    (home / "toy" / "ratings.csv").write_bytes(b"user,item\n9,9\n")
    with pytest.raises(OSError, match="has SHA-256 .* Delete .*toy and run"):
        fetch_dataset(entry, data_home=home)


def test_download_false_names_file_url_and_folder(tmp_path):
    entry = _entry("https://example.org/data/toy.zip", "ab" * 32)
    with pytest.raises(DatasetNotFoundError) as raised:
        fetch_dataset(entry, data_home=tmp_path, download=False)
    message = str(raised.value)
    for part in ("ratings.csv", "https://example.org/data/toy.zip", str(tmp_path / "toy"),
                 "download=False", "sha256 " + "ab" * 32):
        assert part in message
    assert _leftovers(tmp_path) == []


# ------------------------------------------------------------------ what each verify mode checks
def _rewrite_keeping_size_and_time(path, content):
    stat = path.stat()
    assert len(content) == stat.st_size
    path.write_bytes(content)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_verify_true_hashes_even_when_the_marker_matches(served, tmp_path):
    site, base = served
    home = tmp_path / "home"
    entry = _entry(f"{base}/toy.zip", hashlib.sha256((site / "toy.zip").read_bytes()).hexdigest())
    fetch_dataset(entry, data_home=home, progressbar=False)
    ratings = home / "toy" / "ratings.csv"
    _rewrite_keeping_size_and_time(ratings, RATINGS.replace(b"3,4", b"9,9"))
    # "auto" trusts the marker while size and time match: the documented blind spot.
    assert fetch_dataset(entry, data_home=home) == home / "toy"
    with pytest.raises(OSError, match="has SHA-256 .* expects"):
        fetch_dataset(entry, data_home=home, verify=True)
    assert fetch_dataset(entry, data_home=home, verify=False) == home / "toy"


def test_auto_rehashes_a_file_whose_time_changed(served, tmp_path):
    site, base = served
    home = tmp_path / "home"
    entry = _entry(f"{base}/toy.zip", hashlib.sha256((site / "toy.zip").read_bytes()).hexdigest())
    fetch_dataset(entry, data_home=home, progressbar=False)
    (home / "toy" / "ratings.csv").write_bytes(RATINGS.replace(b"3,4", b"9,9"))
    with pytest.raises(OSError, match="has SHA-256"):
        fetch_dataset(entry, data_home=home)


@pytest.mark.parametrize("verify", ["yes", 1, None])
def test_unknown_verify_mode_is_rejected(tmp_path, verify):
    with pytest.raises(ValueError, match="verify must be 'auto', True or False"):
        fetch_dataset(_entry("http://127.0.0.1:9/toy.zip", None), data_home=tmp_path, verify=verify)


# ------------------------------------------------------------------ downloads cut mid-way
PARTIAL = RATINGS[:9]


class _UnannouncedCutHandler(http.server.SimpleHTTPRequestHandler):
    """No Content-Length; the connection closes after the first bytes (HTTP/1.0): looks complete."""

    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(PARTIAL)


class _ChunkedCutHandler(http.server.SimpleHTTPRequestHandler):
    """Chunked transfer whose connection drops before the closing chunk."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(PARTIAL), PARTIAL))
        self.close_connection = True


def _plain_entry(url, size=None, sha256=None):
    """An entry whose one file is downloaded as is (not unpacked)."""
    return DatasetInfo(
        name="toy", title="Toy", description="", homepage="", license="", citation="",
        format="table", folder="toy", files=("ratings.csv",),
        archives=(Archive(url=url, sha256=sha256, size=size),),
    )


@contextlib.contextmanager
def _cutting_server(folder, handler):
    server = _serve(folder, handler)
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/ratings.csv"
    finally:
        server.shutdown()


@pytest.mark.parametrize("checks, message", [
    ({}, "cannot be verified.*verify=False"),
    ({"size": len(RATINGS)}, f"stopped after {len(PARTIAL)} bytes, not the {len(RATINGS)} in the registry"),
    ({"sha256": hashlib.sha256(RATINGS).hexdigest()}, "not the expected"),
])
def test_unannounced_cut_download_is_not_kept(tmp_path, checks, message):
    home = tmp_path / "home"
    with _cutting_server(tmp_path, _UnannouncedCutHandler) as url, \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the no-checksum warning, where it applies
        with pytest.raises(DatasetNotFoundError, match=message):
            fetch_dataset(_plain_entry(url, **checks), data_home=home, progressbar=False)
    assert _leftovers(home) in ([], ["toy"])
    assert not (home / "toy" / "ratings.csv").exists()


def test_unverifiable_download_is_kept_only_with_verify_false(tmp_path):
    home = tmp_path / "home"
    with _cutting_server(tmp_path, _UnannouncedCutHandler) as url, \
            pytest.warns(UserWarning, match="cannot be verified"):
        folder = fetch_dataset(_plain_entry(url), data_home=home, progressbar=False, verify=False)
    # What arrived is kept as it is: verify=False is the caller's choice.
    assert (folder / "ratings.csv").read_bytes() == PARTIAL


@pytest.mark.parametrize("verify", ["auto", False])
def test_chunked_download_cut_mid_way_is_never_kept(tmp_path, verify):
    home = tmp_path / "home"
    with _cutting_server(tmp_path, _ChunkedCutHandler) as url, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(DatasetNotFoundError, match="download failed"):
            fetch_dataset(_plain_entry(url), data_home=home, progressbar=False, verify=verify)
    assert not (home / "toy" / "ratings.csv").exists()
    assert [p for p in _leftovers(home) if p != "toy"] == []


# ------------------------------------------------------------------ unpacking into an existing folder
def _zip(path, members):
    with zipfile.ZipFile(path, "w") as bundle:
        for name, content in members.items():
            bundle.writestr(name, content)
    return path


def test_unpack_without_top_folder_keeps_the_existing_folder(tmp_path):
    target = tmp_path / "toy"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    (target / "ratings.csv").write_bytes(b"damaged")
    unpack(_zip(tmp_path / "flat.zip", {"ratings.csv": RATINGS, "extra/info.txt": "x"}), tmp_path, "toy")
    assert (target / "notes.txt").read_text() == "mine"
    assert (target / "ratings.csv").read_bytes() == RATINGS
    assert (target / "extra" / "info.txt").read_text() == "x"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["flat.zip", "toy"]


def test_unpack_with_top_folder_merges_into_the_existing_folder(tmp_path):
    target = tmp_path / "toy"
    (target / "sub").mkdir(parents=True)
    (target / "sub" / "kept.txt").write_text("kept")
    (target / MARKER).write_text("{}")
    unpack(_zip(tmp_path / "toy.zip", {"toy/ratings.csv": RATINGS, "toy/sub/new.txt": "new"}),
           tmp_path, "toy")
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*")) == [
        MARKER, "ratings.csv", "sub", "sub/kept.txt", "sub/new.txt"]


def test_unpack_into_a_new_folder(tmp_path):
    unpack(_zip(tmp_path / "toy.zip", {"toy/ratings.csv": RATINGS}), tmp_path, "toy")
    assert (tmp_path / "toy" / "ratings.csv").read_bytes() == RATINGS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy", "toy.zip"]

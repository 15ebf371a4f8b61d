import functools
import hashlib
import http.server
import threading
import zipfile

import pytest

from recsys.datasets import DatasetNotFoundError, fetch_dataset
from recsys.datasets._catalog import Archive, DatasetInfo
from recsys.datasets._download import MARKER

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

"""Tests of course.datasets.mnist: loading, checking, caching and downloading MNIST.

The real files come from the data directory named by COURSE_DATA_DIR (tests that need
them are skipped when it is unset). Downloads are exercised against a local HTTP server
on 127.0.0.1 that serves good, truncated and corrupted copies; the cache directory is
always a temporary one (COURSE_CACHE_DIR), never the user's.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import os
import shutil
import socket
import sys
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course.datasets import mnist

NAMES = list(mnist.FILES)
SHARED_ROOT = os.environ.get("COURSE_DATA_DIR")  # read once, before any test changes it


def _source(name: str) -> Path:
    """The path of MNIST file ``name`` in the shared data directory (gz or raw)."""
    folder = Path(SHARED_ROOT) / "mnist"
    for path in (folder / f"{name}.gz", folder / name):
        if path.is_file():
            return path
    raise FileNotFoundError(path)


def _raw(name: str) -> bytes:
    data = _source(name).read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def _gz(name: str) -> bytes:
    data = _source(name).read_bytes()
    return data if data[:2] == b"\x1f\x8b" else gzip.compress(data, compresslevel=1)


def _listing(folder: Path) -> set[str]:
    """Every name in ``folder`` (hidden temporary files included); empty if it is absent."""
    return set(os.listdir(folder)) if folder.is_dir() else set()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(scope="module")
def shared() -> Path:
    """The data directory holding the real MNIST, from COURSE_DATA_DIR."""
    if not SHARED_ROOT:
        pytest.skip("COURSE_DATA_DIR is not set: point it at a data directory holding mnist/")
    try:
        for name in NAMES:
            _source(name)
    except FileNotFoundError as err:
        pytest.skip(f"COURSE_DATA_DIR={SHARED_ROOT} lacks an MNIST file: {err}")
    return Path(SHARED_ROOT)


@pytest.fixture(scope="module")
def server(shared, tmp_path_factory):
    """A local HTTP server; returns a function turning a folder name into a mirror URL.

    Folders: ``good/`` (the four files), ``truncated/`` (the first file cut in half),
    ``flipped/`` (bytes flipped inside the gzip data), ``wrong/`` (valid gzip of content
    with one pixel changed), ``missing/`` (nothing: 404), and ``short/``, which announces
    the full length of each good file but sends only half of it.
    """
    root = tmp_path_factory.mktemp("mirror")
    first = NAMES[0]
    for folder in ("good", "truncated", "flipped", "wrong", "missing"):
        (root / folder).mkdir()
    for name in NAMES:
        (root / "good" / f"{name}.gz").write_bytes(_gz(name))
    good = _gz(first)
    (root / "truncated" / f"{first}.gz").write_bytes(good[: len(good) // 2])
    flipped = bytearray(good)
    for i in range(len(good) // 2, len(good) // 2 + 64):
        flipped[i] ^= 0xFF
    (root / "flipped" / f"{first}.gz").write_bytes(bytes(flipped))
    wrong = bytearray(_raw(first))
    wrong[16 + 28 * 14 + 14] ^= 0xFF  # one pixel in the middle of the first image
    (root / "wrong" / f"{first}.gz").write_bytes(gzip.compress(bytes(wrong), compresslevel=1))

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep the test output quiet
            pass

        def do_GET(self):
            if self.path.startswith("/short/"):
                data = (root / "good" / self.path[len("/short/"):]).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data[: len(data) // 2])
                self.close_connection = True
                return
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(root))
    )
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    port = httpd.server_address[1]
    yield lambda folder: f"http://127.0.0.1:{port}/{folder}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def closed_port_url() -> str:
    """The URL of a port on which nothing listens: connecting is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """An empty temporary cache directory; COURSE_DATA_DIR unset. Returns <cache>/mnist."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    return tmp_path / "cache" / "mnist"


def _assert_is_mnist(train, test):
    (x_train, y_train), (x_test, y_test) = train, test
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert y_train[:10].tolist() == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert y_test[:5].tolist() == [7, 2, 1, 0, 4]


# --------------------------------------------------------------------------------------
# Loading from a data directory
# --------------------------------------------------------------------------------------


def test_load_from_course_data_dir(shared, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(shared))
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    _assert_is_mnist((x_train, y_train), (x_test, y_test))
    assert set(np.unique(y_train)) == set(range(10)) == set(np.unique(y_test))
    assert x_train.min() == 0 and x_train.max() == 255
    assert np.bincount(y_train).tolist()[:3] == [5923, 6742, 5958]
    # Fresh, writable arrays: changing them does not change the next load.
    x_train[0] = 0
    y_train[0] = 9
    (x_again, y_again), _ = mnist.load_data()
    assert y_again[0] == 5 and x_again[0].max() == 255


def test_data_dir_argument_comes_before_the_variable(shared, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "nothing-here"))
    train, test = mnist.load_data(data_dir=str(shared))
    _assert_is_mnist(train, test)


@pytest.mark.slow
def test_raw_files_are_accepted(shared, tmp_path):
    (tmp_path / "mnist").mkdir()
    for name in NAMES:
        (tmp_path / "mnist" / name).write_bytes(_raw(name))
    raw = mnist.load_data(tmp_path)
    gz = mnist.load_data(shared)
    for a, b in zip(raw[0] + raw[1], gz[0] + gz[1]):
        np.testing.assert_array_equal(a, b)


def test_load_flat(shared):
    (x_train, y_train), (x_test, y_test) = mnist.load_flat(shared)
    assert x_train.shape == (60000, 784) and x_train.dtype == np.float32
    assert x_test.shape == (10000, 784) and x_test.dtype == np.float32
    assert y_train.shape == (60000, 10) and y_train.dtype == np.float32
    assert y_test.shape == (10000, 10)
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert np.all(y_train.sum(axis=1) == 1.0) and set(np.unique(y_train)) == {0.0, 1.0}
    (x_raw, y_raw), _ = mnist.load_data(shared)
    np.testing.assert_array_equal(y_train.argmax(axis=1), y_raw)
    np.testing.assert_allclose(x_train[0], x_raw[0].ravel() / 255.0, rtol=1e-6)


def test_load_flat_int_labels_and_float64(shared):
    (x_train, y_train), (x_test, y_test) = mnist.load_flat(shared, one_hot=False, dtype=np.float64)
    assert x_train.dtype == np.float64 and x_test.dtype == np.float64
    assert y_train.shape == (60000,) and y_train.dtype == np.int64 and y_train[0] == 5
    assert y_test.shape == (10000,) and y_test.dtype == np.int64


def test_load_flat_refuses_an_integer_dtype(shared):
    with pytest.raises(TypeError, match="floating dtype.*int32"):
        mnist.load_flat(shared, dtype=np.int32)


# --------------------------------------------------------------------------------------
# A data directory that was named is only read
# --------------------------------------------------------------------------------------


def test_missing_file_in_named_dir_is_reported_not_downloaded(shared, tmp_path, server, cache):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in NAMES[1:]:
        (folder / f"{name}.gz").symlink_to(_source(name))
    before = _listing(folder)
    with pytest.raises(mnist.MnistNotFoundError) as info:
        mnist.load_data(tmp_path / "data", mirrors=[server("good")], verbose=False)
    message = str(info.value)
    assert NAMES[0] in message and str(folder) in message
    assert "download(" in message and "COURSE_DATA_DIR" in message
    assert _listing(folder) == before
    assert _listing(cache) == set()  # nothing was downloaded either


def test_missing_file_named_by_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(mnist.MnistNotFoundError, match="COURSE_DATA_DIR") as info:
        mnist.load_data()
    assert all(name in str(info.value) for name in NAMES)
    assert isinstance(info.value, FileNotFoundError)
    assert _listing(tmp_path) == set()


def test_corrupt_file_in_named_dir_is_reported_and_kept(shared, tmp_path):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in NAMES[:-1]:
        (folder / f"{name}.gz").symlink_to(_source(name))
    bad = bytearray(_raw(NAMES[-1]))
    bad[100] ^= 0xFF
    (folder / NAMES[-1]).write_bytes(bytes(bad))
    with pytest.raises(mnist.MnistCorruptError) as info:
        mnist.load_data(tmp_path)
    message = str(info.value)
    assert str(folder / NAMES[-1]) in message
    assert mnist.FILES[NAMES[-1]] in message and _sha(bytes(bad)) in message
    assert (folder / NAMES[-1]).read_bytes() == bytes(bad)


def test_hint_when_the_mnist_folder_itself_is_given(shared):
    with pytest.raises(mnist.MnistNotFoundError, match="pass its parent"):
        mnist.load_data(shared / "mnist")


# --------------------------------------------------------------------------------------
# Downloading into the cache
# --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_download_into_the_cache(shared, server, cache, closed_port_url):
    train, test = mnist.load_data(mirrors=[server("good")], verbose=False)
    _assert_is_mnist(train, test)
    assert _listing(cache) == {f"{name}.gz" for name in NAMES}
    for name in NAMES:
        assert _sha(gzip.decompress((cache / f"{name}.gz").read_bytes())) == mnist.FILES[name]
    # Next time the cache is enough: no mirror is needed.
    mnist._MEMO.clear()
    train, test = mnist.load_data(mirrors=[closed_port_url], verbose=False)
    _assert_is_mnist(train, test)


def test_empty_variable_counts_as_unset(shared, server, cache, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", "")
    train, test = mnist.load_data(mirrors=[server("good")], verbose=False)
    _assert_is_mnist(train, test)
    assert _listing(cache) == {f"{name}.gz" for name in NAMES}


def test_mirror_fallback_after_404(shared, server, cache):
    train, test = mnist.load_data(mirrors=[server("missing"), server("good")], verbose=False)
    _assert_is_mnist(train, test)
    assert _listing(cache) == {f"{name}.gz" for name in NAMES}


@pytest.mark.slow
def test_mirror_fallback_after_bad_content(shared, server, cache):
    mirrors = [server("flipped"), server("wrong"), server("truncated"), server("good")]
    train, test = mnist.load_data(mirrors=mirrors, verbose=False)
    _assert_is_mnist(train, test)
    assert _listing(cache) == {f"{name}.gz" for name in NAMES}


@pytest.mark.parametrize(
    "folder, reason",
    [
        ("truncated", "cannot be decompressed"),
        ("flipped", "cannot be decompressed|sha256"),
        ("wrong", "sha256 of its decompressed bytes is"),
        ("short", "IncompleteRead|cut short"),
        ("missing", "404"),
    ],
)
def test_bad_download_leaves_nothing_behind(shared, server, cache, folder, reason):
    with pytest.raises(mnist.MnistNotFoundError, match=reason) as info:
        mnist.load_data(mirrors=[server(folder)], verbose=False)
    assert server(folder) in str(info.value)
    assert _listing(cache) == set()


def test_wrong_download_names_both_checksums(shared, server, cache):
    with pytest.raises(mnist.MnistNotFoundError) as info:
        mnist.load_data(mirrors=[server("wrong")], verbose=False)
    assert mnist.FILES[NAMES[0]] in str(info.value)


def test_no_mirror_reachable(cache, closed_port_url):
    other = closed_port_url.replace("/mnist/", "/other/")
    with pytest.raises(mnist.MnistNotFoundError) as info:
        mnist.load_data(mirrors=[closed_port_url, other], verbose=False)
    message = str(info.value)
    assert all(name in message for name in NAMES)
    assert "COURSE_DATA_DIR" in message
    assert closed_port_url in message and other in message
    assert str(cache) in message
    assert _listing(cache) == set()


def test_no_mirrors_at_all(cache):
    with pytest.raises(mnist.MnistNotFoundError, match="list of mirrors is empty"):
        mnist.load_data(mirrors=[], verbose=False)


def test_a_silent_mirror_times_out(cache):
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/mnist/"
        # the loader gives up by itself (the error says so): it does not wait for the server
        with pytest.raises(mnist.MnistNotFoundError, match="timed out"):
            mnist.load_data(mirrors=[url], timeout=0.3, verbose=False)
    assert _listing(cache) == set()


def test_interrupted_download_leaves_nothing_behind(shared, server, cache, monkeypatch):
    def interrupt(path, name, shown=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(mnist, "_read_verified", interrupt)
    with pytest.raises(KeyboardInterrupt):
        mnist.load_data(mirrors=[server("good")], verbose=False)
    assert _listing(cache) == set()


def test_corrupt_cached_file_is_reported_removed_and_replaced(shared, server, cache):
    cache.mkdir(parents=True)
    for name in NAMES:
        shutil.copyfile(_source(name), cache / _source(name).name)
    name = NAMES[1]
    bad = gzip.compress(b"\x00\x00\x08\x01" + b"\x00" * 10)
    bad_path = cache / f"{name}.gz"
    bad_path.write_bytes(bad)
    with pytest.warns(mnist.MnistCacheWarning) as record:
        train, test = mnist.load_data(mirrors=[server("good")], verbose=False)
    _assert_is_mnist(train, test)
    message = str(record[0].message)
    assert str(bad_path) in message
    assert mnist.FILES[name] in message and _sha(gzip.decompress(bad)) in message
    assert _sha(gzip.decompress(bad_path.read_bytes())) == mnist.FILES[name]
    assert _listing(cache) == {_source(n).name for n in NAMES}


def test_download_into_a_chosen_directory(shared, server, tmp_path, cache):
    folder = mnist.download(tmp_path / "data", mirrors=[server("good")], verbose=False)
    assert folder == tmp_path / "data" / "mnist"
    assert _listing(folder) == {f"{name}.gz" for name in NAMES}
    _assert_is_mnist(*mnist.load_data(tmp_path / "data"))
    assert _listing(cache) == set()


def test_progress_without_tqdm(shared, server, cache, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # as if tqdm were not installed
    mnist.load_data(mirrors=[server("good")], verbose=True)
    err = capsys.readouterr().err
    assert f"Downloading {server('good')}{NAMES[0]}.gz" in err and "done." in err


def test_unwritable_cache_is_reported(tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    with pytest.raises(PermissionError, match="COURSE_CACHE_DIR"):
        mnist.load_data(mirrors=["http://127.0.0.1:9/"], verbose=False)


# --------------------------------------------------------------------------------------
# The cache directory
# --------------------------------------------------------------------------------------


def test_cache_dir_per_platform(tmp_path, monkeypatch):
    monkeypatch.delenv("COURSE_CACHE_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setattr(sys, "platform", "linux")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert mnist.cache_dir() == tmp_path / "xdg" / "course"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/path")  # ignored, as XDG says
    assert mnist.cache_dir() == tmp_path / ".cache" / "course"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert mnist.cache_dir() == tmp_path / ".cache" / "course"
    monkeypatch.setattr(sys, "platform", "darwin")
    assert mnist.cache_dir() == tmp_path / "Library" / "Caches" / "course"
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setenv("LOCALAPPDATA", str(tmp_path / "Local"))
    assert mnist.cache_dir() == tmp_path / "Local" / "course" / "Cache"
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "mine"))
    assert mnist.cache_dir() == tmp_path / "mine"


# --------------------------------------------------------------------------------------
# IDX parsing
# --------------------------------------------------------------------------------------


def _idx(shape, body: bytes, type_code: int = 0x08) -> bytes:
    header = bytes([0, 0, type_code, len(shape)])
    return header + b"".join(s.to_bytes(4, "big") for s in shape) + body


@settings(max_examples=50, deadline=None)
@given(
    shape=st.lists(st.integers(0, 6), min_size=1, max_size=3),
    data=st.data(),
)
def test_parse_idx_round_trip(shape, data):
    size = int(np.prod(shape))
    body = data.draw(st.binary(min_size=size, max_size=size))
    array = mnist.parse_idx(_idx(shape, body))
    assert array.shape == tuple(shape) and array.dtype == np.uint8
    assert array.tobytes() == body


def test_parse_idx_magic_numbers():
    assert int.from_bytes(_idx((1, 2, 3), b"")[:4], "big") == 2051
    assert int.from_bytes(_idx((1,), b"")[:4], "big") == 2049


@pytest.mark.parametrize(
    "data, match",
    [
        (b"", "not an IDX file"),
        (b"\x1f\x8b\x08\x00", "not an IDX file"),
        (_idx((2,), b"ab", type_code=0x0D), "type code 0x0d"),
        (b"\x00\x00\x08\x03\x00\x00", "too short for its IDX header"),
        (_idx((2, 2), b"abc"), r"header declares shape \(2, 2\)"),
        (_idx((2,), b"abc"), "has 11 bytes"),
    ],
)
def test_parse_idx_errors(data, match):
    with pytest.raises(mnist.MnistCorruptError, match=match):
        mnist.parse_idx(data)


def test_relative_data_dir_is_explained(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COURSE_DATA_DIR", "../not-there")
    with pytest.raises(mnist.MnistNotFoundError, match="does not exist.*current directory"):
        mnist.load_data()


def test_where_from_names_the_source_without_reading_or_downloading(cache, tmp_path, monkeypatch):
    text = mnist.where_from()
    assert "COURSE_DATA_DIR is not set" in text and "downloaded" in text and str(cache) in text
    assert not cache.exists(), "where_from only looks"
    cache.mkdir(parents=True)
    for name in mnist.FILES:
        (cache / f"{name}.gz").write_bytes(b"")
    assert mnist.where_from().startswith(f"MNIST is read from the cache, {cache}")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "shared"))
    assert "COURSE_DATA_DIR environment variable" in mnist.where_from()
    assert "data_dir argument" in mnist.where_from(tmp_path / "mine")

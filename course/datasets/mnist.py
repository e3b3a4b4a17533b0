"""MNIST, the handwritten digits, loaded like ``keras.datasets.mnist.load_data()``.

MNIST holds 70,000 grey-level images of handwritten digits, 28 x 28 pixels each, with
their labels 0..9: 60,000 for training and 10,000 for testing. It comes as four files
in the IDX format (a short big-endian header, then the raw bytes)::

    train-images-idx3-ubyte    (60000, 28, 28) uint8 pixels, 0 (white) .. 255 (black)
    train-labels-idx1-ubyte    (60000,)        uint8 labels 0..9
    t10k-images-idx3-ubyte     (10000, 28, 28)
    t10k-labels-idx1-ubyte     (10000,)

Each file may be kept gzip-compressed (with a ``.gz`` suffix, as the mirrors serve it)
or raw. A *data directory* holds them in its ``mnist/`` subfolder, for example
``<data_dir>/mnist/train-images-idx3-ubyte.gz``.

Where :func:`load_data` looks, the first that applies wins:

1. the ``data_dir`` argument;
2. the ``COURSE_DATA_DIR`` environment variable (unset or empty: skipped);
3. the cache directory (:func:`cache_dir`), downloading any missing file into it
   from the mirrors in :data:`MIRRORS`, tried in turn.

A directory named by 1. or 2. is only ever read, never written to (it may be a
read-only copy shared between users): a missing or corrupt file there is an error
that says which file, where, and what to do. To download into a directory of your
choice, call :func:`download` with it.

Every file is checked against the sha256 checksum of its *decompressed* bytes, so the
same checksums hold whichever mirror served it and however it was compressed.

Example
-------
>>> from course.datasets import mnist
>>> (x_train, y_train), (x_test, y_test) = mnist.load_data()   # doctest: +SKIP
>>> x_train.shape, x_train.dtype, y_train[:5]                  # doctest: +SKIP
((60000, 28, 28), dtype('uint8'), array([5, 0, 4, 1, 9], dtype=uint8))

Environment variables
---------------------
``COURSE_DATA_DIR``
    A data directory that already holds MNIST in its ``mnist/`` subfolder.
``COURSE_CACHE_DIR``
    Overrides the cache directory (downloads go to ``$COURSE_CACHE_DIR/mnist/``).
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import sys
import tempfile
import warnings
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np

from ..utils import check_int, get_rng

__all__ = [
    "FILES",
    "MIRRORS",
    "MnistCacheWarning",
    "MnistCorruptError",
    "MnistNotFoundError",
    "Subset",
    "cache_dir",
    "download",
    "load_data",
    "load_flat",
    "load_subset",
    "parse_idx",
    "where_from",
]

#: The four files, each with the sha256 checksum of its decompressed bytes.
FILES = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: The shape each file's IDX header must declare.
SHAPES = {
    "train-images-idx3-ubyte": (60000, 28, 28),
    "train-labels-idx1-ubyte": (60000,),
    "t10k-images-idx3-ubyte": (10000, 28, 28),
    "t10k-labels-idx1-ubyte": (10000,),
}

#: Public copies of MNIST, tried in this order. Each serves ``<mirror><file>.gz``.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

#: Environment variable naming a data directory that already holds MNIST.
DATA_DIR_VARIABLE = "COURSE_DATA_DIR"
#: Environment variable overriding the cache directory.
CACHE_DIR_VARIABLE = "COURSE_CACHE_DIR"
#: Seconds to wait for a mirror to connect or to send the next piece of a file.
TIMEOUT = 30.0

_SUBFOLDER = "mnist"
_GZIP_MAGIC = b"\x1f\x8b"
# IDX magic numbers: two zero bytes, the type code 0x08 (unsigned byte), the number of dims.
_MAGIC = {3: 2051, 1: 2049}  # images (3 dims), labels (1 dim)


class MnistNotFoundError(FileNotFoundError):
    """MNIST is neither where it was looked for nor could it be downloaded."""


class MnistCorruptError(ValueError):
    """A file does not hold what it should: wrong checksum, bad gzip data or a bad IDX header."""


class MnistCacheWarning(UserWarning):
    """A corrupt file was found in the cache; it is removed and downloaded again."""


# --------------------------------------------------------------------------------------
# Where the files live
# --------------------------------------------------------------------------------------


def cache_dir() -> Path:
    """Return the directory where downloaded data sets are kept (MNIST goes in its ``mnist/``).

    ``$COURSE_CACHE_DIR`` if set, else the platform's cache directory for ``course``:

    * Linux and others: ``$XDG_CACHE_HOME/course``, or ``~/.cache/course``
    * macOS: ``~/Library/Caches/course``
    * Windows: ``%LOCALAPPDATA%\\course\\Cache``

    Example
    -------
    >>> cache_dir()                               # doctest: +SKIP
    PosixPath('/home/ada/.cache/course')
    """
    override = os.environ.get(CACHE_DIR_VARIABLE)
    if override:
        return Path(override).expanduser()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA")
        root = Path(base) if base else Path.home() / "AppData" / "Local"
        return root / "course" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "course"
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG specification says to ignore a relative path.
    root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return root / "course"


def _explicit_dir(data_dir) -> tuple[Path, str] | None:
    """Return (data directory, where it came from) if one was named, else None."""
    if data_dir is not None:
        return Path(os.fspath(data_dir)).expanduser(), "the data_dir argument"
    from_env = os.environ.get(DATA_DIR_VARIABLE)
    if from_env:
        return Path(from_env).expanduser(), f"the {DATA_DIR_VARIABLE} environment variable"
    return None


def where_from(data_dir=None) -> str:
    """Say, in a sentence, where :func:`load_data` reads MNIST from with these settings.

    Nothing is read or downloaded: the answer follows the order of the module docstring (the
    ``data_dir`` argument, then ``COURSE_DATA_DIR``, then the cache, downloading what it lacks).

    >>> where_from("/srv/data")                  # doctest: +SKIP
    'MNIST is read from /srv/data/mnist (named by the data_dir argument).'
    """
    explicit = _explicit_dir(data_dir)
    if explicit is not None:
        root, source = explicit
        return f"MNIST is read from {root / _SUBFOLDER} (named by {source})."
    folder = cache_dir() / _SUBFOLDER
    missing = [name for name in FILES if not _candidates(folder, name)]
    if not missing:
        return (f"MNIST is read from the cache, {folder} ({DATA_DIR_VARIABLE} is not set; the files "
                "were downloaded there earlier).")
    return (f"{DATA_DIR_VARIABLE} is not set and the cache {folder} lacks {len(missing)} of the 4 "
            f"files: they are downloaded there on first use (about 11 MB, from {MIRRORS[0]} or "
            "another mirror).")


def _candidates(folder: Path, name: str) -> list[Path]:
    """Return the copies of file ``name`` present in ``folder``: raw first, then ``.gz``."""
    return [p for p in (folder / name, folder / f"{name}.gz") if p.is_file()]


def _file_list() -> str:
    return "\n".join(f"    {name:<24} (or {name}.gz)" for name in FILES)


# --------------------------------------------------------------------------------------
# Reading and checking one file
# --------------------------------------------------------------------------------------


def parse_idx(data: bytes, name: str = "IDX data") -> np.ndarray:
    """Turn the bytes of an IDX file of unsigned bytes into a read-only uint8 array.

    The header is big-endian: two zero bytes, the type code ``0x08`` (unsigned byte), the
    number of dimensions ``d``, then ``d`` sizes as 4-byte integers; the values follow.
    So the first four bytes read as the magic number 2051 for images (d = 3) and 2049
    for labels (d = 1).

    Parameters
    ----------
    data : bytes
        The whole decompressed file.
    name : str
        What to call the data in error messages.

    Returns
    -------
    np.ndarray
        uint8 array of the shape the header declares, e.g. (60000, 28, 28). It shares
        memory with ``data`` and cannot be written to; ``.copy()`` it to modify it.

    Example
    -------
    >>> parse_idx(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1]))
    array([7, 2, 1], dtype=uint8)
    """
    if len(data) < 4 or data[:2] != b"\x00\x00":
        raise MnistCorruptError(
            f"{name} is not an IDX file: it starts with bytes {data[:4].hex() or '(none)'}, "
            "expected 0000 then a type code and a number of dimensions."
        )
    type_code, ndim = data[2], data[3]
    if type_code != 0x08:
        raise MnistCorruptError(
            f"{name} holds IDX type code 0x{type_code:02x}, expected 0x08 (unsigned bytes)."
        )
    header_size = 4 + 4 * ndim
    if len(data) < header_size:
        raise MnistCorruptError(
            f"{name} is too short for its IDX header: {len(data)} bytes, "
            f"expected at least {header_size} for {ndim} dimensions."
        )
    shape = tuple(int(s) for s in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    expected_size = header_size + int(np.prod(shape, dtype=np.int64))
    if len(data) != expected_size:
        raise MnistCorruptError(
            f"{name} has {len(data)} bytes, but its header declares shape {shape}, "
            f"which needs {expected_size}."
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header_size).reshape(shape)


def _read_verified(path: Path, name: str, shown: str | None = None) -> np.ndarray:
    """Read MNIST file ``name`` from ``path`` (gzip or raw) and check it thoroughly.

    Returns the read-only uint8 array; raises MnistCorruptError naming the file (as
    ``shown``, default its path) if the data cannot be decompressed, has the wrong
    sha256, or has an unexpected IDX header.
    """
    shown = f"MNIST file {path}" if shown is None else shown
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:  # decided by content, not by the file name
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise MnistCorruptError(
                f"{shown} is corrupt: its gzip data cannot be decompressed ({err})."
            ) from None
    actual, expected = hashlib.sha256(data).hexdigest(), FILES[name]
    if actual != expected:
        raise MnistCorruptError(
            f"{shown} is corrupt: the sha256 of its decompressed bytes is "
            f"{actual}, expected {expected}."
        )
    array = parse_idx(data, name=shown)
    magic = int.from_bytes(data[:4], "big")
    if magic != _MAGIC.get(len(SHAPES[name])) or array.shape != SHAPES[name]:
        raise MnistCorruptError(
            f"{shown} has magic number {magic} and shape {array.shape}, "
            f"expected {_MAGIC[len(SHAPES[name])]} and {SHAPES[name]}."
        )
    return array


# Arrays already read and checked in this process, so that loading twice is quick.
# Key: (path, size, modification time), so a file that changed is read again.
_MEMO: dict[tuple[str, int, int], np.ndarray] = {}
_MEMO_MAX = 8  # two full sets of four files


def _memo_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return (str(path.resolve()), stat.st_size, stat.st_mtime_ns)


def _remember(path: Path, array: np.ndarray) -> None:
    while len(_MEMO) >= _MEMO_MAX:
        del _MEMO[next(iter(_MEMO))]  # forget the oldest
    _MEMO[_memo_key(path)] = array


def _load_file(path: Path, name: str) -> np.ndarray:
    """Like _read_verified, but remembers the result for the rest of the process."""
    key = _memo_key(path)
    if key not in _MEMO:
        _remember(path, _read_verified(path, name))
    return _MEMO[key]


# --------------------------------------------------------------------------------------
# Downloading
# --------------------------------------------------------------------------------------


class _Progress:
    """Show how a download is going: a tqdm bar if tqdm is installed, else two lines of text."""

    def __init__(self, url: str, total: int | None, verbose: bool):
        self.bar = None
        self.verbose = verbose
        if not verbose:
            return
        try:
            from tqdm.auto import tqdm
        except ImportError:
            size = f" ({total / 1e6:.1f} MB)" if total else ""
            print(f"Downloading {url}{size} ...", file=sys.stderr, flush=True)
        else:
            self.bar = tqdm(total=total, unit="B", unit_scale=True, desc=url.rsplit("/", 1)[-1])

    def update(self, n: int) -> None:
        if self.bar is not None:
            self.bar.update(n)

    def close(self, ok: bool) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.verbose and ok:
            print("    done.", file=sys.stderr, flush=True)


def _download_one(url: str, folder: Path, name: str, timeout: float, verbose: bool) -> Path:
    """Download ``url`` into ``folder`` as MNIST file ``name``; return the path it is saved at.

    The bytes go to a temporary file in ``folder``, which is checked and only then
    renamed into place (``os.replace`` is atomic), so ``folder`` never holds a partial
    file, even when the download fails or is interrupted (Ctrl-C).
    """
    import urllib.request  # here, not at the top: only downloads need it

    request = urllib.request.Request(url, headers={"User-Agent": "course-datasets"})
    fd, tmp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".part", dir=folder)
    tmp = Path(tmp_name)
    progress = None
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(request, timeout=timeout) as resp:
            length = resp.headers.get("Content-Length")
            total = int(length) if length and length.isdigit() else None
            progress = _Progress(url, total, verbose)
            received = 0
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                received += len(chunk)
                progress.update(len(chunk))
        if total is not None and received != total:
            raise MnistCorruptError(f"the download was cut short: {received} of {total} bytes")
        array = _read_verified(tmp, name, shown=f"The file downloaded from {url}")
        with open(tmp, "rb") as saved:
            compressed = saved.read(2) == _GZIP_MAGIC
        final = folder / (f"{name}.gz" if compressed else name)
        os.replace(tmp, final)
    except BaseException:
        if progress is not None:
            progress.close(ok=False)
        tmp.unlink(missing_ok=True)
        raise
    progress.close(ok=True)
    _remember(final, array)
    return final


def _describe(err: BaseException) -> str:
    """One line saying why a download failed."""
    return (str(err) or "(no message)").splitlines()[0]


def _fetch(folder: Path, name: str, mirrors, timeout: float, verbose: bool, searched: str) -> Path:
    """Download MNIST file ``name`` into ``folder`` from the first mirror that serves it."""
    failures = []
    for mirror in mirrors:
        url = f"{mirror.rstrip('/')}/{name}.gz"
        try:
            return _download_one(url, folder, name, timeout, verbose)
        except (OSError, ValueError, EOFError, http.client.HTTPException) as err:
            failures.append(f"    {url}\n        {type(err).__name__}: {_describe(err)}")
    tried = "\n".join(failures) if failures else "    (none: the list of mirrors is empty)"
    raise MnistNotFoundError(
        f"MNIST could not be found, nor downloaded.\n"
        f"It is made of these four files:\n{_file_list()}\n"
        f"Looked in:\n{searched}\n"
        f"Tried to download {name}.gz from:\n{tried}\n"
        f"To use a copy you already have, put the four files in <dir>/{_SUBFOLDER}/ and set the "
        f"{DATA_DIR_VARIABLE} environment variable to <dir> (or pass data_dir=<dir>). "
        f"To download, check the network connection, or pass mirrors=[...] naming a copy "
        f"you can reach."
    )


def _prepare(folder: Path) -> None:
    """Create ``folder`` if needed and check that files can be written in it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise PermissionError(
            f"Cannot create the directory {folder} to download MNIST into: {err}. "
            f"Set {CACHE_DIR_VARIABLE} to a writable directory, or {DATA_DIR_VARIABLE} "
            f"to a directory that already holds MNIST."
        ) from None
    if not os.access(folder, os.W_OK):
        raise PermissionError(
            f"Cannot write in {folder} to download MNIST into it. "
            f"Set {CACHE_DIR_VARIABLE} to a writable directory, or {DATA_DIR_VARIABLE} "
            f"to a directory that already holds MNIST."
        )


def _load_or_fetch(folder: Path, mirrors, timeout: float, verbose: bool) -> dict[str, np.ndarray]:
    """Load the four files from ``folder``, downloading what is missing or corrupt."""
    searched = f"    {folder}"
    if not os.environ.get(DATA_DIR_VARIABLE):
        searched += f"\n    ({DATA_DIR_VARIABLE} is not set, so no other directory)"
    arrays = {}
    for name in FILES:
        for path in _candidates(folder, name):
            try:
                arrays[name] = _load_file(path, name)
                break
            except MnistCorruptError as err:
                warnings.warn(
                    f"{err} Removing it and downloading it again.", MnistCacheWarning, stacklevel=3
                )
                path.unlink(missing_ok=True)
        if name not in arrays:
            _prepare(folder)
            path = _fetch(folder, name, mirrors, timeout, verbose, searched)
            arrays[name] = _load_file(path, name)
    return arrays


def download(
    data_dir=None, *, mirrors=None, timeout: float = TIMEOUT, verbose: bool = True
) -> Path:
    """Download any MNIST file missing from ``<data_dir>/mnist/``; return that folder.

    Files already there are checked; a corrupt one is reported (a MnistCacheWarning),
    removed and downloaded again. Each download is written to a temporary file, checked
    against its sha256, then renamed into place, so no partial file is ever left behind.

    Parameters
    ----------
    data_dir : str or Path, optional
        Data directory to download into (it must be writable). Default: :func:`cache_dir`.
    mirrors : sequence of str, optional
        Base URLs, tried in turn for each file; each must serve ``<mirror><file>.gz``.
        Default: :data:`MIRRORS`.
    timeout : float
        Seconds to wait for a mirror to connect or to send the next piece of data.
    verbose : bool
        Show the progress of each download (a tqdm bar when tqdm is installed).

    Returns
    -------
    Path
        The folder holding the four files, e.g. ``~/.cache/course/mnist``.

    Example
    -------
    >>> download("~/data")                        # doctest: +SKIP
    PosixPath('/home/ada/data/mnist')
    """
    root = cache_dir() if data_dir is None else Path(os.fspath(data_dir)).expanduser()
    folder = root / _SUBFOLDER
    _load_or_fetch(folder, MIRRORS if mirrors is None else tuple(mirrors), timeout, verbose)
    return folder


# --------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------


def _load_explicit(root: Path, source: str) -> dict[str, np.ndarray]:
    """Load the four files from a data directory the user named; never write there."""
    folder = root / _SUBFOLDER
    advice = (
        f"{folder} (named by {source}) is only read, never written to. "
        f"Copy good files there, or leave {DATA_DIR_VARIABLE} unset and data_dir out so that "
        f"MNIST is downloaded to the cache directory {cache_dir()}, or call "
        f"course.datasets.mnist.download({str(root)!r}) to download into this directory."
    )
    found = {name: _candidates(folder, name) for name in FILES}
    missing = [name for name, paths in found.items() if not paths]
    if missing:
        where = f"MNIST is not complete in {folder}."
        if not folder.is_dir():
            where = f"MNIST is not in {folder}: that directory does not exist."
        if not root.is_absolute():
            where += f" (A relative path is taken from the current directory, {Path.cwd()}.)"
        hint = ""
        if all(_candidates(root, name) for name in FILES):
            hint = (
                f"The files are in {root} itself: pass its parent, {root.parent}, because a "
                f"data directory holds MNIST in its {_SUBFOLDER}/ subfolder.\n"
            )
        raise MnistNotFoundError(
            f"{where}\n"
            f"Missing: {', '.join(missing)} (each may also end in .gz).\n"
            f"It needs these four files:\n{_file_list()}\n"
            f"{hint}{advice}"
        )
    arrays = {}
    for name, paths in found.items():
        try:
            arrays[name] = _load_file(paths[0], name)
        except MnistCorruptError as err:
            raise MnistCorruptError(f"{err}\n{advice}") from None
    return arrays


def load_data(data_dir=None, *, mirrors=None, timeout: float = TIMEOUT, verbose: bool = True):
    """Load MNIST as ``keras.datasets.mnist.load_data()`` does.

    Looks in ``data_dir``, else in ``$COURSE_DATA_DIR``, else in the cache directory,
    downloading there what is missing (see the module's description). Every file is
    checked against its sha256 checksum. Loading again in the same process is quick.

    Parameters
    ----------
    data_dir : str or Path, optional
        A data directory holding MNIST in its ``mnist/`` subfolder. Only read.
    mirrors : sequence of str, optional
        Where to download from, tried in turn (default :data:`MIRRORS`).
    timeout : float
        Seconds to wait for a mirror to connect or to send the next piece of data.
    verbose : bool
        Show the progress of downloads.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        x_train : uint8, shape (60000, 28, 28), pixels 0..255
        y_train : uint8, shape (60000,), labels 0..9
        x_test  : uint8, shape (10000, 28, 28)
        y_test  : uint8, shape (10000,)
        Fresh arrays: changing them changes nothing for the next call.

    Raises
    ------
    MnistNotFoundError
        The files are missing from the directory named, or cannot be downloaded.
    MnistCorruptError
        A file in the directory named does not match its checksum.

    Example
    -------
    >>> (x_train, y_train), (x_test, y_test) = load_data()     # doctest: +SKIP
    >>> x_train.shape, int(y_train[0])                          # doctest: +SKIP
    ((60000, 28, 28), 5)
    """
    explicit = _explicit_dir(data_dir)
    if explicit is not None:
        arrays = _load_explicit(*explicit)
    else:
        folder = cache_dir() / _SUBFOLDER
        mirrors = MIRRORS if mirrors is None else tuple(mirrors)
        arrays = _load_or_fetch(folder, mirrors, timeout, verbose)
    x_train, y_train, x_test, y_test = (arrays[name].copy() for name in FILES)
    return (x_train, y_train), (x_test, y_test)


def _one_hot(labels: np.ndarray, n_classes: int, dtype) -> np.ndarray:
    """(n,) integer labels -> (n, n_classes) rows of zeros with a one at each label."""
    return np.eye(n_classes, dtype=dtype)[labels]


def load_flat(data_dir=None, one_hot: bool = True, dtype=np.float32):
    """Load MNIST ready for a dense network: flat rows of pixels in [0, 1], one-hot labels.

    Parameters
    ----------
    data_dir : str or Path, optional
        As for :func:`load_data`.
    one_hot : bool
        Return labels as one-hot rows (default) or as integer labels.
    dtype : floating dtype
        dtype of the pixels (and of the one-hot labels). Default float32.

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        x_train : dtype, shape (60000, 784), pixels / 255, so in [0, 1]
        y_train : dtype, shape (60000, 10) one-hot; or int64, shape (60000,) if not one_hot
        x_test  : dtype, shape (10000, 784)
        y_test  : dtype, shape (10000, 10); or int64, shape (10000,)

    Example
    -------
    >>> (x_train, y_train), (x_test, y_test) = load_flat()     # doctest: +SKIP
    >>> x_train.shape, y_train.shape, y_train[0].argmax()       # doctest: +SKIP
    ((60000, 784), (60000, 10), 5)
    """
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(
            f"load_flat needs a floating dtype for the pixels, got {dtype}. "
            "Use e.g. dtype=np.float32, or load_data() for the raw uint8 pixels."
        )
    (x_train, y_train), (x_test, y_test) = load_data(data_dir)

    def flat(x):
        out = x.reshape(len(x), -1).astype(dtype)
        out /= 255
        return out

    def labels(y):
        return _one_hot(y, 10, dtype) if one_hot else y.astype(np.int64)

    return (flat(x_train), labels(y_train)), (flat(x_test), labels(y_test))


class Subset(NamedTuple):
    """A training and a validation set: x float32 (n, 784) in [0, 1], y one-hot (n, 10)."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray


def load_subset(n_train: int = 5000, n_val: int = 1000, seed: int = 0, data=None,
                data_dir=None) -> Subset:
    """``n_train`` + ``n_val`` different MNIST training images, drawn at random with ``seed``.

    The validation images come from the training file too (the test set stays untouched for
    final numbers). ``data``: the result of ``mnist.load_flat()`` when already loaded;
    otherwise it is loaded from ``data_dir`` (or COURSE_DATA_DIR).
    """
    for name, value in (("n_train", n_train), ("n_val", n_val)):
        check_int(name, value, low=1)
    if data is None:
        data = load_flat(data_dir)
    (x, y), _ = data
    if n_train + n_val > len(x):
        raise ValueError(f"n_train + n_val = {n_train + n_val} is more than the {len(x)} training "
                         "images: ask for fewer.")
    order = get_rng(seed).permutation(len(x))
    train, val = order[:n_train], order[n_train:n_train + n_val]
    return Subset(x[train], y[train], x[val], y[val])


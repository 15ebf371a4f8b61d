"""Verified, atomic downloads and the check of files already unpacked.

Nothing half-written ever carries a final name: downloads go to a temporary
file beside their destination and archives unpack into a temporary folder,
and only a verified result is renamed into place. A download is verified by
its checksum and by its length (the server's Content-Length or the
registry's size); one that can be verified by neither is refused unless the
caller passes ``verify=False``, since a connection cut without either cannot
be told from a complete file.
"""

import hashlib
import http.client
import json
import os
import shutil
import sys
import tarfile
import tempfile
import urllib.request
import warnings
import zipfile
from pathlib import Path

from recsys.datasets._catalog import DatasetInfo, get_dataset_info
from recsys.datasets._home import get_data_home

_CHUNK = 1 << 20
MARKER = ".sha256-verified"


class DatasetNotFoundError(FileNotFoundError):
    """A data set's files are absent and could not be downloaded."""


def file_hash(path, algorithm="sha256"):
    """Hex digest of a file, read in chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as stream:
        for chunk in iter(lambda: stream.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _progress(total, description, enabled):
    """A rich progress bar, or None when disabled."""
    if not enabled:
        return None
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                        TransferSpeedColumn(), TimeRemainingColumn(), transient=True)
    progress.start()
    task = progress.add_task(description, total=total)
    return progress, task


def download_file(url, destination, known_hash=None, progressbar=None, timeout=60, *,
                  size=None, allow_unverified=False):
    """Download ``url`` to ``destination``, verified and atomically.

    Parameters
    ----------
    url : str
    destination : path-like
        Final path; its folder is created.
    known_hash : str, default=None
        ``"sha256:<hex>"`` or ``"md5:<hex>"``; None skips the check.
    progressbar : bool, default=None
        Show a progress bar; by default when stderr is a terminal.
    timeout : float, default=60
        Seconds to wait for the server.
    size : int, default=None
        Expected size in bytes, where known.
    allow_unverified : bool, default=False
        Keep a download that nothing can verify: no ``known_hash``, no
        ``size`` and no Content-Length from the server. By default such a
        download is deleted and an ``OSError`` raised, because a cut
        connection would leave a truncated file that looks complete.

    Returns
    -------
    pathlib.Path
        ``destination``, which exists only when the whole file arrived:
        its length matches the announced and the expected size, and its
        checksum ``known_hash``.
    """
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    algorithm, expected = known_hash.split(":", 1) if known_hash else ("sha256", None)
    if progressbar is None:
        progressbar = sys.stderr.isatty()
    descriptor, partial = tempfile.mkstemp(prefix=f".{destination.name}.", suffix=".part",
                                           dir=destination.parent)
    try:
        digest = hashlib.new(algorithm)
        received = 0
        with os.fdopen(descriptor, "wb") as stream, \
                urllib.request.urlopen(url, timeout=timeout) as response:
            announced = response.headers.get("Content-Length")
            announced = int(announced) if announced is not None else None
            bar = _progress(announced or size, destination.name, progressbar)
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    stream.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar:
                        bar[0].update(bar[1], advance=len(chunk))
            finally:
                if bar:
                    bar[0].stop()
        for what, length in (("announced by the server", announced), ("in the registry", size)):
            if length is not None and received != length:
                raise OSError(f"the download of {url} stopped after {received} bytes, "
                              f"not the {length} {what}.")
        if expected is not None and digest.hexdigest() != expected.lower():
            raise OSError(
                f"the file downloaded from {url} has {algorithm} {digest.hexdigest()}, "
                f"not the expected {expected}: it is corrupted or the server changed it. "
                "It was deleted; try again later, or report the new checksum."
            )
        if expected is None and size is None and announced is None and not allow_unverified:
            raise OSError(
                f"the download of {url} cannot be verified: the registry has no checksum or size "
                "for it and the server sent no Content-Length, so a cut connection cannot be told "
                f"from a complete file. The {received} bytes received were deleted. Add the "
                "checksum to the registry entry, or pass verify=False to accept the file unverified."
            )
        os.replace(partial, destination)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return destination


def unpack(archive, data_home, folder):
    """Unpack ``archive`` into ``data_home/folder``; nothing already there is deleted.

    The archive is extracted into a temporary folder first. Archives that
    hold their files without a top folder are unpacked into ``folder`` all
    the same. A new ``folder`` is renamed into place whole (atomically); into
    an existing one each unpacked file is moved (each move atomic), replacing
    the file of the same name and keeping every other: the folder may hold the
    files of another archive of the same data set, or the user's own.
    """
    data_home, target = Path(data_home), Path(data_home) / folder
    staging = Path(tempfile.mkdtemp(prefix=f".{folder}.", suffix=".unpack", dir=data_home))
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(staging)
        else:
            with tarfile.open(archive) as bundle:
                bundle.extractall(staging, filter="data")
        content = staging / folder if (staging / folder).is_dir() else staging
        if target.exists():
            _move_into(content, target)
        else:
            os.replace(content, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _move_into(source, target):
    """Move the tree ``source`` into the existing folder ``target``, file by file."""
    for entry in source.iterdir():
        destination = target / entry.name
        if entry.is_dir() and destination.is_dir():
            _move_into(entry, destination)
        else:
            # Raises (IsADirectoryError, NotADirectoryError) rather than
            # replace a folder by a file or a file by a folder.
            os.replace(entry, destination)


def _read_marker(folder):
    try:
        return json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return {}


# Files verified in this process, keyed by (path, size, mtime): the marker file
# cannot be written into read-only data homes.
_verified_in_process = {}


def verify_files(info, data_home=None, *, trust_marker=True):
    """Check the key files of ``info`` against the registry's SHA-256.

    Parameters
    ----------
    info : DatasetInfo
    data_home : path-like, default=None
    trust_marker : bool, default=True
        Skip hashing a file whose size and modification time match those
        recorded when it was last hashed (in the ``.sha256-verified`` marker
        of the data set's folder, or in memory when the folder is
        read-only). False hashes every file. Either way each file hashed is
        recorded anew.

    Returns
    -------
    pathlib.Path
        The data set's folder.

    Raises
    ------
    OSError
        When a file's SHA-256 differs from the registry's.
    """
    folder = info.path(data_home)
    marker = _read_marker(folder)
    updated = False
    for name, expected in info.sha256.items():
        path = folder / name
        if not path.is_file():
            continue
        stat = path.stat()
        signature = [stat.st_size, stat.st_mtime_ns, expected]
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if trust_marker and (marker.get(name) == signature
                             or _verified_in_process.get(key) == expected):
            continue
        actual = file_hash(path)
        if actual != expected:
            raise OSError(
                f"{path} has SHA-256 {actual} but the registry entry {info.name!r} expects "
                f"{expected}: the file is damaged or from another release. Delete {folder} and "
                f"run recsys.datasets.fetch_dataset({info.name!r}) to download it again."
            )
        _verified_in_process[key] = expected
        if marker.get(name) != signature:
            marker[name] = signature
            updated = True
    if updated:
        try:
            (folder / MARKER).write_text(json.dumps(marker))
        except OSError:
            pass  # read-only data home: the in-process cache still applies
    return folder


def _check_verify(verify):
    """Raise unless verify is "auto", True or False (not 1, 0 or another string)."""
    if verify is True or verify is False or (isinstance(verify, str) and verify == "auto"):
        return verify
    raise ValueError(f"verify must be 'auto', True or False; got {verify!r}.")


def _missing_message(info, data_home, missing, reason):
    folder = info.path(data_home)
    names = ", ".join(path.name for path in missing)
    lines = [f"{info.title} ({info.name}) is not in {folder}: missing {names}. {reason}"]
    if not info.archives:
        lines.append(f"It has no official download URL; put the file(s) in {folder} yourself.")
    for archive in info.archives:
        check = (f" (check its {archive.known_hash.replace(':', ' ')})" if archive.known_hash
                 else "")
        where = (f"unpack it in {get_data_home(data_home)} so that {folder} holds {names}"
                 if archive.is_archive else f"save it in {folder}")
        lines.append(f"Download {archive.url}{check} and {where}.")
    if info.archives:
        lines.append(f"Or call recsys.datasets.fetch_dataset({info.name!r}, download=True) "
                     "where the network is reachable.")
    return " ".join(lines)


def fetch_dataset(name, data_home=None, download=True, progressbar=None, verify="auto"):
    """Return the folder holding the data set ``name``, downloading it if needed.

    Files already present are checked against the registry's SHA-256 as
    ``verify`` says. Missing files are downloaded from the registry's URLs,
    verified and unpacked, unless ``download=False``.

    Parameters
    ----------
    name : str or DatasetInfo
        A registry entry (see :func:`list_datasets`), or an entry object.
    data_home : path-like, default=None
        See :func:`get_data_home`.
    download : bool, default=True
        Whether to download missing files.
    progressbar : bool, default=None
        Show a progress bar; by default when stderr is a terminal.
    verify : {"auto", True, False}, default="auto"
        What is checked. Only key files with a SHA-256 in the registry can
        be checked; the others are never hashed.

        - ``"auto"``: each file is hashed the first time it is seen, and its
          size and modification time are recorded (in a ``.sha256-verified``
          marker in the data set's folder, and in memory); while both still
          match, it is trusted without hashing. This catches damaged,
          truncated, replaced and re-downloaded files, but not a file
          rewritten in place with the same size and its old modification
          time restored.
        - ``True``: every file is hashed on every call, whatever the marker
          says.
        - ``False``: nothing present is checked, and a download that cannot
          be verified (no checksum or size in the registry, no
          Content-Length from the server) is kept; it is refused otherwise.

        Downloads are always checked against the registry's checksum and
        size and the server's Content-Length, where there are any.

    Returns
    -------
    pathlib.Path
        The unpacked folder (``data_home / info.folder``).

    Raises
    ------
    DatasetNotFoundError
        When files are missing and ``download=False``, the entry has no URL,
        or the download failed; the message names the files, the URL and the
        folder to put them in.

    Examples
    --------
    >>> from recsys.datasets import fetch_dataset
    >>> fetch_dataset("ml-100k", download=False)  # doctest: +SKIP
    PosixPath('.../ml-100k')
    """
    _check_verify(verify)
    info = name if isinstance(name, DatasetInfo) else get_dataset_info(name)
    name = info.name
    if info.format == "generated":
        raise ValueError(f"{name!r} is generated, it has no files; use load_dataset({name!r}).")
    missing = info.missing_files(data_home)
    if missing:
        if not download:
            raise DatasetNotFoundError(_missing_message(
                info, data_home, missing, "Downloading is off (download=False)."))
        if not info.archives:
            raise DatasetNotFoundError(_missing_message(info, data_home, missing, ""))
        try:
            _download_entry(info, data_home, progressbar, allow_unverified=verify is False)
        except (OSError, http.client.HTTPException, zipfile.BadZipFile, tarfile.TarError) as error:
            raise DatasetNotFoundError(_missing_message(
                info, data_home, missing, f"The download failed: {error}")) from error
        missing = info.missing_files(data_home)
        if missing:
            raise DatasetNotFoundError(_missing_message(
                info, data_home, missing, "The downloaded archive does not hold them."))
    if verify is False:
        return info.path(data_home)
    return verify_files(info, data_home, trust_marker=verify == "auto")


def _download_entry(info, data_home, progressbar, allow_unverified=False):
    home = get_data_home(data_home)
    home.mkdir(parents=True, exist_ok=True)
    for archive in info.archives:
        if archive.known_hash is None:
            warnings.warn(f"{archive.url} has no known checksum (see the notes of the registry "
                          f"entry {info.name!r}): the download cannot be verified.", stacklevel=3)
        checks = {"size": archive.size, "allow_unverified": allow_unverified}
        if not archive.is_archive:
            download_file(archive.url, info.path(data_home) / archive.filename,
                          archive.known_hash, progressbar, **checks)
            continue
        downloaded = download_file(archive.url, home / archive.filename,
                                   archive.known_hash, progressbar, **checks)
        try:
            unpack(downloaded, home, info.folder)
        finally:
            downloaded.unlink(missing_ok=True)

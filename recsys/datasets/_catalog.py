"""The dataset registry: one TOML file per data set in the top-level ``datasets/`` folder.

Installed, the folder is the data-only package ``recsys.datasets._registry``
(this module cannot bear that name: a module would shadow the data package);
in a source checkout or an editable install it is read from ``<repo>/datasets``.
"""

import difflib
import functools
import importlib.resources
from dataclasses import dataclass, field
from pathlib import Path

from recsys.datasets._home import get_data_home
from recsys.utils._toml import tomllib

REQUIRED_FIELDS = ("name", "title", "description", "homepage", "license", "citation",
                   "format", "folder", "files")


@dataclass(frozen=True)
class Archive:
    """One downloadable file of a data set.

    Attributes
    ----------
    url : str
    sha256, md5 : str or None
        Published or computed checksums; the download is verified with the
        SHA-256 when known, else the md5. Both None: it cannot be verified.
    checksum_source : str
        Where the checksum comes from.
    size : int or None
        Size of the file in bytes, where known: a download of another size
        is rejected even when the server announces no length.
    """

    url: str
    sha256: str = None
    md5: str = None
    checksum_source: str = ""
    size: int = None

    @property
    def filename(self):
        return self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def is_archive(self):
        """Whether the file is unpacked (zip, tar) rather than used as is."""
        return self.filename.endswith((".zip", ".tar.gz", ".tgz", ".tar"))

    @property
    def known_hash(self):
        """``"sha256:<hex>"`` or ``"md5:<hex>"``, or None when no checksum is known."""
        if self.sha256:
            return f"sha256:{self.sha256}"
        if self.md5:
            return f"md5:{self.md5}"
        return None


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry: what a data set is, where it comes from, how to read it.

    Attributes
    ----------
    name, title, description, homepage, license, citation : str
    format : str
        Name of the parser that reads the unpacked files (``"generated"``
        needs no file).
    folder : str
        Folder, inside the data home, that the official archive unpacks to.
    files : tuple of str
        Key files inside ``folder`` that the loader reads.
    archives : tuple of Archive
        Files to download; empty when there is no official URL.
    sha256 : dict
        SHA-256 of key files, where known.
    notes : str
    read, generate : dict
        Options of the ``"table"`` and ``"generated"`` formats.
    """

    name: str
    title: str
    description: str
    homepage: str
    license: str
    citation: str
    format: str
    folder: str
    files: tuple
    archives: tuple = ()
    sha256: dict = field(default_factory=dict)
    notes: str = ""
    read: dict = field(default_factory=dict)
    generate: dict = field(default_factory=dict)

    def path(self, data_home=None):
        """Folder the data set's files live in."""
        return get_data_home(data_home) / self.folder

    def missing_files(self, data_home=None):
        """Key files absent from the data home, as paths."""
        folder = self.path(data_home)
        return [folder / name for name in self.files if not (folder / name).is_file()]

    def is_present(self, data_home=None):
        """Whether every key file is in the data home (generated sets always are)."""
        return not self.missing_files(data_home)


def registry_folder():
    """Folder holding the registry's TOML files."""
    try:
        installed = importlib.resources.files("recsys.datasets._registry")
    except (ModuleNotFoundError, TypeError):  # source checkout: no such package
        installed = None
    if installed is not None and any(p.name.endswith(".toml") for p in installed.iterdir()):
        return installed
    source_checkout = Path(__file__).resolve().parents[2] / "datasets"
    if not source_checkout.is_dir():
        raise FileNotFoundError(
            "the dataset registry is missing: neither the package recsys.datasets._registry "
            f"nor {source_checkout} exists; reinstall recsys (pip install .)."
        )
    return source_checkout


def parse_entry(text, source="<string>"):
    """Build a :class:`DatasetInfo` from the text of one registry TOML file."""
    entry = tomllib.loads(text)
    missing = [name for name in REQUIRED_FIELDS if name not in entry]
    if missing:
        raise ValueError(f"registry entry {source} lacks the required field(s) {missing}.")
    unknown = set(entry) - set(DatasetInfo.__dataclass_fields__)
    if unknown:
        raise ValueError(f"registry entry {source} has unknown field(s) {sorted(unknown)}.")
    archives = tuple(Archive(**archive) for archive in entry.pop("archives", ()))
    return DatasetInfo(**{**entry, "files": tuple(entry["files"]), "archives": archives})


@functools.lru_cache(maxsize=1)
def _load_registry():
    entries = {}
    for resource in registry_folder().iterdir():
        if resource.name.endswith(".toml"):
            info = parse_entry(resource.read_text(encoding="utf-8"), resource.name)
            if info.name in entries:
                raise ValueError(f"registry file {resource.name} repeats the entry {info.name!r}; "
                                 "each data set has exactly one file.")
            entries[info.name] = info
    return dict(sorted(entries.items()))


def list_datasets():
    """Return every entry of the dataset registry, sorted by name.

    Returns
    -------
    list of DatasetInfo

    Examples
    --------
    >>> from recsys.datasets import list_datasets
    >>> "ml-100k" in [info.name for info in list_datasets()]
    True
    """
    return list(_load_registry().values())


def get_dataset_info(name):
    """Return the registry entry of the data set ``name``.

    Examples
    --------
    >>> from recsys.datasets import get_dataset_info
    >>> info = get_dataset_info("ml-100k")
    >>> info.folder, info.files[0]
    ('ml-100k', 'u.data')
    """
    entries = _load_registry()
    if name not in entries:
        close = difflib.get_close_matches(str(name), entries, n=3)
        hint = f" Did you mean {close}?" if close else ""
        raise KeyError(f"unknown data set {name!r}.{hint} Known data sets: {list(entries)}.")
    return entries[name]

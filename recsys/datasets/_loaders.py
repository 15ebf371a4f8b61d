"""Loaders: read interaction files into :class:`~recsys.datasets.Interactions`.

``::``-separated files (MovieLens 1M/10M, MovieTweetings) are read by
replacing the two-character separator with a one-byte one, so that pandas'
C parser applies instead of its much slower Python engine.
"""

import bz2
import csv
import gzip
import io
import lzma
from pathlib import Path

import pandas as pd

from recsys.datasets._catalog import get_dataset_info
from recsys.datasets._download import fetch_dataset
from recsys.datasets._generators import make_interactions
from recsys.datasets._interactions import Interactions

_OPENERS = {".gz": gzip.open, ".bz2": bz2.open, ".xz": lzma.open}
_SEPARATOR_BY_SUFFIX = {".csv": ",", ".tsv": "\t", ".tab": "\t"}
_SNIFFED_SEPARATORS = ("::", "\t", "|", ";", ",")
# Stands in for "::"; the ASCII unit separator occurs in no text data set.
_UNIT_SEPARATOR = "\x1f"


def _open_bytes(path):
    return _OPENERS.get(path.suffix.lower(), open)(path, "rb")


def _data_suffix(path):
    """Suffix of the file under its compression suffix (``a.csv.gz`` -> ``.csv``)."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _OPENERS:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def _sniff_separator(path):
    by_suffix = _SEPARATOR_BY_SUFFIX.get(_data_suffix(path))
    if by_suffix is not None:
        return by_suffix
    with _open_bytes(path) as stream:
        first_line = stream.readline().decode("utf-8", errors="replace")
    for separator in _SNIFFED_SEPARATORS:
        if separator in first_line:
            return separator
    raise ValueError(
        f"cannot tell the column separator of {path} from its first line {first_line!r}; "
        "pass sep=',' (or '\\t', '::', ...)."
    )


def _decode(raw):
    """Text of a file: UTF-8 when valid, else Latin-1 (older MovieLens files)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_table(path, sep=None, names=None, header="infer", dtype=None, usecols=None):
    """Read a delimited text file into a DataFrame with the C parser.

    ``sep="::"`` and files that are not UTF-8 are handled; quotes are taken
    literally for ``::`` and ``|`` files, whose titles hold stray quotes.
    """
    path = Path(path)
    sep = _sniff_separator(path) if sep is None else sep
    options = {"names": names, "header": header, "dtype": dtype, "usecols": usecols, "engine": "c"}
    if sep in ("::", "|"):
        with _open_bytes(path) as stream:
            text = _decode(stream.read())
        if sep == "::":
            text, sep = text.replace("::", _UNIT_SEPARATOR), _UNIT_SEPARATOR
        return pd.read_csv(io.StringIO(text), sep=sep, quoting=csv.QUOTE_NONE, **options)
    try:
        return pd.read_csv(path, sep=sep, **options)
    except UnicodeDecodeError:
        return pd.read_csv(path, sep=sep, encoding="latin-1", **options)


def load_interactions(
    path,
    sep=None,
    user_col="user",
    item_col="item",
    rating_col=None,
    time_col=None,
    names=None,
    duplicates="error",
    *,
    weight_col=None,
    header="infer",
    dtype=None,
    dropna=False,
):
    """Load interactions from a CSV, TSV, ``::``-separated or parquet file, or a directory of parquet shards.

    Parquet (a ``.parquet`` file or a directory) is read by
    :meth:`Interactions.from_parquet`: one pyarrow dataset, projected on the
    named columns, the shards checked to agree on them.

    Parameters
    ----------
    path : path-like
        The file; ``.gz``, ``.bz2`` and ``.xz`` text files are decompressed.
        A directory is read as parquet shards (searched recursively; names
        starting with ``.`` or ``_``, such as ``_SUCCESS``, are skipped), as
        Spark, Dask and pyarrow write them.
    sep : str, default=None
        Column separator. By default ``.parquet`` files are read as parquet,
        ``.csv`` as comma- and ``.tsv``/``.tab`` as tab-separated, and other
        files by the first of ``::``, tab, ``|``, ``;``, ``,`` found in their
        first line.
    user_col, item_col : str, default="user", "item"
        Columns of the user and item ids.
    rating_col, time_col : str, default=None
        Optional columns of explicit ratings and timestamps.
    names : list of str, default=None
        Column names for text files without a header line.
    duplicates : {"error", "sum", "mean", "last", "first"}, default="error"
        How to merge repeated (user, item) pairs, see
        :meth:`Interactions.from_pandas`.
    weight_col : str, default=None
        Optional column of implicit-feedback weights (e.g. play counts).
    header : int, None or "infer", default="infer"
        Header line as in :func:`pandas.read_csv`; ignored for parquet.
    dtype : type or dict, default=None
        Column types as in :func:`pandas.read_csv`; e.g. ``{"item": str}``
        keeps leading zeros of ids. Parquet keeps the types it stores.
    dropna : bool, default=False
        Drop the rows missing a user, item, rating, weight or timestamp; by
        default such a row raises a ValueError naming the column.

    Returns
    -------
    Interactions

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from recsys.datasets import load_interactions
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "events.dat"
    >>> _ = path.write_text("1::10::4\\n1::20::5\\n2::10::3\\n")
    >>> data = load_interactions(path, names=["user", "item", "rating"], rating_col="rating")
    >>> data.n_users, data.n_items, len(data)
    (2, 2, 3)

    A directory of parquet shards:

    >>> import pandas as pd
    >>> shards = pathlib.Path(tempfile.mkdtemp())
    >>> for part in range(2):
    ...     pd.DataFrame({"user": [part, 9], "item": ["x", f"y{part}"]}).to_parquet(
    ...         shards / f"part-{part}.parquet")
    >>> data = load_interactions(shards)
    >>> data.n_users, data.n_items, len(data)
    (3, 3, 4)
    """
    path = Path(path)
    options = {"user_col": user_col, "item_col": item_col, "rating_col": rating_col,
               "time_col": time_col, "weight_col": weight_col, "duplicates": duplicates,
               "dropna": dropna}
    if path.is_dir() or (path.is_file() and sep is None and _data_suffix(path) == ".parquet"):
        if names is not None:
            raise ValueError(f"names= renames the columns of text files; parquet at {path} names its "
                             "own columns: pass user_col=, item_col=, ... instead.")
        return Interactions.from_parquet(path, **options)
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist; give a file or a directory of parquet shards.")
    wanted = [c for c in (user_col, item_col, rating_col, time_col, weight_col) if c is not None]
    frame = read_table(path, sep=sep, names=names, header=header, dtype=dtype)
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise KeyError(
            f"{path.name} has no column(s) {missing}; its columns are {list(frame.columns)}. "
            "Pass user_col=/item_col=... naming its columns, or names=[...] when it has no header."
        )
    return Interactions.from_pandas(frame, **options)


# ---------------------------------------------------------------- source parsers
_RATING_COLUMNS = ["user", "item", "rating", "timestamp"]


def _movie_table(frame, id_col):
    """Item side table: title, genres ('|'-joined) and the year in the title."""
    frame = frame.set_index(id_col)
    frame.index.name = "item"
    year = frame["title"].str.extract(r"\((\d{4})\)\s*$", expand=False)
    frame["year"] = pd.to_numeric(year, errors="coerce").astype("Int64")
    return frame[["title", "genres", "year"]]


def _events(frame, **features):
    return Interactions.from_pandas(frame, rating_col="rating", time_col="timestamp", **features)


def _parse_movielens_100k(folder, info):
    ratings = read_table(folder / "u.data", sep="\t", names=_RATING_COLUMNS)
    genres = read_table(folder / "u.genre", sep="|", names=["genre", "index"]).dropna()
    genre_names = genres.sort_values("index")["genre"].tolist()
    items = read_table(folder / "u.item", sep="|",
                       names=["movie", "title", "release_date", "video_release_date", "url",
                              *genre_names])
    flags = items[genre_names].to_numpy(dtype=bool)
    items["genres"] = ["|".join(g for g, on in zip(genre_names, row) if on) for row in flags]
    users = read_table(folder / "u.user", sep="|",
                       names=["user", "age", "gender", "occupation", "zip_code"]).set_index("user")
    return _events(ratings, item_features=_movie_table(items, "movie"), user_features=users)


def _parse_movielens_dat(folder, info):
    ratings = read_table(folder / "ratings.dat", sep="::", names=_RATING_COLUMNS)
    movies = read_table(folder / "movies.dat", sep="::", names=["movie", "title", "genres"])
    users = None
    if (folder / "users.dat").is_file():
        users = read_table(folder / "users.dat", sep="::",
                           names=["user", "gender", "age", "occupation", "zip_code"],
                           dtype={"zip_code": str}).set_index("user")
    return _events(ratings, item_features=_movie_table(movies, "movie"), user_features=users)


def _parse_movielens_csv(folder, info):
    ratings = read_table(folder / "ratings.csv", sep=",",
                         dtype={"userId": "int64", "movieId": "int64", "rating": "float64",
                                "timestamp": "int64"})
    ratings.columns = _RATING_COLUMNS
    movies = read_table(folder / "movies.csv", sep=",")
    return _events(ratings, item_features=_movie_table(movies, "movieId"))


def _parse_movietweetings(folder, info):
    # IMDb ids keep their leading zeros, so they match movies.dat and imdb.com.
    ratings = read_table(folder / "ratings.dat", sep="::", names=_RATING_COLUMNS,
                         dtype={"item": str})
    movies = read_table(folder / "movies.dat", sep="::", names=["movie", "title", "genres"],
                        dtype={"movie": str})
    return _events(ratings, duplicates="last", item_features=_movie_table(movies, "movie"))


def _parse_lastfm_hetrec(folder, info):
    plays = read_table(folder / "user_artists.dat", sep="\t")
    artists = read_table(folder / "artists.dat", sep="\t", usecols=["id", "name", "url"])
    artists = artists.set_index("id").rename_axis("item")
    return Interactions.from_pandas(plays, user_col="userID", item_col="artistID",
                                    weight_col="weight", item_features=artists)


def _parse_lastfm_360k(folder, info):
    # Artists are identified by name: a third of the rows lack a MusicBrainz id.
    plays = read_table(folder / "usersha1-artmbid-artname-plays.tsv", sep="\t",
                       names=["user", "mbid", "item", "plays"], usecols=["user", "item", "plays"],
                       dtype={"user": str, "item": str})
    plays = plays.dropna(subset=["user", "item"])
    profiles = read_table(folder / "usersha1-profile.tsv", sep="\t",
                          names=["user", "gender", "age", "country", "signup"]).set_index("user")
    return Interactions.from_pandas(plays, weight_col="plays", duplicates="sum",
                                    user_features=profiles)


def _parse_table(folder, info):
    return load_interactions(folder / info.files[0], **info.read)


_PARSERS = {
    "movielens-100k": _parse_movielens_100k,
    "movielens-dat": _parse_movielens_dat,
    "movielens-csv": _parse_movielens_csv,
    "movietweetings": _parse_movietweetings,
    "lastfm-hetrec": _parse_lastfm_hetrec,
    "lastfm-360k": _parse_lastfm_360k,
    "table": _parse_table,
}


# ---------------------------------------------------------------- public loaders
def load_dataset(name, data_home=None, download=True, verify="auto"):
    """Load a registered data set as :class:`Interactions`.

    Parameters
    ----------
    name : str
        A registry entry, see :func:`list_datasets`. ``"synthetic"`` is
        generated and needs no file.
    data_home : path-like, default=None
        See :func:`get_data_home`.
    download : bool, default=True
        Whether to download missing files (see :func:`fetch_dataset`).
    verify : {"auto", True, False}, default="auto"
        How present files are checked against the registry's SHA-256, see
        :func:`fetch_dataset`: hashed once and then trusted while their size
        and modification time are unchanged, hashed every time, or not at all.

    Returns
    -------
    Interactions
        With item (and user) side tables where the source has them.

    Examples
    --------
    >>> from recsys.datasets import load_dataset
    >>> data = load_dataset("synthetic")
    >>> data.n_users, len(data)
    (2000, 100000)
    """
    info = get_dataset_info(name)
    if info.format == "generated":
        return make_interactions(**info.generate)
    if info.format not in _PARSERS:
        raise ValueError(f"registry entry {name!r} has the unknown format {info.format!r}; "
                         f"known formats: {['generated', *_PARSERS]}.")
    folder = fetch_dataset(name, data_home=data_home, download=download, verify=verify)
    return _PARSERS[info.format](folder, info)


def _load_variant(family, prefix, variant, variants, **options):
    if variant not in variants:
        raise ValueError(f"{family} variant must be one of {list(variants)}; got {variant!r}.")
    return load_dataset(f"{prefix}{variant}", **options)


def load_movielens(variant="100k", data_home=None, download=True, verify="auto"):
    """Load a MovieLens data set (GroupLens) as explicit ratings.

    Parameters
    ----------
    variant : {"100k", "1m", "10m", "20m", "25m", "32m", "latest-small"}, default="100k"
    data_home : path-like, default=None
        Folder holding ``ml-100k/``, ``ml-1m/``... as the official archives
        unpack; see :func:`get_data_home`.
    download : bool, default=True
    verify : {"auto", True, False}, default="auto"
        How present files are checked, as in :func:`load_dataset`.

    Returns
    -------
    Interactions
        Ratings and timestamps; ``item_features`` (title, genres, year)
        indexed by movie id, and for 100k and 1m ``user_features`` (age,
        gender, occupation, zip code) indexed by user id.

    Examples
    --------
    >>> from recsys.datasets import load_movielens
    >>> data = load_movielens("100k", download=False)  # doctest: +SKIP
    >>> data.n_users, data.n_items, len(data)  # doctest: +SKIP
    (943, 1682, 100000)
    """
    variants = ("100k", "1m", "10m", "20m", "25m", "32m", "latest-small")
    return _load_variant("MovieLens", "ml-", variant, variants, data_home=data_home,
                         download=download, verify=verify)


def load_movietweetings(snapshot="100k", data_home=None, download=True, verify="auto"):
    """Load MovieTweetings: movie ratings 0-10 tweeted via IMDb.

    Parameters
    ----------
    snapshot : {"100k", "latest"}, default="100k"
    data_home : path-like, default=None
    download : bool, default=True
    verify : {"auto", True, False}, default="auto"
        How present files are checked, as in :func:`load_dataset`.

    Returns
    -------
    Interactions
        Item ids are IMDb ids as strings (``"0104257"``); ``item_features``
        holds title, genres and year.

    Examples
    --------
    >>> from recsys.datasets import load_movietweetings
    >>> data = load_movietweetings("100k", download=False)  # doctest: +SKIP
    """
    return _load_variant("MovieTweetings", "movietweetings-", snapshot, ("100k", "latest"),
                         data_home=data_home, download=download, verify=verify)


def load_lastfm(variant="hetrec-2k", data_home=None, download=True, verify="auto"):
    """Load Last.fm listening counts as implicit feedback.

    Parameters
    ----------
    variant : {"hetrec-2k", "360k"}, default="hetrec-2k"
        HetRec 2011 (1,892 users, artist ids, ``item_features`` with names)
        or Celma's 360K (artists by name, ``user_features`` from profiles).
    data_home : path-like, default=None
    download : bool, default=True
    verify : {"auto", True, False}, default="auto"
        How present files are checked, as in :func:`load_dataset`.

    Returns
    -------
    Interactions
        Play counts in ``weights``.

    Examples
    --------
    >>> from recsys.datasets import load_lastfm
    >>> data = load_lastfm("hetrec-2k", download=False)  # doctest: +SKIP
    """
    return _load_variant("Last.fm", "lastfm-", variant, ("hetrec-2k", "360k"),
                         data_home=data_home, download=download, verify=verify)

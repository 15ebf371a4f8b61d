"""Hash tables of LSH buckets as sorted arrays, looked up for many queries at once.

Every LSH index here reduces each stored row, in each of its tables (bands),
to one uint64 bucket key; rows with equal keys in some table are candidates
for each other. A :class:`BucketTables` keeps, per table, the keys sorted with
the row ids beside them, so a batch of queries is answered by one
``searchsorted`` per table instead of a Python dict probe per query and band.
"""

import numpy as np

_MIX_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)
_FMIX_1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_2 = np.uint64(0xC4CEB9FE1A85EC53)
_SHIFT = np.uint64(33)


def _fmix64(values):
    values = values ^ (values >> _SHIFT)
    values = values * _FMIX_1
    values = values ^ (values >> _SHIFT)
    values = values * _FMIX_2
    return values ^ (values >> _SHIFT)


def combine_columns(values):
    """One uint64 key per row of an integer array of shape (n_rows, n_columns).

    Distinct rows get distinct keys except with probability about 2**-64 per
    pair, far below the false-positive rate LSH itself allows.
    """
    values = np.ascontiguousarray(values)
    key = np.full(values.shape[0], np.uint64(values.shape[1]), dtype=np.uint64)
    for column in range(values.shape[1]):
        key = _fmix64(key * _MIX_MULTIPLIER + values[:, column].astype(np.uint64))
    return key


def band_keys(signatures, n_bands, rows_per_band):
    """Bucket keys of shape (n_rows, n_bands): band i covers columns [i * r, (i + 1) * r)."""
    return np.column_stack([
        combine_columns(signatures[:, band * rows_per_band:(band + 1) * rows_per_band])
        for band in range(n_bands)
    ]) if len(signatures) else np.empty((0, n_bands), dtype=np.uint64)


class BucketTables:
    """Per-table sorted bucket keys with the ids of the rows they hold.

    Parameters
    ----------
    n_tables : int
    """

    def __init__(self, n_tables):
        self.n_tables = n_tables
        self.keys = [np.empty(0, dtype=np.uint64) for _ in range(n_tables)]
        self.ids = [np.empty(0, dtype=np.int64) for _ in range(n_tables)]

    def add(self, keys, ids):
        """Add rows with bucket keys of shape (n_rows, n_tables) and int ids."""
        ids = np.asarray(ids, dtype=np.int64)
        for table in range(self.n_tables):
            merged_keys = np.concatenate([self.keys[table], keys[:, table]])
            merged_ids = np.concatenate([self.ids[table], ids])
            order = np.argsort(merged_keys, kind="stable")
            self.keys[table], self.ids[table] = merged_keys[order], merged_ids[order]

    def remove(self, ids):
        """Drop every entry of the given ids from all tables."""
        for table in range(self.n_tables):
            keep = ~np.isin(self.ids[table], ids)
            self.keys[table], self.ids[table] = self.keys[table][keep], self.ids[table][keep]

    def candidate_pairs(self, keys):
        """Distinct (query row, id) pairs sharing a bucket in at least one table.

        Parameters
        ----------
        keys : ndarray of shape (n_queries, n_tables), uint64

        Returns
        -------
        query_rows, ids : ndarrays of int64, sorted by query row then id
        """
        query_parts, id_parts = [], []
        for table in range(self.n_tables):
            left = np.searchsorted(self.keys[table], keys[:, table], side="left")
            right = np.searchsorted(self.keys[table], keys[:, table], side="right")
            query_rows, positions = expand_ranges(left, right)
            query_parts.append(query_rows)
            id_parts.append(self.ids[table][positions])
        return unique_pairs(query_parts, id_parts)


def expand_ranges(left, right):
    """(row, position) for every position in [left[row], right[row]), without a Python loop."""
    counts = right - left
    rows = np.repeat(np.arange(len(left), dtype=np.int64), counts)
    starts = np.repeat(left - np.cumsum(counts) + counts, counts)
    return rows, starts + np.arange(int(counts.sum()), dtype=np.int64)


def unique_pairs(row_parts, id_parts):
    """The distinct (row, id) pairs of the concatenated parts, sorted by row then id."""
    rows = np.concatenate(row_parts) if row_parts else np.empty(0, dtype=np.int64)
    ids = np.concatenate(id_parts) if id_parts else np.empty(0, dtype=np.int64)
    if not len(ids):
        return rows, ids
    # One int64 per pair makes the de-duplication a 1-d sort.
    stride = int(ids.max()) + 1
    pairs = np.unique(rows * stride + ids)
    return pairs // stride, pairs % stride

"""Groups of near-duplicate sets from MinHash LSH candidates."""

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from recsys.hashing._jaccard import jaccard_from_signatures, jaccard_pairs
from recsys.hashing._minhash_lsh import MinHashLSH


def find_near_duplicates(X, threshold=0.8, exact=True, n_perm=128, seed=1):
    """Groups of sets linked by a chain of pairs with Jaccard similarity >= threshold.

    MinHash LSH proposes candidate pairs; each is verified with the exact
    Jaccard similarity of the two sets (or the signature estimate when
    ``exact=False``); the groups are the connected components of the
    verified pairs.

    Parameters
    ----------
    X : binary matrix of shape (n_sets, n_elements) or iterable of token sets
        The sets, one per row (see :class:`MinHasher`). Empty sets are never
        anyone's duplicate.
    threshold : float in (0, 1), default=0.8
    exact : bool, default=True
        Verify candidates with exact Jaccard rather than the estimate.
    n_perm : int, default=128
    seed : int, default=1

    Returns
    -------
    groups : list of ndarray of int64
        Row indices of each group of two or more near-duplicates, each sorted,
        groups ordered by their first row.

    Examples
    --------
    >>> from recsys.hashing import find_near_duplicates
    >>> words = [f"w{i}" for i in range(30)]
    >>> groups = find_near_duplicates([words, ["a", "b"], words[:29], words[1:]], threshold=0.9)
    >>> [group.tolist() for group in groups]
    [[0, 2, 3]]
    """
    index = MinHashLSH(threshold=threshold, n_perm=n_perm, seed=seed).fit(X)
    first, second = index.candidate_pairs()
    # Keys are the row numbers, which are also the rows of the stored sets.
    rows, ids = first.astype(np.int64), second.astype(np.int64)
    n_sets = len(index)
    if exact and index._sets is not None:
        similarity = jaccard_pairs(index._sets, index._sets, rows, ids)
    else:
        signatures = index._storage.signatures(range(n_sets))
        similarity = jaccard_from_signatures(signatures[rows], signatures[ids])
    verified = similarity >= threshold
    graph = sp.coo_matrix((np.ones(int(verified.sum())), (rows[verified], ids[verified])),
                          shape=(n_sets, n_sets))
    _, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    order = np.argsort(labels, kind="stable")
    bounds = np.flatnonzero(np.diff(labels[order])) + 1
    groups = [group for group in np.split(order, bounds) if sizes[labels[group[0]]] > 1]
    return sorted(groups, key=lambda group: group[0])

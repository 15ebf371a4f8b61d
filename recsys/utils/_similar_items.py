"""The ``similar_items`` contract every model with item similarities keeps.

``similar_items(items, n=10)`` takes an item index or a 1-d array-like of
them and returns ``(ids, scores)`` of shape (n_queries, n): most similar
first, the query item never among them, id -1 and score -inf where fewer
than n items are similar. Bad queries raise the errors of
:func:`check_similar_items`, the same for every model.
"""

import numpy as np

from recsys.utils._top_k import top_k
from recsys.utils._validation import check_item_indices, check_positive_int


def check_similar_items(items, n, n_items):
    """Validate the arguments of ``similar_items``: (items as an int64 vector, n as an int).

    Raises
    ------
    TypeError
        items are not item indices (strings, a boolean mask).
    ValueError
        an index outside ``[0, n_items)`` or not whole; n not an integer >= 1.
    """
    n = check_positive_int(n, "n")
    return check_item_indices(items, n_items), n


def cosine_similar_items(vectors, items, n):
    """``similar_items`` by the cosine of the rows of vectors, computed exactly.

    A row of zero norm (an item without any signal) is similar to nothing:
    cosine 0. ``items`` and ``n`` must have passed :func:`check_similar_items`.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.utils._similar_items import cosine_similar_items
    >>> vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    >>> ids, scores = cosine_similar_items(vectors, np.array([0]), 2)
    >>> ids
    array([[1, 2]])
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    similarities = unit[items] @ unit.T
    similarities[np.arange(len(items)), items] = -np.inf
    return top_k(similarities, n, overwrite_scores=True)

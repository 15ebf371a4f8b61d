"""Softmax over scores and sampling of recommendation lists from it."""

import numpy as np

from recsys.utils import top_k
from recsys.utils._validation import check_positive_int


def _check_scores(scores):
    scores = np.array(scores, dtype=np.float64)
    if scores.ndim == 1:
        scores = scores[None, :]
    if scores.ndim != 2:
        raise ValueError(f"scores must be 1-d or 2-d (rows x items); got shape {scores.shape}.")
    if np.isnan(scores).any():
        raise ValueError("scores contain NaN; use -np.inf for items that must never be drawn.")
    return scores


def _check_temperature(temperature):
    if not np.isscalar(temperature) or not np.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0; got {temperature!r}.")
    return float(temperature)


def softmax(scores, temperature=1.0):
    """Row-wise softmax of ``scores / temperature``.

    Parameters
    ----------
    scores : array-like of shape (n_items,) or (n_rows, n_items)
        -inf marks items with probability 0.
    temperature : float, default=1.0
        Higher flattens the distribution; 0 puts all the mass on the best
        items (shared equally between ties).

    Returns
    -------
    ndarray of the shape of scores
        Each row sums to 1 (a row of -inf only is all zeros).

    Examples
    --------
    >>> from recsys.embeddings import softmax
    >>> softmax([0.0, 0.0, 2.0], temperature=0).tolist()
    [0.0, 0.0, 1.0]
    >>> softmax([1.0, 1.0]).tolist()
    [0.5, 0.5]
    """
    one_dimensional = np.ndim(scores) == 1
    scores = _check_scores(scores)
    temperature = _check_temperature(temperature)
    best = scores.max(axis=1, keepdims=True)
    finite_best = np.where(np.isfinite(best), best, 0.0)
    if temperature == 0:
        weights = ((scores == best) & np.isfinite(scores)).astype(np.float64)
    else:
        # Subtracting the row maximum keeps exp() from overflowing.
        weights = np.exp((scores - finite_best) / temperature)
    totals = weights.sum(axis=1, keepdims=True)
    probabilities = np.divide(weights, totals, out=np.zeros_like(weights), where=totals > 0)
    return probabilities[0] if one_dimensional else probabilities


def sample_recommendations(scores, n=10, temperature=1.0, random_state=None):
    """Draw n distinct items per row, without replacement, from the softmax of the scores.

    Uses the Gumbel top-k trick: the n largest of ``scores / temperature + G``
    with G independent standard Gumbel noise are a sample without replacement
    from ``softmax(scores, temperature)``, in the order a sequential draw
    would give them. Temperature 0 returns the top-n ranking itself.

    Parameters
    ----------
    scores : array-like of shape (n_items,) or (n_rows, n_items)
        -inf marks items that must never be drawn (e.g. already seen).
    n : int, default=10
    temperature : float, default=1.0
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    ids : ndarray of shape (n_rows, n), int64
        Drawn item indices in draw order; -1 where fewer than n items have a
        finite score.
    scores : ndarray of shape (n_rows, n)
        Their original scores; -inf where the id is -1.

    Examples
    --------
    >>> import numpy as np
    >>> from recsys.embeddings import sample_recommendations
    >>> ids, _ = sample_recommendations([[0.1, 3.0, 2.0]], n=2, temperature=0)
    >>> ids
    array([[1, 2]])
    >>> ids, _ = sample_recommendations([[0.1, 3.0, -np.inf]], n=3, random_state=0)
    >>> sorted(ids[0].tolist())
    [-1, 0, 1]
    """
    scores = _check_scores(scores)
    temperature = _check_temperature(temperature)
    n = check_positive_int(n, "n")
    if temperature == 0:
        return top_k(scores, n)
    rng = np.random.default_rng(random_state)
    perturbed = scores / temperature + rng.gumbel(size=scores.shape)
    ids, _ = top_k(perturbed, n, overwrite_scores=True)
    drawn = np.take_along_axis(scores, np.maximum(ids, 0), axis=1)
    return ids, np.where(ids >= 0, drawn, -np.inf)

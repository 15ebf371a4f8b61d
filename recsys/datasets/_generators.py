"""Synthetic interaction data with latent structure and long-tailed popularity.

A real recommender must beat popularity on these data sets, and popularity
must beat random, so they make meaningful unit-test and default benchmark data.
"""

import numpy as np
import pandas as pd

from recsys.datasets._interactions import Interactions
from recsys.utils._validation import check_positive_int

# Users scored per block while sampling: bounds memory to block x n_items floats.
_BLOCK_CELLS = 2**24


def _interaction_counts(n_users, n_items, n_interactions, density, rng):
    if (n_interactions is None) == (density is None):
        raise ValueError("give exactly one of n_interactions and density.")
    if density is not None:
        if not 0.0 < density <= 1.0:
            raise ValueError(f"density must lie in (0, 1]; got {density!r}.")
        n_interactions = round(density * n_users * n_items)
    n_interactions = check_positive_int(n_interactions, "n_interactions")
    if n_interactions > n_users * n_items:
        raise ValueError(
            f"n_interactions={n_interactions} exceeds n_users * n_items = {n_users * n_items}."
        )
    # Long-tailed activity: log-normal user weights, at least one event each.
    activity = rng.lognormal(0.0, 1.0, n_users)
    counts = np.maximum(1, np.floor(activity / activity.sum() * n_interactions)).astype(np.int64)
    counts = np.minimum(counts, n_items)
    shortfall = n_interactions - counts.sum()
    while shortfall != 0:
        room = (counts < n_items) if shortfall > 0 else (counts > 1)
        candidates = np.flatnonzero(room)
        chosen = rng.choice(candidates, size=min(abs(shortfall), len(candidates)), replace=False)
        counts[chosen] += np.sign(shortfall)
        shortfall = n_interactions - counts.sum()
    return counts


def _latent_model(n_users, n_items, n_factors, popularity_exponent, rng):
    user_factors = rng.normal(0.0, 1.0, (n_users, n_factors)) / np.sqrt(n_factors)
    item_factors = rng.normal(0.0, 1.0, (n_items, n_factors))
    popularity_rank = rng.permutation(n_items) + 1
    log_popularity = -popularity_exponent * np.log(popularity_rank)
    return user_factors, item_factors, log_popularity


def make_interactions(
    n_users=1000,
    n_items=500,
    n_interactions=None,
    *,
    density=None,
    n_factors=8,
    popularity_exponent=1.0,
    affinity=3.0,
    random_state=None,
):
    """Generate implicit-feedback interactions with latent structure.

    Each user and item gets a random latent vector; user u picks its items
    without replacement with probability proportional to
    ``popularity_i * exp(affinity * <p_u, q_i>)``, where item popularity
    follows a Zipf law of exponent ``popularity_exponent``. The number of
    interactions per user is long-tailed (log-normal). Events get increasing
    timestamps in a random order, so time-based splits apply.

    Parameters
    ----------
    n_users, n_items : int, default=1000, 500
    n_interactions : int, default=None
        Total number of (user, item) pairs. Give this or ``density``;
        without either, density 0.05 is used.
    density : float, default=None
        Share of the users x items cells that are interactions.
    n_factors : int, default=8
        Dimension of the latent space.
    popularity_exponent : float, default=1.0
        Zipf exponent of item popularity; 0 makes all items equally popular.
    affinity : float, default=3.0
        Strength of the latent taste signal against popularity.
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    Interactions
        With a ``timestamp`` column; user and item ids are 0..n-1.

    Examples
    --------
    >>> from recsys.datasets import make_interactions
    >>> data = make_interactions(100, 40, n_interactions=800, random_state=0)
    >>> data.n_users, data.n_items <= 40, len(data)
    (100, True, 800)
    """
    n_users = check_positive_int(n_users, "n_users")
    n_items = check_positive_int(n_items, "n_items")
    n_factors = check_positive_int(n_factors, "n_factors")
    rng = np.random.default_rng(random_state)
    if n_interactions is None and density is None:
        density = 0.05
    counts = _interaction_counts(n_users, n_items, n_interactions, density, rng)
    user_factors, item_factors, log_popularity = _latent_model(
        n_users, n_items, n_factors, popularity_exponent, rng
    )
    block = max(1, _BLOCK_CELLS // n_items)
    users, items = [], []
    for start in range(0, n_users, block):
        stop = min(start + block, n_users)
        logits = affinity * user_factors[start:stop] @ item_factors.T + log_popularity
        # Gumbel top-k: the k largest perturbed logits are a sample without
        # replacement from the softmax of the logits.
        logits += rng.gumbel(size=logits.shape)
        block_counts = counts[start:stop]
        width = int(block_counts.max())
        top = np.argpartition(-logits, width - 1, axis=1)[:, :width] if width < n_items else \
            np.broadcast_to(np.arange(n_items), logits.shape)
        order = np.argsort(-np.take_along_axis(logits, top, axis=1), axis=1)
        ranked = np.take_along_axis(top, order, axis=1)
        keep = np.arange(width) < block_counts[:, None]
        users.append(np.repeat(np.arange(start, stop), block_counts))
        items.append(ranked[keep])
    users, items = np.concatenate(users), np.concatenate(items)
    timestamps = rng.permutation(len(users)).astype(np.int64) + 1_000_000_000
    frame = pd.DataFrame({"user": users, "item": items, "timestamp": timestamps})
    data = Interactions.from_pandas(frame, time_col="timestamp")
    return data


def make_ratings(
    n_users=1000,
    n_items=500,
    n_ratings=None,
    *,
    density=None,
    n_factors=8,
    popularity_exponent=1.0,
    rating_scale=(1, 5),
    noise=0.5,
    random_state=None,
):
    """Generate explicit ratings from a biased latent-factor model.

    Which (user, item) pairs are rated follows :func:`make_interactions`;
    each rating is ``mu + b_u + b_i + <p_u, q_i> + noise``, rounded and
    clipped to ``rating_scale``.

    Parameters
    ----------
    n_users, n_items : int, default=1000, 500
    n_ratings : int, default=None
        Number of ratings; or give ``density`` (0.05 without either).
    density : float, default=None
    n_factors : int, default=8
    popularity_exponent : float, default=1.0
    rating_scale : (low, high), default=(1, 5)
        Ratings are integers in this closed range.
    noise : float, default=0.5
        Standard deviation of the Gaussian noise.
    random_state : int, numpy Generator or None, default=None

    Returns
    -------
    Interactions
        With ``rating`` and ``timestamp`` columns.

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> data = make_ratings(50, 30, n_ratings=300, random_state=0)
    >>> float(data.ratings.min()) >= 1 and float(data.ratings.max()) <= 5
    True
    """
    low, high = rating_scale
    if not low < high:
        raise ValueError(f"rating_scale must be (low, high) with low < high; got {rating_scale!r}.")
    rng = np.random.default_rng(random_state)
    pairs = make_interactions(
        n_users, n_items, n_ratings, density=density, n_factors=n_factors,
        popularity_exponent=popularity_exponent, random_state=rng,
    )
    user_factors = rng.normal(0.0, 1.0, (pairs.n_users, n_factors)) / np.sqrt(n_factors)
    item_factors = rng.normal(0.0, 1.0, (pairs.n_items, n_factors)) / np.sqrt(n_factors)
    user_bias = rng.normal(0.0, 0.4, pairs.n_users)
    item_bias = rng.normal(0.0, 0.6, pairs.n_items)
    mean = (low + high) / 2 + 0.3 * (high - low) / 4
    u, i = pairs.users, pairs.items
    signal = np.einsum("ij,ij->i", user_factors[u], item_factors[i]) * (high - low) / 4
    raw = mean + user_bias[u] + item_bias[i] + signal + rng.normal(0.0, noise, len(u))
    ratings = np.clip(np.rint(raw), low, high)
    return Interactions(
        u, i, user_ids=pairs.user_ids, item_ids=pairs.item_ids,
        ratings=ratings, timestamps=pairs.timestamps,
    )

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
# Up to this many users x items cells every cell is scored (exact); above it the
# cost would grow with the cells, so users choose among a candidate sample instead.
_EXACT_MAX_CELLS = 2**24
# The candidate sample: clusters of items in the latent space, candidates drawn
# per interaction asked for (plus a floor per user), and per chunk of the users.
_N_CLUSTERS = 1024
_CANDIDATES_PER_INTERACTION = 8
_MIN_CANDIDATES = 64
_CHUNK_CANDIDATES = 2**22


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


def _sample_exact(rows, counts, model, rng):
    """Score every item for the users ``rows``: a Gumbel top-k sample of each row's softmax."""
    user_factors, item_factors, log_popularity, affinity = model
    n_items = len(item_factors)
    block = max(1, _BLOCK_CELLS // n_items)
    users, items = [], []
    for start in range(0, len(rows), block):
        block_rows = rows[start:start + block]
        logits = affinity * user_factors[block_rows] @ item_factors.T + log_popularity
        # Gumbel top-k: the k largest perturbed logits are a sample without
        # replacement from the softmax of the logits.
        logits += rng.gumbel(size=logits.shape)
        block_counts = counts[block_rows]
        width = int(block_counts.max())
        top = np.argpartition(-logits, width - 1, axis=1)[:, :width] if width < n_items else \
            np.broadcast_to(np.arange(n_items), logits.shape)
        order = np.argsort(-np.take_along_axis(logits, top, axis=1), axis=1)
        ranked = np.take_along_axis(top, order, axis=1)
        keep = np.arange(width) < block_counts[:, None]
        users.append(np.repeat(block_rows, block_counts))
        items.append(ranked[keep])
    return np.concatenate(users), np.concatenate(items)


def _item_clusters(item_factors, n_clusters, rng, n_iter=4, fit_size=2**15):
    """Cluster labels and centres of the items (a few Lloyd iterations on a subsample)."""
    n_items = len(item_factors)
    n_clusters = min(n_clusters, n_items)
    fit = item_factors[rng.choice(n_items, min(fit_size, n_items), replace=False)]
    centres = fit[:n_clusters].copy()

    def nearest(points):
        labels = np.empty(len(points), dtype=np.int64)
        for start in range(0, len(points), 2**16):
            chunk = points[start:start + 2**16]
            distance = (centres**2).sum(axis=1) - 2 * chunk @ centres.T
            labels[start:start + 2**16] = distance.argmin(axis=1)
        return labels

    for _ in range(n_iter):
        labels = nearest(fit)
        sizes = np.bincount(labels, minlength=n_clusters)
        sums = np.stack([np.bincount(labels, weights=column, minlength=n_clusters)
                         for column in fit.T], axis=1)
        filled = sizes > 0
        centres[filled] = sums[filled] / sizes[filled, None]
    return nearest(item_factors), centres


def _shifted_cumulative(weights):
    """Cumulative shares of each row of ``weights``, shifted by the row number, flattened.

    Row r's shares lie in (r, r + 1], so one ``searchsorted`` over all rows
    serves draws from any of them (see :func:`_draw`).
    """
    cumulative = np.cumsum(weights, axis=1)
    totals = cumulative[:, -1:]
    shares = np.divide(cumulative, totals, out=np.ones_like(cumulative), where=totals > 0)
    shares[:, -1] = 1.0  # the last entry ends the row exactly, whatever the rounding
    shares += np.arange(len(weights))[:, None]
    return shares.ravel()


def _draw(shifted_cumulative, width, row_of_draw, rng):
    """Column of one draw from row ``row_of_draw[j]`` for each j, in proportion to the row's weights."""
    targets = row_of_draw + (1.0 - rng.random(len(row_of_draw)))  # in (row, row + 1]
    flat = np.searchsorted(shifted_cumulative, targets, side="left")
    return np.clip(flat - row_of_draw * width, 0, width - 1)


def _sample_from_candidates(counts, model, rng):
    """Per user, a Gumbel top-k sample over a candidate sample of items (sampling-importance-resampling).

    Candidates are drawn with replacement from a proposal that scores clusters
    of items rather than items: cluster c with probability proportional to
    ``popularity_c * exp(affinity * <p_u, centre_c>)``, then an item of the
    cluster in proportion to its popularity. Each distinct candidate is then
    weighted by ``copies * target / proposal`` (the target being
    ``popularity_i * exp(affinity * <p_u, q_i>)``) and the user's items are the
    Gumbel top-k of those weights. The cost follows the candidates:
    ``_CANDIDATES_PER_INTERACTION`` per interaction plus ``_MIN_CANDIDATES`` per
    user. Users asking for more than an eighth of the items are scored exactly.
    """
    _, item_factors, log_popularity, _ = model
    n_items = len(item_factors)
    labels, centres = _item_clusters(item_factors, _N_CLUSTERS, rng)
    n_clusters = len(centres)
    popularity = np.exp(log_popularity - log_popularity.max())
    cluster_popularity = np.bincount(labels, weights=popularity, minlength=n_clusters)
    with np.errstate(divide="ignore"):
        log_cluster_popularity = np.log(cluster_popularity)
    # Items grouped by cluster (padded rows), for the draw of an item inside its cluster.
    by_cluster = np.argsort(labels, kind="stable")
    cluster_sizes = np.bincount(labels, minlength=n_clusters)
    cluster_starts = np.concatenate([[0], np.cumsum(cluster_sizes)[:-1]])
    slot = np.arange(n_items) - np.repeat(cluster_starts, cluster_sizes)
    members = np.zeros((n_clusters, cluster_sizes.max()), dtype=np.int64)
    members[labels[by_cluster], slot] = by_cluster
    member_weights = np.zeros(members.shape)
    member_weights[labels[by_cluster], slot] = popularity[by_cluster]
    members_cumulative = _shifted_cumulative(member_weights)

    dense = counts * _CANDIDATES_PER_INTERACTION >= n_items
    exact_users, exact_items = _sample_exact(np.flatnonzero(dense), counts, model, rng) \
        if dense.any() else (np.empty(0, np.int64), np.empty(0, np.int64))
    users, items = [exact_users], [exact_items]
    pending = np.flatnonzero(~dense)
    n_candidates = counts * _CANDIDATES_PER_INTERACTION + _MIN_CANDIDATES
    while len(pending):
        # Chunks of users with about _CHUNK_CANDIDATES candidates each bound the memory.
        chunk_of = np.cumsum(n_candidates[pending]) // _CHUNK_CANDIDATES
        short = []
        for chunk in np.split(pending, np.flatnonzero(np.diff(chunk_of)) + 1):
            chunk_users, chunk_items, lacking = _sample_chunk(
                chunk, counts, n_candidates, model, rng, labels, centres,
                log_cluster_popularity, members, members_cumulative)
            users.append(chunk_users)
            items.append(chunk_items)
            short.append(lacking)
        # Users with fewer distinct candidates than the items they ask for draw again, twice as many.
        pending = np.concatenate(short)
        n_candidates[pending] *= 2
    return np.concatenate(users), np.concatenate(items)


def _sample_chunk(rows, counts, n_candidates, model, rng, labels, centres,
                  log_cluster_popularity, members, members_cumulative):
    """Sample the items of the users ``rows`` from their candidates; also return the users short of candidates."""
    user_factors, item_factors, _, affinity = model
    n_items = len(item_factors)
    cluster_logits = affinity * user_factors[rows] @ centres.T + log_cluster_popularity
    cluster_logits -= cluster_logits.max(axis=1, keepdims=True)
    cluster_probability = np.exp(cluster_logits)
    cluster_probability /= cluster_probability.sum(axis=1, keepdims=True)
    row_of_draw = np.repeat(np.arange(len(rows)), n_candidates[rows])
    cluster = _draw(_shifted_cumulative(cluster_probability), len(centres), row_of_draw, rng)
    item = members[cluster, _draw(members_cumulative, members.shape[1], cluster, rng)]
    # One entry per distinct (user, item) candidate, with its number of copies.
    pair, first, copies = np.unique(row_of_draw * n_items + item, return_index=True,
                                    return_counts=True)
    row, item, cluster = pair // n_items, pair % n_items, cluster[first]
    user = rows[row]
    # log(copies * target / proposal); the item popularity cancels out.
    affinity_score = affinity * np.einsum("ij,ij->i", user_factors[user], item_factors[item])
    log_weight = (np.log(copies) + affinity_score - np.log(cluster_probability[row, cluster])
                  + log_cluster_popularity[cluster])
    perturbed = log_weight + rng.gumbel(size=len(log_weight))
    order = np.lexsort((-perturbed, row))
    row, item = row[order], item[order]
    n_distinct = np.bincount(row, minlength=len(rows))
    rank = np.arange(len(row)) - np.repeat(np.cumsum(n_distinct) - n_distinct, n_distinct)
    enough = n_distinct >= counts[rows]
    keep = (rank < counts[rows][row]) & enough[row]
    return rows[row[keep]], item[keep], rows[~enough]


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

    Up to 2**24 users x items cells every cell is scored: the sample is exact
    (and the same as in earlier versions for a given ``random_state``). Above
    that, the cost would grow with the cells, so each user picks among a
    candidate sample of about 8 items per interaction asked for, drawn from
    clusters of items in the latent space and reweighted to the probabilities
    above (sampling-importance-resampling): the cost then grows with
    ``n_interactions``, and the sample is close to, not exactly, the one above
    (slightly less taste-driven and more popularity-driven).

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
    model = (user_factors, item_factors, log_popularity, affinity)
    if n_users * n_items <= _EXACT_MAX_CELLS:
        users, items = _sample_exact(np.arange(n_users), counts, model, rng)
    else:
        users, items = _sample_from_candidates(counts, model, rng)
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

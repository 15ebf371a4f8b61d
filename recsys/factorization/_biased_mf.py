"""Biased matrix factorisation trained by SGD (Funk / Koren "SVD")."""

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from recsys.base import BaseRatingPredictor
from recsys.factorization._rating_common import (
    RenamedRegularizationMixin,
    check_sgd_not_diverging,
    predict_biased_dot,
)
from recsys.factorization._sgd_kernels import biased_mf_stratified_epoch
from recsys.utils import idle_threads, numba_threads
from recsys.utils._renamed_params import DEPRECATED, renamed_param_constraint

# Fixed, not tied to the machine's cores, so that a fit is the same on any machine
# and for any n_threads; 16 blocks keep 2-16 threads busy with little waiting.
_N_BLOCKS = 16

_REGULARIZATION = [Interval(Real, 0, None, closed="left")]


class BiasedMF(RenamedRegularizationMixin, BaseRatingPredictor):
    """Matrix factorisation with user and item biases, trained by SGD.

    Predicts ``r_ui = mu + b_u + b_i + <p_u, q_i>`` and minimises the squared
    error plus ``regularization * (b_u^2 + b_i^2 + |p_u|^2 + |q_i|^2)`` by
    stochastic gradient descent: the update equations, initialisation (factors
    drawn from N(0, init_std), biases zero) and defaults of Surprise's ``SVD``.

    Each epoch visits every rating once, stratified as in DSGD (Gemulla et
    al. 2011): users and items are split into 16 random blocks each, the
    ratings of a (user block, item block) pair form a block, and the 16
    blocks of a stratum, which share no user and no item, train on parallel
    threads. The ratings are shuffled once; every epoch visits the strata in
    a new random order (reshuffling inside the blocks every epoch cost a
    fifth of the time and did not change the MovieLens 100K RMSE at four
    decimals). The result is the same for any ``n_threads``. The loops run
    compiled by numba and SIMD-vectorised, fastest with float32 factors.

    An unknown user gets ``mu + b_i``, an unknown item ``mu + b_u``, a pair
    of unknown ids ``mu`` (with ``biased=False``, ``mu`` alone for any
    unknown id).

    SGD steps grow with the ratings: with the default ``lr``, ratings on a
    scale of hundreds diverge. A fit whose training RMSE turns NaN or grows
    tenfold over the first epoch's stops at once with
    :class:`~recsys.base.DegenerateFitError`, saying to rescale the ratings
    or lower ``lr``.

    Parameters
    ----------
    n_factors : int, default=100
        Number of latent factors.
    n_epochs : int, default=20
        Passes of SGD over the ratings.
    lr : float, default=0.005
        Learning rate of every parameter.
    regularization : float, default=0.02
        L2 regularisation of every parameter (Surprise's ``reg``).
    init_std : float, default=0.1
        Standard deviation of the normal initialisation of the factors.
    biased : bool, default=True
        Learn the global mean and biases; without them the model is
        probabilistic matrix factorisation, ``r_ui = <p_u, q_i>``.
    dtype : {"float32", "float64"}, default="float32"
        Precision of the factors and of the SGD steps on them (biases and
        errors stay float64). float32 halves the memory and makes a fit 1.6x
        as fast; both start from the same draws and reach the same 5-fold
        RMSE on MovieLens 100K to four decimals.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, the blocks and the visiting order of every
        epoch.
    n_threads : int or None, default=None
        Threads for the SGD epochs. None takes the cores this process may
        run on (``os.sched_getaffinity``, at most numba's threads), fewer
        when other processes keep them busy: each of the 16 strata of an
        epoch ends in a barrier, so one descheduled thread stalls the others
        (on 2 shared cores at load average 10, 2 threads fitted 6-8x slower
        than 1). The fitted model does not depend on it.
    reg : "deprecated"
        Old name of ``regularization``: accepted until the next release,
        with a FutureWarning.

    Attributes
    ----------
    user_bias_, item_bias_ : ndarray of shape (n_users_,), (n_items_,)
    user_factors_, item_factors_ : ndarray of shape (n_users_, n_factors), (n_items_, n_factors)
    train_rmse_ : list of float
        RMSE of the SGD steps during each epoch.

    Examples
    --------
    >>> from recsys.datasets import make_ratings
    >>> from recsys.factorization import BiasedMF
    >>> data = make_ratings(100, 50, n_ratings=1500, random_state=0).to_pandas()
    >>> model = BiasedMF(n_factors=10, random_state=0).fit(data[["user", "item"]], data["rating"])
    >>> model.predict(data[["user", "item"]][:3]).shape
    (3,)
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_factors": [Interval(Integral, 1, None, closed="left")],
        "n_epochs": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "regularization": _REGULARIZATION,
        "init_std": [Interval(Real, 0, None, closed="left")],
        "biased": ["boolean"],
        "dtype": [StrOptions({"float32", "float64"})],
        "random_state": ["random_state"],
        "n_threads": [Interval(Integral, 1, None, closed="left"), None],
        "reg": renamed_param_constraint(_REGULARIZATION),
    }

    def __init__(self, n_factors=100, n_epochs=20, lr=0.005, regularization=0.02, init_std=0.1,
                 biased=True, dtype="float32", random_state=None, n_threads=None, *, reg=DEPRECATED):
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.lr = lr
        self.regularization = regularization
        self.init_std = init_std
        self.biased = biased
        self.dtype = dtype
        self.random_state = random_state
        self.n_threads = n_threads
        self.reg = reg

    def _fit(self, users, items, ratings):
        generator = np.random.default_rng(check_random_state(self.random_state).randint(2**31))
        user_factors = self._initial_factors(generator, self.n_users_)
        item_factors = self._initial_factors(generator, self.n_items_)
        grid = _BlockGrid(users, items, ratings, self.n_users_, self.n_items_, _N_BLOCKS, generator)
        # The kernels work on the grid's codes, in which every block's users (items)
        # are contiguous rows: threads write to the same cache line only at block edges.
        user_factors, item_factors = user_factors[grid.user_of_code], item_factors[grid.item_of_code]
        user_bias, item_bias = np.zeros(self.n_users_), np.zeros(self.n_items_)
        offset = self.global_mean_ if self.biased else 0.0
        self.train_rmse_ = []
        n_threads = idle_threads() if self.n_threads is None else self.n_threads
        regularization = self._param("regularization")
        with numba_threads(n_threads):
            for _ in range(self.n_epochs):
                squared_errors = biased_mf_stratified_epoch(
                    grid.users, grid.items, grid.ratings, grid.block_indptr, generator.permutation(_N_BLOCKS),
                    offset, user_bias, item_bias, user_factors, item_factors, self.lr, regularization,
                    regularization, self.biased,
                )
                self.train_rmse_.append(float(np.sqrt(squared_errors.sum() / len(ratings))))
                check_sgd_not_diverging(self, self.train_rmse_)
        self.user_factors_, self.item_factors_ = user_factors[grid.code_of_user], item_factors[grid.code_of_item]
        self.user_bias_, self.item_bias_ = user_bias[grid.code_of_user], item_bias[grid.code_of_item]

    def _initial_factors(self, generator, n_rows):
        # Drawn in float64 whatever the dtype, so both dtypes start from the same factors.
        factors = generator.normal(0.0, self.init_std, (n_rows, self.n_factors))
        return factors.astype(self.dtype, copy=False)

    def _predict(self, users, items):
        return predict_biased_dot(users, items, self.global_mean_, self.user_bias_, self.item_bias_,
                                  self.user_factors_, self.item_factors_, biased=self.biased)


class _BlockGrid:
    """The ratings sorted into an n x n grid of (user block, item block) for stratified SGD.

    Users are split into n blocks of about equal numbers of ratings, in a
    random order drawn from ``generator``, and so are items. Users and items
    get new codes so that each block's are contiguous (``code_of_user[u]``,
    ``user_of_code[c]``); ``users``, ``items`` and ``ratings`` hold the
    samples in those codes, grouped by block ``user_block * n + item_block``
    at ``[block_indptr[b], block_indptr[b + 1])``, in a random order inside
    each block.
    """

    def __init__(self, users, items, ratings, n_users, n_items, n_blocks, generator):
        self.user_of_code, self.code_of_user, user_block = _balanced_blocks(users, n_users, n_blocks, generator)
        self.item_of_code, self.code_of_item, item_block = _balanced_blocks(items, n_items, n_blocks, generator)
        shuffled = generator.permutation(len(ratings))
        user_codes, item_codes = self.code_of_user[users[shuffled]], self.code_of_item[items[shuffled]]
        blocks = user_block[user_codes] * n_blocks + item_block[item_codes]
        # A stable sort of 16-bit keys is numpy's radix sort: 5x faster than on int64.
        # Being stable, it keeps the shuffled order inside each block.
        key_dtype = np.uint16 if n_blocks * n_blocks <= 2**16 else np.int64
        by_block = np.argsort(blocks.astype(key_dtype), kind="stable")
        self.users, self.items = user_codes[by_block], item_codes[by_block]
        self.ratings = np.ascontiguousarray(ratings[shuffled[by_block]], dtype=np.float64)
        self.block_indptr = np.zeros(n_blocks * n_blocks + 1, dtype=np.int64)
        np.cumsum(np.bincount(blocks, minlength=n_blocks * n_blocks), out=self.block_indptr[1:])


def _balanced_blocks(ids, n_ids, n_blocks, generator):
    """Random contiguous codes for ``n_ids`` ids and the block of each code, blocks of ~equal sample counts."""
    id_of_code = generator.permutation(n_ids)
    code_of_id = np.empty(n_ids, dtype=np.int32)
    code_of_id[id_of_code] = np.arange(n_ids, dtype=np.int32)
    last_sample_of_code = np.cumsum(np.bincount(ids, minlength=n_ids)[id_of_code]) - 1
    block_of_code = np.clip(last_sample_of_code * n_blocks // max(len(ids), 1), 0, n_blocks - 1)
    return id_of_code, code_of_id, block_of_code

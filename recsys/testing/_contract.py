"""The contract every recsys recommender keeps, as a pytest mixin.

A recommender's test module declares::

    class TestMyModel(RecommenderContract):
        def make_estimator(self):
            return MyModel(n_factors=8, random_state=0)

and inherits every test below. Class attributes relax the parts that do not
apply (``deterministic``, ``batch_consistent``) or set how good the model must
be on generated data (``must_beat``).
"""

import pickle
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

from recsys.datasets import make_interactions
from recsys.metrics import ndcg_at_k
from recsys.testing._sklearn_checks import assert_sklearn_checks_pass
from recsys.utils import split_rows


def contract_data(n_users=240, n_items=80, density=0.1, random_state=0):
    """The generated users x items matrix the contract tests run on."""
    return make_interactions(
        n_users, n_items, density=density, random_state=random_state
    ).to_csr()


#: Layouts of one users x items matrix: the canonical float32 CSR (which fit
#: uses without copying) and the non-canonical forms check_interaction_matrix
#: must rewrite on a copy of its own.
INPUT_LAYOUTS = ("canonical", "unsorted", "duplicates", "explicit_zeros", "float64", "coo")


def _csr_of_entries(values, rows, columns, shape):
    """A CSR matrix storing exactly these entries, in this order within each row.

    Built from its arrays: scipy's (data, (row, col)) constructor would sum
    duplicates and so hide them.
    """
    by_row = np.argsort(rows, kind="stable")
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=shape[0]))])
    return sp.csr_matrix((values[by_row], columns[by_row], indptr), shape=shape)


def non_canonical_input(X, layout):
    """Return a matrix that holds the interactions of the canonical CSR ``X`` in ``layout``.

    Every layout stores the same interactions as X: "duplicates" splits each
    entry in two halves, "explicit_zeros" adds stored zeros beside the
    entries, "unsorted" reverses the column order inside each row, "coo"
    shuffles the entries, "float64" changes the dtype.
    """
    X = sp.csr_matrix(X, dtype=np.float32, copy=True)
    rows = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
    if layout == "canonical":
        return X
    if layout == "float64":
        return X.astype(np.float64)
    if layout == "unsorted":
        order = np.lexsort((-X.indices, rows))
        return _csr_of_entries(X.data[order], rows[order], X.indices[order], X.shape)
    if layout == "duplicates":
        return _csr_of_entries(np.concatenate([X.data / 2, X.data / 2]), np.concatenate([rows, rows]),
                               np.concatenate([X.indices, X.indices]), X.shape)
    if layout == "explicit_zeros":
        zero_rows, zero_columns = np.nonzero(X.toarray() == 0)
        pick = np.random.default_rng(0).permutation(len(zero_rows))[: max(1, X.nnz // 4)]
        values = np.concatenate([X.data, np.zeros(len(pick), np.float32)])
        entry_rows = np.concatenate([rows, zero_rows[pick]])
        columns = np.concatenate([X.indices, zero_columns[pick]])
        # Sorted columns: the zeros are the only thing to canonicalise.
        order = np.lexsort((columns, entry_rows))
        return _csr_of_entries(values[order], entry_rows[order], columns[order], X.shape)
    if layout == "coo":
        shuffle = np.random.default_rng(0).permutation(X.nnz)
        return sp.coo_matrix((X.data[shuffle], (rows[shuffle], X.indices[shuffle])), shape=X.shape)
    raise ValueError(f"unknown layout {layout!r}; one of {INPUT_LAYOUTS}.")


def snapshot_input(X):
    """Copies of every array of a matrix (and its class), to check later that nothing changed."""
    if sp.issparse(X):
        names = ("data", "indices", "indptr") if X.format in ("csr", "csc") else ("data", "row", "col")
        return type(X), X.shape, {name: getattr(X, name).copy() for name in names}
    return type(X), np.shape(X), {"array": np.array(X, copy=True)}


def assert_input_unchanged(X, snapshot, during):
    """Assert that X still holds what ``snapshot_input`` recorded."""
    kind, shape, arrays = snapshot
    assert type(X) is kind and X.shape == shape, f"{during} replaced or reshaped its input"
    for name, before in arrays.items():
        now = X if name == "array" else getattr(X, name)
        assert now.dtype == before.dtype, f"{during} changed the dtype of the input's {name}"
        np.testing.assert_array_equal(now, before, err_msg=f"{during} modified the input's {name}")



def _same_param_value(left, right):
    # clone gives a meta-estimator new instances of its estimators: they are
    # the same parameter when they are of the same class with the same
    # parameters, as scikit-learn's own clone checks compare them.
    if hasattr(left, "get_params") and not isinstance(left, type):
        return type(left) is type(right) and _same_params(left, right)
    if isinstance(left, (list, tuple)):
        return (type(left) is type(right) and len(left) == len(right)
                and all(map(_same_param_value, left, right)))
    if isinstance(left, np.ndarray) or isinstance(right, np.ndarray):
        return np.array_equal(left, right)
    return left == right


def _same_params(left, right):
    params, other = left.get_params(deep=False), right.get_params(deep=False)
    return params.keys() == other.keys() and all(
        _same_param_value(params[name], other[name]) for name in params)


def assert_same_params(cloned, estimator):
    """Assert that ``cloned`` has the parameters of ``estimator``, nested estimators compared by theirs."""
    assert _same_params(cloned, estimator), (
        f"clone changed the parameters:\n{cloned.get_params(deep=False)}\n"
        f"!=\n{estimator.get_params(deep=False)}")

class RecommenderContract:
    """Mixin of pytest tests that every recommender must pass."""

    #: identical output for identical input and parameters
    deterministic = True
    #: recommending for X row by row gives what recommending for X at once gives
    batch_consistent = True
    #: name of a baseline ("random" or "popularity") the model must beat in NDCG@10
    must_beat = None
    #: ``{check name: reason}`` of scikit-learn checks this estimator fails beyond those
    #: :func:`recsys.testing.expected_failed_checks` lists for its kind
    sklearn_expected_failures: ClassVar[dict] = {}
    #: absolute tolerance on scores when comparing two runs
    score_atol = 1e-5

    def make_estimator(self):
        raise NotImplementedError("a contract test class must define make_estimator()")

    @pytest.fixture(scope="class")
    def data(self):
        return contract_data()

    @pytest.fixture(scope="class")
    def fitted(self, data):
        return self.make_estimator().fit(data)

    # -------------------------------------------------------------- estimator API
    def test_fit_returns_self(self, data):
        estimator = self.make_estimator()
        assert estimator.fit(data) is estimator

    def test_sklearn_checks(self):
        # Every scikit-learn estimator check, less those recsys.testing lists with their reason.
        assert_sklearn_checks_pass(self.make_sklearn_check_estimator(), self.sklearn_expected_failures)

    def make_sklearn_check_estimator(self):
        """The instance scikit-learn's checks run on: ``make_estimator()`` unless overridden.

        The checks fit on a handful of samples and features, dozens of times:
        override to return a smaller instance (fewer factors or iterations).
        """
        return self.make_estimator()

    def test_clone_keeps_params(self):
        estimator = self.make_estimator()
        cloned = clone(estimator)
        assert cloned is not estimator
        assert_same_params(cloned, estimator)

    def test_unfitted_recommend_raises(self, data):
        with pytest.raises(NotFittedError):
            self.make_estimator().recommend(data[:2])

    def test_pickle_round_trip(self, fitted, data):
        restored = pickle.loads(pickle.dumps(fitted))
        self._assert_same_recommendations(fitted.recommend(data[:20], n=5),
                                          restored.recommend(data[:20], n=5))

    # -------------------------------------------------------------- recommend
    def test_recommend_shapes_and_types(self, fitted, data):
        ids, scores = fitted.recommend(data[:7], n=6)
        assert ids.shape == (7, 6) and scores.shape == (7, 6)
        assert np.issubdtype(ids.dtype, np.integer)
        assert ((ids >= -1) & (ids < data.shape[1])).all()
        assert np.isfinite(scores[ids >= 0]).all()

    def test_scores_are_sorted(self, fitted, data):
        ids, scores = fitted.recommend(data[:30], n=10)
        full = ids.min(axis=1) >= 0
        assert np.all(np.diff(scores[full], axis=1) <= 1e-6)

    def test_exclude_seen(self, fitted, data):
        ids, _ = fitted.recommend(data[:50], n=10, exclude_seen=True)
        seen = data[:50]
        for row in range(50):
            recommended = ids[row][ids[row] >= 0]
            assert not np.isin(recommended, seen[row].indices).any()
            assert len(np.unique(recommended)) == len(recommended)

    def test_include_seen_fills_list(self, fitted, data):
        n = data.shape[1]
        ids, _ = fitted.recommend(data[:5], n=n, exclude_seen=False)
        assert (ids >= 0).all()
        for row in ids:
            assert len(np.unique(row)) == n

    def test_pads_when_too_few_items(self, fitted, data):
        n_items = data.shape[1]
        ids, scores = fitted.recommend(data[:3], n=n_items + 5, exclude_seen=True)
        for row in range(3):
            n_valid = n_items - data[row].nnz
            assert (ids[row, :n_valid] >= 0).all()
            assert (ids[row, n_valid:] == -1).all()
            assert np.isneginf(scores[row, n_valid:]).all()

    def test_items_restriction(self, fitted, data):
        allowed = np.arange(0, data.shape[1], 3)
        ids, _ = fitted.recommend(data[:20], n=5, items=allowed)
        assert np.isin(ids[ids >= 0], allowed).all()

    def test_new_users_fold_in(self, fitted, data):
        rng = np.random.default_rng(1)
        new_users = sp.random(4, data.shape[1], density=0.1, random_state=rng, format="csr")
        new_users.data[:] = 1.0
        ids, _ = fitted.recommend(new_users, n=5)
        assert ids.shape == (4, 5)

    def test_empty_user_row(self, fitted, data):
        ids, _ = fitted.recommend(sp.csr_matrix((1, data.shape[1])), n=5)
        assert ids.shape == (1, 5)

    @pytest.mark.parametrize("exclude_seen", [True, False])
    def test_empty_batch(self, fitted, data, exclude_seen):
        ids, scores = fitted.recommend(data[:0], n=3, exclude_seen=exclude_seen)
        assert ids.shape == (0, 3) and scores.shape == (0, 3)
        assert np.issubdtype(ids.dtype, np.integer)

    def test_batch_and_single_user_agree(self, fitted, data):
        if not self.batch_consistent:
            pytest.skip("this recommender's output depends on the batch it scores")
        batch = fitted.recommend(data[:12], n=5)
        for row in (0, 5, 11):
            single = fitted.recommend(data[row:row + 1], n=5)
            self._assert_same_recommendations((batch[0][row:row + 1], batch[1][row:row + 1]), single)

    def test_deterministic(self, data):
        if not self.deterministic:
            pytest.skip("this recommender is not deterministic")
        first = self.make_estimator().fit(data).recommend(data[:25], n=8)
        second = self.make_estimator().fit(data).recommend(data[:25], n=8)
        self._assert_same_recommendations(first, second)

    def test_quality_on_generated_data(self, data):
        if self.must_beat is None:
            pytest.skip("no quality bar set for this recommender")
        from recsys.baselines import PopularityRecommender, RandomRecommender

        baseline = {"random": RandomRecommender(random_state=0),
                    "popularity": PopularityRecommender()}[self.must_beat]
        train, test = data[:180], data[180:]
        fold_in, held_out = split_rows(test, 0.8, random_state=0)

        def ndcg(model):
            ids, _ = model.fit(train).recommend(fold_in, n=10)
            return ndcg_at_k(held_out, ids, k=10)

        assert ndcg(self.make_estimator()) > ndcg(baseline)

    # -------------------------------------------------------------- bad input
    def test_wrong_number_of_columns(self, fitted, data):
        with pytest.raises(ValueError, match="columns"):
            fitted.recommend(sp.csr_matrix((2, data.shape[1] + 1)))

    @pytest.mark.parametrize("bad_value, message", [(-1.0, "negative"), (np.nan, "NaN")])
    def test_bad_values_rejected(self, data, bad_value, message):
        bad = data.copy().astype(np.float64)
        bad.data[0] = bad_value
        with pytest.raises(ValueError, match=message):
            self.make_estimator().fit(bad)

    def test_dense_and_sparse_input_agree(self, fitted, data):
        self._assert_same_recommendations(fitted.recommend(data[:5], n=5),
                                          fitted.recommend(data[:5].toarray(), n=5))

    # -------------------------------------------------------------- inputs are never modified
    @pytest.mark.parametrize("layout", INPUT_LAYOUTS)
    def test_inputs_unchanged_by_fit_and_recommend(self, fitted, data, layout):
        X = non_canonical_input(data, layout)
        before = snapshot_input(X)
        model = self.make_estimator().fit(X)
        assert_input_unchanged(X, before, "fit")
        ids, scores = model.recommend(X, n=5)
        assert_input_unchanged(X, before, "recommend")
        # Every layout holds the interactions of data, so the answers are the same.
        if self.deterministic:
            self._assert_same_recommendations((ids, scores), fitted.recommend(data, n=5))

    @pytest.mark.parametrize("layout", INPUT_LAYOUTS)
    def test_inputs_unchanged_by_transform(self, fitted, data, layout):
        if not hasattr(fitted, "transform"):
            pytest.skip("this recommender has no transform")
        X = non_canonical_input(data, layout)
        before = snapshot_input(X)
        fitted.transform(X)
        assert_input_unchanged(X, before, "transform")

    def test_threads_sharing_a_fitted_model_agree_with_sequential_use(self, fitted, data):
        if not self.deterministic:
            pytest.skip("this recommender is not deterministic")
        batches = (data[:120], data[120:])
        expected = [fitted.recommend(batch, n=8) for batch in batches]
        start = threading.Barrier(len(batches))
        answers = [[] for _ in batches]

        def serve(slot):
            start.wait()
            for _ in range(20):
                answers[slot].append(fitted.recommend(batches[slot], n=8))

        with ThreadPoolExecutor(len(batches)) as pool:
            list(pool.map(serve, range(len(batches))))
        for slot, batch_answers in enumerate(answers):
            for answer in batch_answers:
                self._assert_same_recommendations(answer, expected[slot])

    # -------------------------------------------------------------- bad input, enumerated
    @pytest.mark.parametrize("bad, error, message", [
        ("explicit_zeros_only", ValueError, "no interaction"),
        ("no_entry", ValueError, "no interaction"),
        ("inf", ValueError, "infinite"),
        ("one_dimensional", ValueError, "2-dimensional"),
        ("object_array", TypeError, "numeric"),
        ("dataframe", TypeError, "DataFrame"),
    ])
    def test_bad_fit_input_rejected(self, data, bad, error, message):
        n_items = data.shape[1]
        if bad == "explicit_zeros_only":
            X = _csr_of_entries(np.zeros(3, np.float32), np.zeros(3, np.int64), np.arange(3), data.shape)
        elif bad == "no_entry":
            X = sp.csr_matrix(data.shape, dtype=np.float32)
        elif bad == "inf":
            X = data.astype(np.float64)
            X.data[0] = np.inf
        elif bad == "one_dimensional":
            X = np.ones(n_items)
        elif bad == "object_array":
            X = np.full((3, n_items), "a", dtype=object)
        else:
            X = pd.DataFrame(data[:3].toarray())
        with pytest.raises(error, match=message):
            self.make_estimator().fit(X)

    @pytest.mark.parametrize("items, error, message", [
        ([1.7], ValueError, "whole item indices"),
        (["a"], TypeError, "integer item indices"),
        (np.array([2**64 - 1], dtype=np.uint64), ValueError, "item indices in"),
        ([-1], ValueError, "item indices in"),
        (np.ones(3, dtype=bool), TypeError, "boolean mask"),
    ])
    def test_bad_items_rejected(self, fitted, data, items, error, message):
        with pytest.raises(error, match=message):
            fitted.recommend(data[:3], n=5, items=items)

    def test_whole_float_items_accepted(self, fitted, data):
        as_floats = fitted.recommend(data[:5], n=3, items=[0.0, 2.0, 4.0])
        self._assert_same_recommendations(as_floats, fitted.recommend(data[:5], n=3, items=[0, 2, 4]))

    @pytest.mark.parametrize("n", [0, -1, 2.5, True])
    def test_bad_n_rejected(self, fitted, data, n):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            fitted.recommend(data[:3], n=n)

    # -------------------------------------------------------------- helpers
    def _assert_same_recommendations(self, first, second):
        (ids_a, scores_a), (ids_b, scores_b) = first, second
        np.testing.assert_allclose(scores_a, scores_b, atol=self.score_atol, rtol=1e-4)
        # Ids may differ only where scores tie.
        differ = ids_a != ids_b
        if differ.any():
            ties = np.isclose(scores_a, scores_b, atol=self.score_atol)
            assert ties[differ].all()

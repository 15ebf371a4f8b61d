"""The ``similar_items`` contract, as a pytest mixin.

Every model with item similarities answers ``similar_items(items, n=10)``
with ``(ids, scores)`` of shape (n_queries, n), the query item never among
them, and rejects bad queries with the same errors (see
:func:`recsys.utils.check_similar_items`). A test declares::

    class TestMyModelSimilarItems(SimilarItemsChecks):
        def make_estimator(self):
            return MyModel(n_factors=8, random_state=0)

and may override ``fit_estimator(estimator, X)`` (default ``estimator.fit(X)``)
and ``similar_items_data()`` (default :func:`contract_data`).

A recommender (subclass of :class:`recsys.base.BaseRecommender`) also
answers ``similar_item_ids(items, n=10)`` in the item ids of the
``Interactions`` it was fitted on; the ``test_similar_item_ids_*`` checks fit
it on the same data under string ids (through ``fit_estimator``) and skip
estimators without that method.
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from recsys.datasets import Interactions
from recsys.testing._contract import contract_data


class SimilarItemsChecks:
    """Mixin of pytest tests for ``similar_items``."""

    def make_estimator(self):
        raise NotImplementedError("a SimilarItemsChecks test class defines make_estimator()")

    def similar_items_data(self):
        return contract_data()

    def fit_estimator(self, estimator, X):
        return estimator.fit(X)

    @pytest.fixture(scope="class")
    def similar_fitted(self):
        X = self.similar_items_data()
        return self.fit_estimator(self.make_estimator(), X), X.shape[1]

    def test_similar_items_shape_and_order(self, similar_fitted):
        model, n_items = similar_fitted
        queries = np.array([0, 3, n_items - 1])
        ids, scores = model.similar_items(queries, n=5)
        assert ids.shape == scores.shape == (3, 5)
        assert ids.dtype == np.int64 and np.issubdtype(scores.dtype, np.floating)
        assert ((ids >= -1) & (ids < n_items)).all()
        assert (np.isneginf(scores) == (ids == -1)).all()
        assert (np.diff(scores, axis=1) <= 0).all(), "most similar first"
        for row in ids:
            found = row[row >= 0]
            assert len(set(found.tolist())) == len(found), "an item listed twice"

    def test_similar_items_never_returns_the_query(self, similar_fitted):
        model, n_items = similar_fitted
        queries = np.arange(n_items)
        ids, _ = model.similar_items(queries, n=n_items)
        assert not (ids == queries[:, None]).any()

    def test_similar_items_pads_when_n_exceeds_the_catalogue(self, similar_fitted):
        model, n_items = similar_fitted
        ids, scores = model.similar_items([0], n=n_items + 5)
        assert ids.shape == (1, n_items + 5)
        assert (ids[0, n_items - 1:] == -1).all() and np.isneginf(scores[0, n_items - 1:]).all()

    def test_similar_items_of_one_item_is_one_row(self, similar_fitted):
        model, _ = similar_fitted
        single_ids, single_scores = model.similar_items(2, n=4)
        ids, scores = model.similar_items([1, 2], n=4)
        np.testing.assert_array_equal(single_ids, ids[1:])
        np.testing.assert_allclose(single_scores, scores[1:])

    def test_similar_items_of_no_item(self, similar_fitted):
        model, _ = similar_fitted
        ids, scores = model.similar_items(np.array([], dtype=np.int64), n=3)
        assert ids.shape == scores.shape == (0, 3)

    @pytest.mark.parametrize("items, error, message", [
        ("outside", ValueError, "item indices in"),
        ([-1], ValueError, "item indices in"),
        ([0.5], ValueError, "whole item indices"),
        (["a"], TypeError, "integer item indices"),
        ([True], TypeError, "boolean mask"),
    ])
    def test_similar_items_rejects_bad_items(self, similar_fitted, items, error, message):
        model, n_items = similar_fitted
        items = [n_items] if items == "outside" else items
        with pytest.raises(error, match=message):
            model.similar_items(items, n=3)

    @pytest.mark.parametrize("n", [0, -2, 2.0, True, "3"])
    def test_similar_items_rejects_bad_n(self, similar_fitted, n):
        model, _ = similar_fitted
        with pytest.raises(ValueError, match="n must be a positive integer"):
            model.similar_items([0], n=n)

    def test_similar_items_needs_a_fitted_model(self):
        with pytest.raises(NotFittedError):
            self.make_estimator().similar_items([0], n=3)

    @pytest.fixture(scope="class")
    def similar_fitted_on_ids(self):
        X = self.similar_items_data()
        data = Interactions.from_csr(X, user_ids=[f"user-{u}" for u in range(X.shape[0])],
                                     item_ids=[f"item-{i}" for i in range(X.shape[1])])
        model = self.fit_estimator(self.make_estimator(), data)
        if not hasattr(model, "similar_item_ids"):
            pytest.skip(f"{type(model).__name__} has no similar_item_ids (not a BaseRecommender)")
        return model, data

    def test_similar_item_ids_are_similar_items_in_ids(self, similar_fitted_on_ids):
        model, data = similar_fitted_on_ids
        queries = np.array([0, 3, data.n_items - 1])
        ids, scores = model.similar_items(queries, n=data.n_items + 2)
        table = model.similar_item_ids(data.item_ids[queries], n=data.n_items + 2)
        assert list(table.columns) == ["item_id", "rank", "similar_item_id", "score"]
        found = ids >= 0
        assert len(table) == found.sum(), "padding (-1) is left out, never mapped to an id"
        np.testing.assert_array_equal(table["item_id"], np.repeat(data.item_ids[queries], found.sum(1)))
        np.testing.assert_array_equal(table["similar_item_id"], data.item_ids[ids[found]])
        np.testing.assert_allclose(table["score"], scores[found])
        np.testing.assert_array_equal(table["rank"], np.nonzero(found)[1] + 1)

    def test_similar_item_ids_take_ids_not_indices(self, similar_fitted_on_ids):
        model, _ = similar_fitted_on_ids
        with pytest.raises(ValueError, match=r"item id\(s\) \[0\] are not items of the model"):
            model.similar_item_ids([0], n=3)
        with pytest.raises(ValueError, match="fitted on a matrix"):
            self.fit_estimator(self.make_estimator(), self.similar_items_data()).similar_item_ids([0])

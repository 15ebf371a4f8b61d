"""InteractionWeighter: implicit's formulas, statistics from fit only.

scikit-learn's checks run in tests/test_sklearn_checks.py.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from recsys.preprocessing import InteractionWeighter


@pytest.fixture(scope="module")
def counts():
    matrix = sp.random(60, 25, density=0.2, random_state=3, format="csr")
    matrix.data = np.ceil(matrix.data * 6)
    return matrix


def _implicit(scheme, documents, X, K1=100.0, B=0.8):
    nearest = pytest.importorskip("implicit.nearest_neighbours")

    def weigh(matrix):
        if scheme == "bm25":
            return nearest.bm25_weight(matrix, K1=K1, B=B)
        return nearest.tfidf_weight(matrix)

    if documents == "users":
        return sp.csr_matrix(weigh(X))
    return sp.csr_matrix(weigh(X.T.tocsr()).T)


@pytest.mark.parametrize("scheme", ["bm25", "tfidf"])
@pytest.mark.parametrize("documents", ["users", "items"])
@pytest.mark.parametrize("K1, B", [(100.0, 0.8), (1.2, 0.75)])
def test_same_values_as_implicit(counts, scheme, documents, K1, B):
    ours = InteractionWeighter(scheme, K1=K1, B=B, documents=documents).fit_transform(counts)
    np.testing.assert_allclose(ours.toarray(), _implicit(scheme, documents, counts, K1, B).toarray(),
                               rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("documents", ["users", "items"])
def test_fold_in_rows_use_fit_statistics_only(counts, documents):
    """Transforming a few rows gives the rows of the fitted matrix's transform."""
    weighter = InteractionWeighter("bm25", documents=documents).fit(counts)
    full = weighter.transform(counts).toarray()
    np.testing.assert_allclose(weighter.transform(counts[[4, 17]]).toarray(), full[[4, 17]])
    # Statistics do not move when other rows are transformed.
    before = weighter.item_idf_.copy(), weighter.item_length_.copy()
    weighter.transform(counts * 3)
    np.testing.assert_array_equal(before[0], weighter.item_idf_)
    np.testing.assert_array_equal(before[1], weighter.item_length_)


def test_fit_statistics_ignore_transformed_rows(counts):
    """Weights of new users come from the training users' statistics, not their own batch."""
    train, new = counts[:40], counts[40:]
    weighter = InteractionWeighter("bm25", documents="users").fit(train)
    joint = InteractionWeighter("bm25", documents="users").fit(counts)
    assert not np.allclose(weighter.transform(new).toarray(), joint.transform(new).toarray())
    document_frequency = np.bincount(train.indices, minlength=train.shape[1])
    np.testing.assert_allclose(weighter.item_idf_,
                               np.maximum(np.log(40) - np.log1p(document_frequency), 0))


def test_confidence_schemes():
    X = sp.csr_matrix(np.array([[0.0, 2.0], [3.0, 0.0]]))
    np.testing.assert_allclose(InteractionWeighter("confidence", alpha=40).fit_transform(X).toarray(),
                               [[0, 81], [121, 0]])
    np.testing.assert_allclose(InteractionWeighter("log", alpha=2).fit_transform(X).toarray(),
                               [[0, 1 + 2 * np.log(3)], [1 + 2 * np.log(4), 0]])


def test_term_in_every_document_is_clipped_to_zero_and_kept_stored():
    # Item 0 is held by every user: implicit's idf log(3 / 4) is negative.
    X = sp.csr_matrix(np.array([[1, 1, 0], [1, 0, 1], [1, 0, 0]], dtype=float))
    weighted = InteractionWeighter("tfidf", documents="users").fit_transform(X)
    assert weighted.nnz == X.nnz
    np.testing.assert_array_equal(weighted.toarray()[:, 0], 0.0)
    assert (weighted.data >= 0).all()


def test_all_zero_weights_warn():
    dense = sp.csr_matrix(np.ones((4, 3)))
    with pytest.warns(UserWarning, match="every bm25 weight of the fit matrix is 0"):
        InteractionWeighter("bm25").fit(dense)
    with pytest.warns(UserWarning, match="every tfidf weight"):
        InteractionWeighter("tfidf", documents="users").fit(dense)


def test_input_is_not_modified(counts):
    original = counts.copy()
    InteractionWeighter().fit(counts).transform(counts)
    np.testing.assert_array_equal(counts.data, original.data)


@pytest.mark.parametrize("params, message", [
    ({"scheme": "okapi"}, "scheme"),
    ({"B": 1.5}, "B"),
    ({"alpha": 0}, "alpha"),
    ({"documents": "rows"}, "documents"),
])
def test_bad_parameters(counts, params, message):
    with pytest.raises(ValueError, match=message):
        InteractionWeighter(**params).fit(counts)


def test_bad_input(counts):
    weighter = InteractionWeighter().fit(counts)
    with pytest.raises(ValueError, match="columns"):
        weighter.transform(sp.csr_matrix((2, counts.shape[1] + 1)))
    bad = counts.copy()
    bad.data[0] = -1
    with pytest.raises(ValueError, match="negative"):
        InteractionWeighter().fit(bad)


def test_feature_names_and_save_load(counts, tmp_path):
    weighter = InteractionWeighter("tfidf").fit(counts)
    assert list(weighter.get_feature_names_out())[:2] == ["x0", "x1"]
    weighter.save(tmp_path / "weighter.npz")
    restored = InteractionWeighter.load(tmp_path / "weighter.npz")
    np.testing.assert_allclose(restored.transform(counts).toarray(), weighter.transform(counts).toarray())
    assert clone(weighter).get_params() == weighter.get_params()

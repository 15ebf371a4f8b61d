import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import ElasticNet

from recsys.datasets import make_interactions
from recsys.linear import EASE, SLIM, _ease, _slim
from recsys.testing import RecommenderContract, SaveLoadChecks


class TestEASEContract(RecommenderContract, SaveLoadChecks):
    must_beat = "popularity"

    def make_estimator(self):
        return EASE(l2=50.0)


class TestSLIMContract(RecommenderContract, SaveLoadChecks):
    must_beat = "popularity"

    def make_estimator(self):
        return SLIM(l1=0.5, l2=50.0)


@pytest.fixture(scope="module")
def X():
    return make_interactions(80, 30, density=0.15, random_state=5).to_csr()


def test_ease_matches_direct_inverse(X):
    dense = X.toarray().astype(np.float64)
    inverse = np.linalg.inv(dense.T @ dense + 20.0 * np.eye(X.shape[1]))
    expected = np.eye(X.shape[1]) - inverse / np.diag(inverse)[None, :]
    np.fill_diagonal(expected, 0.0)
    model = EASE(l2=20.0).fit(X)
    np.testing.assert_allclose(model.coef_, expected, atol=1e-10)
    np.testing.assert_allclose(model._score(X[:5]), dense[:5] @ expected, atol=1e-10)


def test_ease_float32_is_close_to_float64(X):
    single = EASE(l2=20.0, dtype=np.float32).fit(X)
    double = EASE(l2=20.0).fit(X)
    assert single.coef_.dtype == np.float32
    np.testing.assert_allclose(single.coef_, double.coef_, atol=1e-5)


@pytest.mark.parametrize("l2", [0.0, -1.0])
def test_ease_rejects_non_positive_l2(X, l2):
    with pytest.raises(ValueError, match="l2"):
        EASE(l2=l2).fit(X)


def test_ease_rejects_other_dtypes(X):
    with pytest.raises(ValueError, match="float32 or np.float64"):
        EASE(dtype=np.int64).fit(X)


def test_ease_says_how_much_memory_it_needs(X, monkeypatch):
    monkeypatch.setattr(_ease, "available_memory_bytes", lambda: 1000)
    expected_gib = 2 * X.shape[1] ** 2 * 8 / 2**30
    with pytest.raises(MemoryError, match=f"needs about {expected_gib:.1f} GiB"):
        EASE().fit(X)


def with_empty_item(X):
    return sp.hstack([X, sp.csr_matrix((X.shape[0], 1))]).tocsr()


@pytest.mark.parametrize("model", [EASE(l2=10.0), SLIM(l1=0.1, l2=1.0)], ids=["ease", "slim"])
def test_item_without_interactions_has_zero_weights(X, model):
    model.fit(with_empty_item(X))
    weights = sp.csr_matrix(model.coef_).toarray()
    assert np.isfinite(weights).all()
    assert not weights[-1].any() and not weights[:, -1].any()
    assert not np.diag(weights).any()


def test_slim_columns_solve_their_elastic_net(X):
    l1, l2 = 0.3, 2.0
    model = SLIM(l1=l1, l2=l2, max_iter=5000, tol=1e-10).fit(X)
    dense = X.toarray().astype(np.float64)
    n_users = dense.shape[0]
    for item in (0, 7, 19):
        design = dense.copy()
        design[:, item] = 0.0
        reference = ElasticNet(alpha=(l1 + l2) / n_users, l1_ratio=l1 / (l1 + l2),
                               positive=True, fit_intercept=False, max_iter=5000, tol=1e-10)
        reference.fit(design, dense[:, item])
        np.testing.assert_allclose(model.coef_[:, item].toarray().ravel(), reference.coef_,
                                   atol=1e-6)
    assert model.coef_.min() >= 0


def test_slim_objective_is_optimal_for_its_unscaled_penalties(X):
    """The l1/l2 mapping: perturbing a column's weights never lowers the SLIM objective."""
    l1, l2 = 0.3, 2.0
    model = SLIM(l1=l1, l2=l2, max_iter=5000, tol=1e-12).fit(X)
    dense = X.toarray().astype(np.float64)
    item = 3
    design = dense.copy()
    design[:, item] = 0.0
    weights = model.coef_[:, item].toarray().ravel()

    def objective(w):
        residual = dense[:, item] - design @ w
        return 0.5 * residual @ residual + 0.5 * l2 * w @ w + l1 * np.abs(w).sum()

    rng = np.random.default_rng(0)
    best = objective(weights)
    for _ in range(20):
        perturbed = np.maximum(weights + rng.normal(0, 1e-3, len(weights)), 0)
        perturbed[item] = 0.0
        assert objective(perturbed) >= best - 1e-12


def test_slim_top_k_keeps_the_largest_weights(X):
    full = SLIM(l1=0.05, l2=1.0).fit(X).coef_.toarray()
    cut = SLIM(l1=0.05, l2=1.0, k=3).fit(X).coef_.toarray()
    assert ((cut != 0).sum(axis=0) <= 3).all()
    for item in range(X.shape[1]):
        np.testing.assert_allclose(np.sort(cut[:, item])[-3:], np.sort(full[:, item])[-3:])


def test_slim_parallel_equals_sequential(X, monkeypatch):
    monkeypatch.setattr(_slim, "_ITEMS_PER_BLOCK", 8)
    sequential = SLIM(l1=0.1, l2=1.0).fit(X).coef_
    parallel = SLIM(l1=0.1, l2=1.0, n_jobs=2).fit(X).coef_
    np.testing.assert_array_equal(parallel.toarray(), sequential.toarray())


@pytest.mark.parametrize("params", [
    {"l1": 0.3, "l2": 2.0},
    {"l1": 0.05, "l2": 1.0, "k": 5},
    {"l1": 0.5, "l2": 5.0, "positive": False},
    {"l1": 0.0, "l2": 3.0},
], ids=["default", "top-k", "signed", "ridge"])
def test_slim_gram_solver_matches_elasticnet_reference(params):
    X = make_interactions(120, 40, density=0.12, random_state=11).to_csr()
    X = with_empty_item(X)  # the Gram solver must skip it like the reference
    common = {"max_iter": 5000, "tol": 1e-10, **params}
    gram = SLIM(solver="gram", **common).fit(X).coef_.toarray()
    reference = SLIM(solver="elasticnet", **common).fit(X).coef_.toarray()
    scale = np.abs(reference).max()
    assert scale > 0
    np.testing.assert_allclose(gram, reference, rtol=1e-6, atol=1e-6 * scale)
    # Same sparsity pattern, up to weights the solvers' tolerance cannot tell from 0.
    pattern_differs = (gram != 0) != (reference != 0)
    assert np.abs(gram + reference)[pattern_differs].max(initial=0.0) <= 1e-6 * scale


def test_slim_gram_solver_says_how_much_memory_it_needs(X, monkeypatch):
    monkeypatch.setattr(_slim, "available_memory_bytes", lambda: 1000)
    with pytest.raises(MemoryError, match="solver='elasticnet'"):
        SLIM(solver="gram").fit(X)
    assert SLIM(solver="elasticnet").fit(X).coef_.nnz > 0


def test_slim_needs_some_penalty(X):
    with pytest.raises(ValueError, match="l1 \\+ l2 must be positive"):
        SLIM(l1=0.0, l2=0.0).fit(X)


@pytest.mark.parametrize("params", [{"l1": -1.0}, {"l2": -0.5}, {"k": 0}, {"solver": "lbfgs"}])
def test_slim_rejects_bad_parameters(X, params):
    with pytest.raises(ValueError, match=next(iter(params))):
        SLIM(**params).fit(X)


def huge_catalogue_interactions(n_items=2_000_000):
    """Three interactions of two users over a catalogue of ``n_items`` items."""
    return sp.csr_matrix((np.ones(3), ([0, 0, 1], [5, n_items - 7, 5])), shape=(2, n_items))


@pytest.mark.parametrize("solver", ["elasticnet", "gram"])
def test_slim_work_follows_items_in_use(solver, monkeypatch):
    # Every per-item solve sees only the items in use: a catalogue-wide design
    # matrix or Gram matrix would make the cost scale with the catalogue.
    widths = []
    name = f"_fit_item_block_{solver}"
    original = getattr(_slim, name)

    def record(matrix, items, *args):
        widths.append(matrix.shape[1])
        return original(matrix, items, *args)

    monkeypatch.setattr(_slim, name, record)
    X = huge_catalogue_interactions()
    model = SLIM(l1=0.01, l2=0.1, solver=solver).fit(X)
    assert widths == [2]
    assert model.coef_.shape == (X.shape[1], X.shape[1])
    assert model.recommend(X[1], n=1)[0][0, 0] == X.shape[1] - 7


@pytest.mark.parametrize("solver", ["elasticnet", "gram"])
def test_slim_unused_items_leave_weights_unchanged(X, solver):
    padded = sp.hstack([sp.csr_matrix((X.shape[0], 3)), X, sp.csr_matrix((X.shape[0], 2))]).tocsr()
    compact = SLIM(l1=0.1, l2=1.0, solver=solver).fit(X).coef_.toarray()
    weights = SLIM(l1=0.1, l2=1.0, solver=solver).fit(padded).coef_.toarray()
    np.testing.assert_allclose(weights[3:-2, 3:-2], compact, rtol=1e-10, atol=1e-12)
    assert not weights[:3].any() and not weights[-2:].any()


def test_ease_inverts_only_the_items_in_use(X, monkeypatch):
    sizes = []
    original = _ease.scipy.linalg.inv
    monkeypatch.setattr(_ease.scipy.linalg, "inv", lambda a, **kw: sizes.append(a.shape) or original(a, **kw))
    padded = sp.hstack([sp.csr_matrix((X.shape[0], 3)), X]).tocsr()
    weights = EASE(l2=20.0).fit(padded).coef_
    assert sizes == [(X.shape[1], X.shape[1])]
    np.testing.assert_allclose(weights[3:, 3:], EASE(l2=20.0).fit(X).coef_, atol=1e-12)
    assert not weights[:3].any() and not weights[:, :3].any()


def test_ease_refuses_a_huge_catalogue_with_the_memory_it_needs(monkeypatch):
    # EASE is dense in the catalogue (B has n_items**2 weights): 2 million
    # items need about 29,800 GiB, which fit refuses before allocating.
    monkeypatch.setattr(_ease, "available_memory_bytes", lambda: 64 * 2**30)
    with pytest.raises(MemoryError, match=r"EASE needs about 29802\.3 GiB for 2000000 items, 2 of them"):
        EASE().fit(huge_catalogue_interactions())

"""Recommenders in the user's own ids: vocabularies kept by fit, recommend_ids, explain."""

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.base import UnknownItemsWarning
from recsys.baselines import PopularityRecommender
from recsys.datasets import Interactions, make_interactions
from recsys.factorization import ALS
from recsys.linear import EASE, SLIM
from recsys.neighbors import ItemKNN


@pytest.fixture(scope="module")
def matrix():
    return make_interactions(120, 40, density=0.12, random_state=0).to_csr()


@pytest.fixture(scope="module")
def data(matrix):
    """The same events under string ids, so that no id can pass for an index."""
    return Interactions.from_csr(matrix, user_ids=[f"u{u}" for u in range(matrix.shape[0])],
                                 item_ids=[f"i{i}" for i in range(matrix.shape[1])])


EXPLAINED = [
    pytest.param(lambda: ItemKNN(k=10), id="item-knn"),
    pytest.param(lambda: EASE(l2=5.0), id="ease"),
    pytest.param(lambda: SLIM(l1=0.01, l2=0.1), id="slim"),
    pytest.param(lambda: ALS(n_factors=6, n_epochs=5, alpha=3.0, regularization=0.1, random_state=0),
                 id="als"),
]


def test_fit_on_interactions_keeps_the_vocabularies(data):
    model = ItemKNN(k=5).fit(data)
    np.testing.assert_array_equal(model.user_ids_, data.user_ids)
    np.testing.assert_array_equal(model.item_ids_, data.item_ids)
    model.user_ids_[0] = "changed"
    assert data.user_ids[0] == "u0", "the model keeps copies, not the caller's arrays"


def test_fit_on_a_matrix_sets_no_ids_and_a_refit_drops_old_ones(data, matrix):
    model = ItemKNN(k=5).fit(matrix)
    assert not hasattr(model, "user_ids_") and not hasattr(model, "item_ids_")
    model.fit(data).fit(matrix)
    assert not hasattr(model, "item_ids_")


def test_recommend_ids_is_recommend_in_ids(data, matrix):
    model = ItemKNN(k=10).fit(data)
    users = np.array(["u3", "u0", "u77"])
    rows = data.user_index(users)
    ids, scores = model.recommend(matrix[rows], n=5)
    table = model.recommend_ids(data, users=users, n=5)
    assert list(table.columns) == ["user_id", "rank", "item_id", "score"]
    assert len(table) == 15
    np.testing.assert_array_equal(table["user_id"], np.repeat(users, 5))
    np.testing.assert_array_equal(table["rank"], np.tile(np.arange(1, 6), 3))
    np.testing.assert_array_equal(table["item_id"], data.item_ids[ids.ravel()])
    np.testing.assert_allclose(table["score"], scores.ravel())


def test_recommend_ids_serves_every_user_of_the_interactions_by_default(data):
    table = EASE(l2=5.0).fit(data).recommend_ids(data, n=2)  # EASE scores every item
    np.testing.assert_array_equal(table["user_id"], np.repeat(data.user_ids, 2))


def test_padding_never_maps_to_a_real_id(data, matrix):
    """A user who has seen all but two items gets two rows, not the last item as padding."""
    seen = np.ones((1, data.n_items), dtype=np.float32)
    seen[0, [4, 17]] = 0
    rows = sp.vstack([matrix, sp.csr_matrix(seen)]).tocsr()
    heavy = Interactions.from_csr(rows, user_ids=[*data.user_ids, "heavy"], item_ids=data.item_ids)
    model = EASE(l2=5.0).fit(data)
    ids, _ = model.recommend(rows[-1:], n=10)
    assert (ids[0, 2:] == -1).all()
    table = model.recommend_ids(heavy, users="heavy", n=10)
    assert sorted(table["item_id"]) == ["i17", "i4"]
    assert data.item_ids[-1] not in set(table["item_id"])


def test_recommend_ids_restricts_to_item_ids(data):
    model = ItemKNN(k=10).fit(data)
    table = model.recommend_ids(data, users=["u1", "u2"], n=3, items=["i5", "i6", "i7", "i8"])
    assert set(table["item_id"]) <= {"i5", "i6", "i7", "i8"}
    with pytest.raises(ValueError, match=r"items: item id\(s\) \[5\] are not items of the model"):
        model.recommend_ids(data, users=["u1"], items=[5])


def test_recommend_ids_rejects_unknown_users_and_index_input(data, matrix):
    model = ItemKNN(k=10).fit(data)
    with pytest.raises(ValueError, match=r"user id\(s\) \['nobody'\] are not users of interactions"):
        model.recommend_ids(data, users=["u1", "nobody"])
    with pytest.raises(TypeError, match="use recommend"):
        model.recommend_ids(matrix)
    with pytest.raises(ValueError, match="unknown_items must be"):
        model.recommend_ids(data, unknown_items="ignore")


def test_new_users_are_matched_to_the_model_items_by_id(data, matrix):
    model = ItemKNN(k=10).fit(data)
    events = pd.DataFrame({"user": ["new", "new", "new", "other"],
                           "item": ["i9", "i2", "i30", "i2"]})
    new = Interactions.from_pandas(events)  # its own item vocabulary: i2, i30, i9
    expected_row = sp.csr_matrix((np.ones(3), ([0, 0, 0], [9, 2, 30])), shape=(1, data.n_items))
    ids, scores = model.recommend(expected_row, n=4)
    table = model.recommend_ids(new, users="new", n=4)
    np.testing.assert_array_equal(table["item_id"], data.item_ids[ids[0]])
    np.testing.assert_allclose(table["score"], scores[0])


def test_unknown_items_raise_or_are_dropped_with_a_warning(data):
    model = ItemKNN(k=10).fit(data)
    events = pd.DataFrame({"user": ["new", "new", "new"], "item": ["i9", "i2", "brand-new"]})
    new = Interactions.from_pandas(events)
    with pytest.raises(ValueError, match=r"1 item id\(s\).*\['brand-new'\].*unknown_items='drop'"):
        model.recommend_ids(new)
    with pytest.warns(UnknownItemsWarning, match=r"1 event\(s\) on 1 item id\(s\) unknown"):
        dropped = model.recommend_ids(new, n=4, unknown_items="drop")
    known = Interactions.from_pandas(events.iloc[:2])
    pd.testing.assert_frame_equal(dropped, model.recommend_ids(known, n=4))


def test_a_model_fitted_on_a_matrix_needs_item_ids(matrix):
    model = ItemKNN(k=10).fit(matrix)
    indexed = Interactions.from_csr(matrix)
    with pytest.raises(ValueError, match=r"fitted on a matrix.*item_ids="):
        model.recommend_ids(indexed)
    table = model.recommend_ids(indexed, users=[0, 1], n=3, item_ids=np.arange(model.n_items_))
    ids, _ = model.recommend(matrix[:2], n=3)
    np.testing.assert_array_equal(table["item_id"], ids.ravel())
    with pytest.raises(ValueError, match="one id per item"):
        model.recommend_ids(indexed, item_ids=np.arange(3))


@pytest.mark.parametrize("make_model", [lambda: ItemKNN(k=10), lambda: ALS(n_factors=4, n_epochs=3,
                                                                             random_state=0)])
@pytest.mark.parametrize("ids", ["str", "int"])
def test_save_and_load_keep_the_vocabularies(tmp_path, matrix, make_model, ids):
    offset = 1000  # int ids that are not the indices
    make = (lambda n, prefix: [f"{prefix}{k}" for k in range(n)]) if ids == "str" else \
        (lambda n, prefix: np.arange(n) + offset)
    data = Interactions.from_csr(matrix, user_ids=make(matrix.shape[0], "u"),
                                 item_ids=make(matrix.shape[1], "i"))
    model = make_model().fit(data)
    loaded = type(model).load(model.save(tmp_path / "model"))
    np.testing.assert_array_equal(loaded.user_ids_, data.user_ids)
    np.testing.assert_array_equal(loaded.item_ids_, data.item_ids)
    pd.testing.assert_frame_equal(loaded.recommend_ids(data, n=3), model.recommend_ids(data, n=3))


@pytest.mark.parametrize("make_model", EXPLAINED)
def test_explain_contributions_sum_to_the_score(data, matrix, make_model):
    model = make_model().fit(data)
    for user in ("u0", "u11", "u42"):
        row = matrix[data.user_index([user])]
        ids, scores = model.recommend(row, n=3)
        for item, score in zip(ids[0], scores[0], strict=True):
            table = model.explain(data, user, data.item_ids[item])
            assert list(table.columns) == ["history_item_id", "contribution"]
            assert sorted(table["history_item_id"]) == sorted(data.item_ids[row.indices])
            assert (np.diff(table["contribution"]) <= 0).all(), "largest contribution first"
            assert table.attrs["score"] == pytest.approx(table["contribution"].sum())
            assert table.attrs["score"] == pytest.approx(score, rel=1e-4, abs=1e-6)


def test_item_knn_contribution_is_weight_times_similarity(data, matrix):
    weighted = Interactions.from_csr(matrix.multiply(np.arange(1, matrix.shape[1] + 1)).tocsr(),
                                     user_ids=data.user_ids, item_ids=data.item_ids)
    model = ItemKNN(k=10).fit(weighted)
    table = model.explain(weighted, "u5", "i3").set_index("history_item_id")["contribution"]
    row = weighted.to_csr(values="weight")[5]
    for column, weight in zip(row.indices, row.data, strict=True):
        assert table[f"i{column}"] == pytest.approx(weight * model.similarity_[3, column])


@pytest.mark.peers
def test_als_explain_matches_implicit(data, matrix):
    """implicit's AlternatingLeastSquares.explain with the same item factors gives the same split."""
    implicit_als = pytest.importorskip("implicit.cpu.als")
    counts = matrix.multiply(np.arange(1, matrix.shape[1] + 1) % 3 + 1).tocsr()
    weighted = Interactions.from_csr(counts, user_ids=data.user_ids, item_ids=data.item_ids)
    model = ALS(n_factors=6, n_epochs=5, alpha=2.0, regularization=0.5, random_state=0).fit(weighted)
    reference = implicit_als.AlternatingLeastSquares(factors=6, regularization=0.5, alpha=2.0)
    reference.item_factors = model.item_factors_.copy()
    reference.user_factors = model.user_factors_.copy()
    for user, item in ((0, 3), (17, 25), (60, 0)):
        total, top, _ = reference.explain(user, counts, item, N=counts.shape[1])
        table = model.explain(weighted, f"u{user}", f"i{item}")
        assert table.attrs["score"] == pytest.approx(total, rel=1e-4)
        expected = {f"i{other}": contribution for other, contribution in top}
        got = dict(zip(table["history_item_id"], table["contribution"], strict=True))
        assert got.keys() == expected.keys()
        for key, value in expected.items():
            assert got[key] == pytest.approx(value, rel=1e-3, abs=1e-6)


def test_explain_checks_its_user_and_item(data):
    model = EASE(l2=5.0).fit(data)
    with pytest.raises(ValueError, match="not users of interactions"):
        model.explain(data, "nobody", "i1")
    with pytest.raises(ValueError, match=r"item: item id\(s\) \[1\] are not items"):
        model.explain(data, "u1", 1)
    with pytest.raises(ValueError, match="one item id"):
        model.explain(data, "u1", ["i1", "i2"])


def test_explain_and_similar_item_ids_exist_only_where_they_apply(data):
    popularity = PopularityRecommender().fit(data)
    assert not hasattr(popularity, "explain") and not hasattr(popularity, "similar_item_ids")
    assert hasattr(popularity, "recommend_ids")
    ease = EASE(l2=5.0).fit(data)
    assert hasattr(ease, "explain") and not hasattr(ease, "similar_item_ids")

"""The splits of the benchmark protocols, and the library entry point run_benchmark."""

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import KFold

from recsys.bench import (
    ModelEntry,
    holdout,
    leave_last_out,
    load_suite,
    make_folds,
    ratings_kfold,
    run_benchmark,
    strong_generalization,
)
from recsys.bench._suite import apply_dataset_options
from recsys.datasets import Interactions, make_interactions, make_ratings


@pytest.fixture(scope="module")
def data():
    return make_interactions(150, 50, density=0.1, random_state=1)


def test_strong_folds_follow_kfold_over_users(data):
    X = data.to_csr(values="binary")
    folds = strong_generalization(data, n_folds=3, random_state=0)
    splits = KFold(n_splits=3, shuffle=True, random_state=0).split(np.arange(X.shape[0]))
    for fold, (train_users, test_users) in zip(folds, splits, strict=True):
        assert (fold.train != X[train_users]).nnz == 0
        assert set(fold.users) <= set(test_users)
        # the test users left out are those with nothing to hold out
        left_out = np.setdiff1d(test_users, fold.users)
        assert np.all(np.diff(X[left_out].indptr) < 2)


def test_strong_folds_split_each_test_row_into_fold_in_and_held_out(data):
    X = data.to_csr(values="binary")
    for fold in strong_generalization(data, n_folds=3, random_state=0):
        rows = X[fold.users]
        assert fold.query.multiply(fold.relevant).nnz == 0
        assert ((fold.query + fold.relevant) != rows).nnz == 0
        kept = np.diff(fold.query.indptr) / np.diff(rows.indptr)
        assert np.all((kept >= 0.5) & (kept < 1.0))


def test_ratings_kfold_covers_every_rating_once():
    ratings = make_ratings(60, 30, density=0.2, random_state=0)
    folds = ratings_kfold(ratings, n_folds=4, random_state=0)
    assert sum(len(fold.test_ratings) for fold in folds) == len(ratings)
    for fold in folds:
        assert list(fold.train_pairs.columns) == ["user", "item"]
        assert len(fold.train_pairs) + len(fold.test_pairs) == len(ratings)


def test_ratings_kfold_needs_ratings(data):
    with pytest.raises(ValueError, match="needs explicit ratings"):
        ratings_kfold(data)


def test_strong_needs_two_folds_and_enough_users(data):
    with pytest.raises(ValueError, match="folds must be an integer >= 2"):
        strong_generalization(data, n_folds=1)
    with pytest.raises(ValueError, match="exceeds the 150 users"):
        strong_generalization(data, n_folds=200)


def test_unknown_protocol_names_the_choices(data):
    with pytest.raises(ValueError, match="choose one of strong, holdout, leave-last-out, ratings-kfold"):
        make_folds("temporal", data, 5, 0)


def test_holdout_scores_users_from_their_train_rows(data):
    folds = holdout(data, n_folds=2, random_state=0)
    assert len(folds) == 2
    for fold in folds:
        np.testing.assert_array_equal(fold.query.toarray(), fold.train[fold.users].toarray())
        assert fold.query.multiply(fold.relevant).nnz == 0


def test_leave_last_out_holds_out_each_users_latest_item(data):
    (fold,) = leave_last_out(data)
    assert np.all(np.diff(fold.relevant.indptr) == 1)
    frame = data.to_pandas()
    latest = frame.loc[frame.groupby("user")["timestamp"].idxmax()].set_index("user")["item"]
    for row, user in enumerate(fold.users):
        assert fold.relevant[row].indices[0] == latest[data.user_ids[user]]
        assert fold.query[row, fold.relevant[row].indices[0]] == 0


def test_leave_last_out_target_is_the_last_given_of_tied_events():
    # User 0 gives d at t=1, then b, c, a all at t=2: the target is a (the by-item order would take c),
    # and the sequence models' training events end with c, the event given just before it.
    frame = pd.DataFrame({"user": [0, 0, 0, 0, 1, 1], "item": ["d", "b", "c", "a", "a", "d"],
                          "timestamp": [1, 2, 2, 2, 1, 1]})
    data = Interactions.from_pandas(frame, time_col="timestamp")
    (fold,) = leave_last_out(data)
    targets = {data.user_ids[user]: data.item_ids[fold.relevant[row].indices[0]]
               for row, user in enumerate(fold.users)}
    assert targets == {0: "a", 1: "d"}
    events = fold.train_events
    order = events.time_order()
    history = events.item_ids[events.items[order][events.users[order] == 0]].tolist()
    assert history == ["d", "b", "c"]


def test_run_benchmark_keeps_per_user_values(data):
    result = run_benchmark(data, [ModelEntry("pop"), ModelEntry("pop", "pop-w", {"count": "weights"})],
                           n_folds=2, metrics="ndcg@5", keep_per_user=True)
    assert [row["label"] for row in result.summary()] == ["pop", "pop-w"]
    for fold in result.folds:
        assert fold.per_user["ndcg@5"].shape == fold.users.shape
        assert fold.metrics["ndcg@5"] == pytest.approx(np.nanmean(fold.per_user["ndcg@5"]))
        assert fold.peak_memory > 0 and fold.fit_time >= 0 and fold.predict_time >= 0


def test_repeated_labels_are_refused(data):
    with pytest.raises(ValueError, match="label 'pop' is used twice"):
        run_benchmark(data, ["pop", "pop"], n_folds=2)


def test_dataset_options_binarize_and_filter():
    ratings = make_ratings(80, 40, density=0.2, random_state=0)
    kept = apply_dataset_options(ratings, {"binarize": 4, "min_user_interactions": 3})
    assert kept.ratings is None
    assert np.bincount(kept.users).min() >= 3
    assert len(kept) <= int((ratings.ratings >= 4).sum())


def test_suite_rejects_unknown_keys(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text('[suite]\nname = "x"\nfold = 3\n')
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['fold'\] in \[suite\]"):
        load_suite(path)

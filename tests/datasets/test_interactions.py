import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from recsys.datasets import Interactions, make_interactions


@pytest.fixture
def events():
    return pd.DataFrame({
        "user": ["a", "a", "b", "a", "c"],
        "item": [1, 2, 1, 1, 3],
        "rating": [4.0, 3.0, 5.0, 2.0, 1.0],
        "time": [10, 20, 30, 5, 40],
    })


def test_duplicates_error_names_the_pair(events):
    with pytest.raises(ValueError, match="user 'a' and item 1"):
        Interactions.from_pandas(events, rating_col="rating")


@pytest.mark.parametrize("policy, expected", [
    ("sum", {("a", 1): 6.0, ("a", 2): 3.0, ("b", 1): 5.0, ("c", 3): 1.0}),
    ("last", {("a", 1): 4.0, ("a", 2): 3.0, ("b", 1): 5.0, ("c", 3): 1.0}),
    ("first", {("a", 1): 2.0, ("a", 2): 3.0, ("b", 1): 5.0, ("c", 3): 1.0}),
    ("mean", {("a", 1): 3.0, ("a", 2): 3.0, ("b", 1): 5.0, ("c", 3): 1.0}),
])
def test_duplicate_policies_merge_by_time(events, policy, expected):
    data = Interactions.from_pandas(events, rating_col="rating", time_col="time", duplicates=policy)
    frame = data.to_pandas()
    assert dict(zip(zip(frame["user"], frame["item"]), frame["rating"])) == expected
    if policy in ("sum", "mean"):
        assert data.to_csr(values="count")[data.user_index(["a"])[0], 0] == 2
        # The merged pair keeps its latest timestamp.
        assert frame.loc[(frame["user"] == "a") & (frame["item"] == 1), "timestamp"].item() == 10


def test_rating_predictors_merge_duplicates_like_interactions(events):
    """One policy for both entry points: a predictor fitted with duplicates=p sees
    the ratings Interactions.from_pandas(..., duplicates=p) keeps."""
    from recsys.factorization import BaselineOnly

    pairs, ratings = events[["user", "item"]], events["rating"].to_numpy()
    with pytest.raises(ValueError, match="repeated .*user 'a' and item 1.*duplicates="):
        BaselineOnly().fit(pairs, ratings)
    for policy in ("mean", "first", "last", "sum"):
        merged = Interactions.from_pandas(events, rating_col="rating", duplicates=policy).to_pandas()
        direct = BaselineOnly().fit(merged[["user", "item"]], merged["rating"].to_numpy())
        via_fit = BaselineOnly().fit(pairs, ratings, duplicates=policy)
        np.testing.assert_allclose(via_fit.predict(pairs), direct.predict(pairs))
        assert via_fit.global_mean_ == pytest.approx(merged["rating"].mean())


def test_unknown_duplicates_policy_is_rejected(events):
    with pytest.raises(ValueError, match="duplicates must be one of"):
        Interactions.from_pandas(events, duplicates="max")


@pytest.mark.parametrize("dtype, missing", [(float, np.nan), (object, None)])
def test_missing_timestamp_raises_unless_dropped(events, dtype, missing):
    events = events.astype({"time": dtype})
    events.loc[2, "time"] = missing
    with pytest.raises(ValueError, match="1 row\\(s\\) of df have no 'time'.*dropna=True"):
        Interactions.from_pandas(events, time_col="time", duplicates="last")
    data = Interactions.from_pandas(events, time_col="time", duplicates="last", dropna=True)
    assert len(data) == 3 and "b" not in set(data.to_pandas()["user"])


def test_dropna_drops_rows_missing_any_named_column(events):
    events = events.astype({"rating": float})
    events.loc[4, "rating"] = np.nan
    with pytest.raises(ValueError, match="missing, non-numeric"):
        Interactions.from_pandas(events, rating_col="rating", duplicates="last")
    data = Interactions.from_pandas(events, rating_col="rating", duplicates="last", dropna=True)
    assert "c" not in set(data.to_pandas()["user"])


def test_from_csr_and_to_csr_keep_values():
    X = sp.csr_matrix(np.array([[0, 2.5, 0], [1, 0, 3]]))
    data = Interactions.from_csr(X, user_ids=["u", "v"])
    np.testing.assert_array_equal(data.to_csr(values="weight").toarray(), X.toarray())
    np.testing.assert_array_equal(data.to_csr().toarray(), (X.toarray() > 0).astype(float))
    assert list(data.user_ids) == ["u", "v"]
    as_ratings = Interactions.from_csr(X, values_as="rating")
    np.testing.assert_array_equal(as_ratings.to_csr(values="rating").toarray(), X.toarray())


def test_to_pandas_round_trip(events):
    data = Interactions.from_pandas(events, rating_col="rating", time_col="time", duplicates="last")
    again = Interactions.from_pandas(data.to_pandas(), rating_col="rating", time_col="timestamp")
    assert again == data


def _brute_force_k_core(pairs, min_user, min_item):
    pairs = set(pairs)
    while True:
        users = pd.Series([u for u, _ in pairs]).value_counts()
        items = pd.Series([i for _, i in pairs]).value_counts()
        kept = {(u, i) for u, i in pairs if users[u] >= min_user and items[i] >= min_item}
        if kept == pairs:
            return pairs
        pairs = kept


def test_filter_matches_brute_force_k_core():
    data = make_interactions(60, 40, n_interactions=300, random_state=1)
    core = data.filter(min_user_interactions=5, min_item_interactions=4)
    frame = data.to_pandas()
    expected = _brute_force_k_core(zip(frame["user"], frame["item"]), 5, 4)
    got = core.to_pandas()
    assert set(zip(got["user"], got["item"])) == expected
    assert core.n_users == len({u for u, _ in expected})
    assert core.n_items == len({i for _, i in expected})


def test_binarize_keeps_high_ratings_and_drops_the_column(events):
    data = Interactions.from_pandas(events, rating_col="rating", duplicates="last")
    liked = data.binarize(4)
    assert liked.ratings is None
    assert len(liked) == int((data.ratings >= 4).sum())
    assert liked.n_users == data.n_users


def test_subset_keeps_vocabularies_and_rejects_unknown_ids(events):
    data = Interactions.from_pandas(events, duplicates="last")
    part = data.subset(users=["a"])
    assert part.to_csr().shape == data.to_csr().shape
    assert set(part.to_pandas()["user"]) == {"a"}
    with pytest.raises(KeyError, match="zz"):
        data.subset(items=["zz"])
    numbered = Interactions.from_pandas(pd.DataFrame({"user": [1, 2], "item": [10, 20]}))
    with pytest.raises(KeyError, match=r"unknown user id\(s\) \[0\]:"):  # the id as the user wrote it
        numbered.subset(users=np.array([0, 1]))


def test_describe(events):
    summary = Interactions.from_pandas(events, rating_col="rating", duplicates="sum").describe()
    assert (summary["n_users"], summary["n_items"], summary["n_interactions"]) == (3, 3, 4)
    assert summary["density"] == pytest.approx(4 / 9)
    assert summary["interactions_per_user"]["max"] == 2


def test_arrays_are_read_only(events):
    data = Interactions.from_pandas(events, rating_col="rating", duplicates="sum")
    for array in (data.users, data.items, data.user_ids, data.item_ids, data.ratings):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = array[0]


# ------------------------------------------------------------------ approximate distinct counts
def test_describe_counts_active_users_and_items(events):
    data = Interactions.from_pandas(events, duplicates="last").subset(users=["a"])
    summary = data.describe()
    assert (summary["n_users"], summary["n_active_users"]) == (3, 1)
    assert (summary["n_items"], summary["n_active_items"]) == (3, 2)


@pytest.mark.parametrize("precision", [10, 14])
@pytest.mark.parametrize("n_users, n_items, n_events", [(300, 200, 3_000), (60_000, 30_000, 200_000)])
def test_approximate_describe_is_within_the_sketch_error(precision, n_users, n_items, n_events):
    rng = np.random.default_rng(3)
    pairs = np.unique(rng.integers(0, n_users * n_items, n_events))
    data = Interactions(pairs // n_items, pairs % n_items,
                        user_ids=np.arange(n_users), item_ids=np.arange(n_items))
    # Leave some users without events, so that active < vocabulary.
    data = data.subset(users=data.user_ids[: n_users * 2 // 3])
    exact, sketched = data.describe(), data.describe(approximate=True, precision=precision)
    assert "interactions_per_user" not in sketched
    # Four standard errors of HyperLogLog++ (1.04 / sqrt(2**p) each); the data are fixed.
    tolerance = 4 * 1.04 / np.sqrt(2**precision)
    assert exact["n_active_users"] < data.n_users
    for key in ("n_active_users", "n_active_items"):
        assert sketched[key] == pytest.approx(exact[key], rel=tolerance), key
    for key in ("n_users", "n_items", "n_interactions", "density"):
        assert sketched[key] == exact[key]


def test_hll_registers_match_datasketch_updates():
    from datasketch import HyperLogLogPlusPlus

    from recsys.datasets._interactions import _splitmix64, hll_registers

    values = np.random.default_rng(0).integers(0, 50_000, 5_000)
    sketch = HyperLogLogPlusPlus(p=8, hashfunc=lambda value: int(_splitmix64(np.array([value]))[0]))
    for value in values:
        sketch.update(int(value))
    np.testing.assert_array_equal(hll_registers(values, 8), sketch.reg)


@pytest.mark.parametrize("precision", [3, 19, 14.0, True])
def test_approximate_describe_rejects_bad_precision(events, precision):
    data = Interactions.from_pandas(events, duplicates="last")
    with pytest.raises(ValueError, match="precision must be an integer from 4 to 18"):
        data.describe(approximate=True, precision=precision)


# ---------------------------------------------------------------------- time order, ties in input order
def test_time_order_breaks_ties_by_input_row():
    df = pd.DataFrame({"user": ["u", "u", "u", "u", "v"], "item": [9, 3, 5, 1, 3], "time": [2, 1, 1, 0, 1]})
    data = Interactions.from_pandas(df, time_col="time")
    # Stored by (user, item); input_order holds each event's row of df.
    np.testing.assert_array_equal(data.item_ids[data.items], [1, 3, 5, 9, 3])
    np.testing.assert_array_equal(data.input_order, [3, 1, 2, 0, 4])
    # 3 and 5 tie at t=1: row 1 (item 3) before row 2 (item 5); reversing the rows reverses them.
    np.testing.assert_array_equal(data.item_ids[data.items[data.time_order()]], [1, 3, 5, 9, 3])
    flipped = Interactions.from_pandas(df.iloc[[0, 2, 1, 3, 4]], time_col="time")
    np.testing.assert_array_equal(flipped.item_ids[flipped.items[flipped.time_order()]], [1, 5, 3, 9, 3])
    assert flipped == data  # equality compares the events, not the order they were given in


def test_input_order_follows_take_subset_and_filter():
    df = pd.DataFrame({"user": [1, 1, 1, 2, 2], "item": [7, 6, 5, 6, 5], "time": [0, 0, 0, 0, 0]})
    data = Interactions.from_pandas(df, time_col="time")

    def tied(part):
        return part.item_ids[part.items[part.time_order()]].tolist()

    assert tied(data) == [7, 6, 5, 6, 5]
    assert tied(data.take(data.items != data.item_index([6])[0])) == [7, 5, 5]
    assert tied(data.subset(items=[5, 7])) == [7, 5, 5]
    assert tied(data.filter(min_item_interactions=2)) == [6, 5, 6, 5]  # item 7 dropped, vocabulary compacted


@pytest.mark.parametrize("policy", ["first", "last", "sum", "mean"])
def test_merged_pairs_stand_at_the_row_of_their_kept_event(policy):
    # (u, x) repeats at rows 0 and 3; y ties with it at t=1 (row 2).
    df = pd.DataFrame({"user": ["u"] * 4, "item": ["x", "z", "y", "x"], "time": [1, 0, 1, 1],
                       "rating": [1.0, 2.0, 3.0, 4.0]})
    data = Interactions.from_pandas(df, rating_col="rating", time_col="time", duplicates=policy)
    ordered = data.item_ids[data.items[data.time_order()]].tolist()
    # "first" keeps row 0 (before y); "last" keeps row 3, and "sum"/"mean" take its time (after y).
    assert ordered == (["z", "x", "y"] if policy == "first" else ["z", "y", "x"])


def test_time_order_over_all_users():
    df = pd.DataFrame({"user": ["v", "u", "v", "u"], "item": [1, 2, 3, 4], "time": [5, 5, 0, 5]})
    data = Interactions.from_pandas(df, time_col="time")
    order = data.time_order(by_user=False)
    # Time first, users mixed; the three events at t=5 in the rows' order (v 1, u 2, u 4).
    assert list(zip(data.user_ids[data.users[order]], data.item_ids[data.items[order]])) == [
        ("v", 3), ("v", 1), ("u", 2), ("u", 4)]


def test_time_order_without_input_order_or_timestamps():
    df = pd.DataFrame({"user": [0, 0, 1], "item": [2, 1, 0], "time": [4, 4, 1]})
    built = Interactions.from_pandas(df, time_col="time")
    bare = Interactions(built.users, built.items, user_ids=built.user_ids, item_ids=built.item_ids,
                        timestamps=built.timestamps)
    assert bare.input_order is None
    np.testing.assert_array_equal(bare.time_order(), [0, 1, 2])  # ties in storage order (by item)
    np.testing.assert_array_equal(built.time_order(), [1, 0, 2])
    assert Interactions.from_pandas(df).input_order is None  # no time column: nothing to break ties of
    with pytest.raises(ValueError, match="no timestamps"):
        Interactions.from_pandas(df).time_order()
    with pytest.raises(ValueError, match="input_order has 1 entries for 3 events"):
        Interactions(built.users, built.items, user_ids=built.user_ids, item_ids=built.item_ids, input_order=[0])


def test_item_texts_from_the_item_side_table():
    features = pd.DataFrame({"title": ["B", "A"], "genres": ["x|y", None], "n": [1, 2]}, index=["b", "a"])
    data = Interactions.from_pandas(pd.DataFrame({"user": [0, 0, 1], "item": ["a", "b", "c"]}),
                                    item_features=features)
    # item order is the vocabulary's (a, b, c); c has no row, a no genres; the numeric column is left out
    assert data.item_texts() == ["A", "B. x, y", ""]
    assert data.item_texts(columns=["genres", "title"]) == ["A", "x, y. B", ""]
    with pytest.raises(ValueError, match="no column of strings"):
        data.item_texts(columns=[])
    with pytest.raises(ValueError, match="no item side table"):
        Interactions.from_pandas(pd.DataFrame({"user": [0], "item": ["a"]})).item_texts()


def test_time_order_reads_date_strings_as_dates_and_refuses_missing_times():
    # Compared as text, "2024-1-10" would come before "2024-1-9".
    df = pd.DataFrame({"user": [0, 0, 0], "item": ["a", "b", "c"], "time": ["2024-1-10", "2024-1-9", "2024-2-1"]})
    data = Interactions.from_pandas(df, time_col="time")
    assert data.item_ids[data.items[data.time_order()]].tolist() == ["b", "a", "c"]
    for times, message in ((np.array(["monday", "tuesday", "friday"], dtype=object), "numbers or datetimes"),
                           ([1.0, np.nan, 3.0], "1 event.*missing timestamp"),
                           (pd.to_datetime(["2024-01-01", None, "2024-01-03"]), "1 event.*missing timestamp")):
        odd = Interactions([0, 0, 0], [0, 1, 2], user_ids=["u"], item_ids=["a", "b", "c"], timestamps=times)
        with pytest.raises(ValueError, match=message):
            odd.time_order()

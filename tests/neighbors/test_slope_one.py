"""SlopeOne: contract, a hand-computed case and Surprise equivalence."""

import numpy as np
import pandas as pd
import pytest

from recsys.datasets import make_ratings
from recsys.neighbors import SlopeOne
from recsys.testing import RatingPredictorContract, SaveLoadChecks


class TestSlopeOneContract(RatingPredictorContract, SaveLoadChecks):
    def make_estimator(self):
        return SlopeOne()


def test_hand_computed_prediction():
    # dev(jam, tea) = mean(2 - 4, 3 - 5) = -2; bob's mean is 4.5 over tea and pie, and pie
    # shares no rater with jam, so only tea counts: 4.5 + dev(jam, tea) = 2.5.
    X = [["ann", "tea"], ["ann", "jam"], ["cid", "tea"], ["cid", "jam"], ["bob", "tea"], ["bob", "pie"]]
    model = SlopeOne().fit(X, [4, 2, 5, 3, 5, 4])
    np.testing.assert_allclose(model.predict([["bob", "jam"]]), [2.5])
    np.testing.assert_allclose(model.deviation_, -model.deviation_.T)


def test_user_without_related_items_gets_its_mean():
    model = SlopeOne().fit([["ann", "tea"], ["bob", "pie"], ["bob", "jam"]], [4, 2, 3])
    np.testing.assert_allclose(model.predict([["ann", "pie"]]), [4.0])


@pytest.mark.peers
@pytest.mark.filterwarnings("ignore::recsys.base.UnknownPairsWarning")
def test_predictions_equal_surprise():
    surprise = pytest.importorskip("surprise")
    data = make_ratings(80, 50, density=0.15, random_state=3).to_pandas()
    data = data.sample(frac=1.0, random_state=0).reset_index(drop=True)
    train, test = data[:int(0.8 * len(data))], data[int(0.8 * len(data)):]
    queries = pd.concat([test, train[:50]])
    ours = SlopeOne().fit(train[["user", "item"]], train["rating"]).predict(queries[["user", "item"]])
    reader = surprise.Reader(rating_scale=(1, 5))
    trainset = surprise.Dataset.load_from_df(train[["user", "item", "rating"]], reader).build_full_trainset()
    peer = surprise.SlopeOne().fit(trainset)
    expected = [peer.predict(u, i).est for u, i in zip(queries["user"], queries["item"])]
    np.testing.assert_allclose(ours, expected, atol=1e-6)


def test_min_support_ignores_thin_deviations():
    X = [["ann", "tea"], ["ann", "jam"], ["cid", "tea"], ["cid", "jam"], ["bob", "tea"], ["bob", "pie"],
         ["dan", "pie"], ["dan", "jam"]]
    ratings = [4, 2, 5, 3, 5, 4, 3, 4]
    # pie and jam share one rater only: with min_support=2, bob's prediction for jam uses tea alone.
    loose = SlopeOne().fit(X, ratings).predict([["bob", "jam"]])
    strict = SlopeOne(min_support=2).fit(X, ratings).predict([["bob", "jam"]])
    np.testing.assert_allclose(strict, [4.5 - 2.0])
    np.testing.assert_allclose(loose, [4.5 + (-2.0 + 1.0) / 2])

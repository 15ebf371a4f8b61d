"""PairFeatures saves and loads without pickle: its statistics, training matrix and fitted models."""

import warnings

import numpy as np
import pandas as pd

from recsys.base import UnknownPairsWarning
from recsys.datasets import make_ratings
from recsys.factorization import BaselineOnly
from recsys.neighbors import ItemKNN
from recsys.preprocessing import PairFeatures
from recsys.testing import SaveLoadChecks


def _events():
    return make_ratings(80, 30, density=0.2, random_state=2).to_pandas()


class TestPairFeaturesSaveLoad(SaveLoadChecks):
    def make_estimator(self):
        return PairFeatures(models=[("knn", ItemKNN(k=10)), BaselineOnly()])

    def save_load_data(self):
        return (_events(),)

    def save_load_output(self, model, data):
        events = data[0]
        rng = np.random.default_rng(0)
        # Known and unseen ids: the unseen ones read the last row of the statistics.
        pairs = pd.DataFrame({"user": rng.choice(np.append(events["user"].unique(), -1), 200),
                              "item": rng.choice(np.append(events["item"].unique(), -1), 200),
                              "timestamp": rng.integers(0, 10**9, 200)})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UnknownPairsWarning)  # the unseen ids, on purpose
            return (model.transform(pairs),)

    def test_string_ids_round_trip(self, tmp_path):
        # The shared check turns every column of (pairs, ratings) into strings; events keep
        # their numeric ratings and times, so only the ids become strings here.
        events = _events().astype({"user": str, "item": str})
        model = self.make_estimator().fit(events)
        model.save(tmp_path / "model")
        restored = PairFeatures.load(tmp_path / "model")
        assert restored.user_ids_.dtype == object
        np.testing.assert_array_equal(self.save_load_output(restored, (events,))[0],
                                      self.save_load_output(model, (events,))[0])


def test_loaded_statistics_are_named_columns_of_one_table(tmp_path):
    model = PairFeatures(time=False).fit(_events())
    model.save(tmp_path / "features")
    loaded = PairFeatures.load(tmp_path / "features")
    assert list(loaded.item_statistic_names_) == ["item_count", "item_rating_mean", "item_rating_std",
                                                  "item_popularity_rank"]
    assert loaded.item_statistics_.shape == (len(loaded.item_ids_) + 1, 4)
    assert [name for name, _ in loaded.models_] == []

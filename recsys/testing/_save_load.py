"""Saving and loading a fitted model, as a pytest mixin.

A test declares::

    class TestMyModelSaveLoad(SaveLoadChecks):
        def make_estimator(self):
            return MyModel(factors=8, random_state=0)

and may override ``save_load_data()``: the arguments of ``fit`` (default: the
matrix of :func:`contract_data` for an estimator with ``recommend``, the
(pairs, ratings) of :func:`rating_contract_data` otherwise). The checks hold
for any estimator with ``save(path)`` and a class method ``load(path)``
(e.g. :class:`recsys.utils.PersistenceMixin`).
"""

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from recsys.testing._contract import contract_data
from recsys.testing._rating_contract import rating_contract_data


class SaveLoadChecks:
    """Mixin of pytest tests for ``save`` / ``load``."""

    def make_estimator(self):
        raise NotImplementedError("a SaveLoadChecks test class defines make_estimator()")

    def save_load_data(self):
        if hasattr(self.make_estimator(), "recommend"):
            return (contract_data(),)
        return rating_contract_data()

    def _output(self, model, data):
        if hasattr(model, "recommend"):
            return model.recommend(data[0], n=10)
        return (model.predict(data[0]),)

    @pytest.fixture(scope="class")
    def saved(self, tmp_path_factory):
        data = self.save_load_data()
        model = self.make_estimator().fit(*data)
        path = tmp_path_factory.mktemp("save_load") / "model"
        model.save(path)
        return model, data, path

    def test_round_trip_gives_identical_output(self, saved):
        model, data, path = saved
        restored = type(model).load(path)
        check_is_fitted(restored)
        assert restored.get_params() == model.get_params()
        for expected, actual in zip(self._output(model, data), self._output(restored, data), strict=True):
            np.testing.assert_array_equal(actual, expected)

    def test_save_adds_npz_and_load_takes_either_name(self, saved):
        model, data, path = saved
        assert not path.exists() and path.with_name("model.npz").is_file()
        restored = type(model).load(path.with_name("model.npz"))
        np.testing.assert_array_equal(self._output(restored, data)[0], self._output(model, data)[0])

    def test_file_loads_without_pickle(self, saved):
        _, _, path = saved
        with np.load(path.with_name("model.npz"), allow_pickle=False) as archive:
            for key in archive.files:
                assert archive[key] is not None  # reading raises if an entry needs pickle

    def test_load_into_another_class_says_so(self, saved):
        model, _, path = saved
        other = type(f"Not{type(model).__name__}", (type(model),), {})
        with pytest.raises(ValueError, match=f"holds a {type(model).__name__}, not a {other.__name__}"):
            other.load(path)

    def test_save_unfitted_raises(self, tmp_path):
        with pytest.raises(NotFittedError):
            self.make_estimator().save(tmp_path / "model")

    def test_load_a_missing_file_names_it(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="absent"):
            type(self.make_estimator()).load(tmp_path / "absent")

"""Saving and loading a fitted model, as a pytest mixin.

A test declares::

    class TestMyModelSaveLoad(SaveLoadChecks):
        def make_estimator(self):
            return MyModel(n_factors=8, random_state=0)

(or adds ``SaveLoadChecks`` to the bases of its contract test class) and may
override ``save_load_data()``: the arguments of ``fit`` (default: the matrix
of :func:`contract_data` for an estimator with ``recommend``, the
(pairs, ratings) of :func:`rating_contract_data` otherwise),
``save_load_fit_params()``: keyword arguments of ``fit``, and
``save_load_output(model, data)``: the outputs compared after the round
trip. The checks hold
for any estimator with ``save(path)`` and a class method ``load(path)``
(e.g. :class:`recsys.utils.PersistenceMixin`).

Besides the round trip, the checks damage the saved file in every way
:func:`tampered_files` generates from it (each stored array given a wrong
shape, a wrong dtype, a NaN, an index out of range) and require ``load`` to
raise a ``ValueError`` that names the damaged attribute: a damaged model must
fail on load, not later with an IndexError, a wrong answer or NaN scores.
"""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator
from sklearn.exceptions import NotFittedError
from sklearn.utils.validation import check_is_fitted

from recsys.testing._contract import contract_data
from recsys.testing._rating_contract import rating_contract_data
from recsys.utils._persistence import _is_config


def _read_archive(path):
    with np.load(path, allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _write_archive(entries, path):
    np.savez(path, **entries)
    return path


def _attribute_of(key):
    """The fitted attribute an archive entry stores (``attr:name``, ``sparse:name:part``)."""
    return key.split(":")[1]


def _declared_indices(model_class):
    """The attributes model_class declares as indices or index pointers (empty if none)."""
    names = set()
    for klass in model_class.__mro__:
        names.update(vars(klass).get("_fitted_indices", {}) or {})
        names.update(vars(klass).get("_fitted_indptrs", {}) or {})
    return names


def _declared_nonfinite(model_class):
    return {name for klass in model_class.__mro__
            for name in (vars(klass).get("_fitted_nonfinite", ()) or ())}


def _wrong_shape(array):
    if array.ndim == 0:
        return array.reshape(1)
    if array.shape[-1] == 0:
        return np.zeros((*array.shape[:-1], 1), dtype=array.dtype)
    return np.delete(array, -1, axis=-1)


def _wrong_dtype(array):
    if array.dtype.kind == "f":
        return array.astype(np.int64)
    if array.dtype.kind in "iub":
        return array.astype(np.float64)
    return None


def _nested_nonfinite(attributes, prefix=""):
    """``"features_/user_statistics_"``-style names of what nested recsys estimators declare may hold NaN.

    Read from the saved header's description of the fitted attributes: a
    nested estimator (a ranker, a feature transformer) declares its own
    ``_fitted_nonfinite``, and load honours it under the nested name.
    """
    import importlib

    names = set()
    for name, described in attributes.items():
        if not isinstance(described, dict):
            continue
        if described.get("kind") == "list":
            names |= _nested_nonfinite({f"{name}/{i}": item for i, item in enumerate(described.get("items", []))},
                                       prefix)
        elif described.get("kind") == "estimator":
            module, _, qualname = str(described.get("class")).partition(":")
            if module.split(".")[0] == "recsys":
                found = importlib.import_module(module)
                for part in qualname.split("."):
                    found = getattr(found, part)
                names |= {f"{prefix}{name}/{inner}" for inner in _declared_nonfinite(found)}
            names |= _nested_nonfinite(described.get("attributes", {}), f"{prefix}{name}/")
    return names


def tampered_files(path, model_class):
    """Yield (description, attribute, entries) for every damaged copy of a saved file.

    For each stored array: (a) one entry shorter along its last axis,
    (b) a wrong dtype (floats as int64, integers and booleans as float64),
    (c) a NaN in a non-empty float array (unless the class, or the nested
    recsys estimator holding it, declares the attribute may hold NaN), (d) for the components of sparse matrices and
    the attributes the class declares as indices or index pointers, -1 as
    the first value and the dtype's largest value as the last. ``entries``
    are the archive's arrays, ready for ``np.savez``; the header is left as
    saved.
    """
    entries = _read_archive(path)
    indices = _declared_indices(model_class)
    header = json.loads(str(entries["__header__"]))
    nonfinite = _declared_nonfinite(model_class) | _nested_nonfinite(header.get("attributes", {}))
    for key, array in entries.items():
        if key == "__header__":
            continue
        name = _attribute_of(key)

        def copy_with(replacement, key=key):
            return {**entries, key: replacement}

        yield f"{key}: shape {array.shape} -> {_wrong_shape(array).shape}", name, \
            copy_with(_wrong_shape(array))
        wrong = _wrong_dtype(array)
        if wrong is not None:
            yield f"{key}: dtype {array.dtype} -> {wrong.dtype}", name, copy_with(wrong)
        if array.dtype.kind == "f" and array.size and name not in nonfinite:
            poisoned = array.copy()
            poisoned.flat[array.size // 2] = np.nan
            yield f"{key}: NaN", name, copy_with(poisoned)
        is_index = key.endswith((":indices", ":indptr")) or (key.startswith("attr:") and name in indices)
        if is_index and array.size and array.dtype.kind in "iu":
            for position, value in ((0, -1), (-1, np.iinfo(array.dtype).max)):
                if value < 0 and array.dtype.kind == "u":
                    continue
                damaged = array.copy()
                damaged.flat[position] = value
                yield f"{key}: {value} at {position}", name, copy_with(damaged)


def _comparable(value):
    """Parameters in a form == compares by content: an estimator as its class and parameters."""
    if isinstance(value, BaseEstimator):
        return (type(value), _comparable(value.get_params(deep=False)))
    if _is_config(value):  # a transformers config: by its values (to_dict adds the version on load)
        return (type(value), {key: item for key, item in value.to_dict().items() if key != "transformers_version"})
    if isinstance(value, dict):
        return {name: _comparable(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_comparable(item) for item in value)
    return value


def _rewrite_header(path, target, change):
    entries = _read_archive(path)
    header = json.loads(str(entries["__header__"]))
    change(header)
    entries["__header__"] = np.array(json.dumps(header))
    return _write_archive(entries, target)


class SaveLoadChecks:
    """Mixin of pytest tests for ``save`` / ``load``."""

    def make_estimator(self):
        raise NotImplementedError("a SaveLoadChecks test class defines make_estimator()")

    def save_load_data(self):
        if hasattr(self.make_estimator(), "recommend"):
            return (contract_data(),)
        return rating_contract_data()

    def save_load_fit_params(self):
        """Keyword arguments of ``fit`` besides ``save_load_data()`` (e.g. ``item_texts``); none by default."""
        return {}

    def save_load_output(self, model, data):
        """The outputs a round trip must leave identical, as a tuple of arrays.

        ``recommend(data[0], n=10)`` for an estimator with ``recommend``,
        ``predict(data[0])`` otherwise; override for other estimators (a
        reward model's ``predict_proba``, a transformer's ``transform``).
        """
        if hasattr(model, "recommend"):
            return model.recommend(data[0], n=10)
        return (model.predict(data[0]),)

    @pytest.fixture(scope="class")
    def saved(self, tmp_path_factory):
        data = self.save_load_data()
        model = self.make_estimator().fit(*data, **self.save_load_fit_params())
        path = tmp_path_factory.mktemp("save_load") / "model"
        model.save(path)
        return model, data, path

    def test_round_trip_gives_identical_output(self, saved):
        model, data, path = saved
        restored = type(model).load(path)
        check_is_fitted(restored)
        assert _comparable(restored.get_params(deep=False)) == _comparable(model.get_params(deep=False))
        for expected, actual in zip(self.save_load_output(model, data), self.save_load_output(restored, data),
                                    strict=True):
            np.testing.assert_array_equal(actual, expected)

    def test_save_adds_npz_and_load_takes_either_name(self, saved):
        model, data, path = saved
        assert not path.exists() and path.with_name("model.npz").is_file()
        restored = type(model).load(path.with_name("model.npz"))
        np.testing.assert_array_equal(self.save_load_output(restored, data)[0],
                                      self.save_load_output(model, data)[0])

    def test_save_returns_the_file_written(self, saved, tmp_path):
        model, _, _ = saved
        written = model.save(tmp_path / "again")
        assert written == tmp_path / "again.npz" and written.is_file()

    def test_file_loads_without_pickle(self, saved):
        _, _, path = saved
        with np.load(path.with_name("model.npz"), allow_pickle=False) as archive:
            for key in archive.files:
                assert archive[key] is not None  # reading raises if an entry needs pickle

    def test_header_records_class_version_and_params(self, saved):
        model, _, path = saved
        with np.load(path.with_name("model.npz"), allow_pickle=False) as archive:
            header = json.loads(str(archive["__header__"]))
        from recsys import __version__

        assert header["class"] == f"{type(model).__module__}:{type(model).__qualname__}"
        assert header["recsys_version"] == __version__
        assert set(header["params"]) == set(model.get_params(deep=False))

    def test_string_ids_round_trip(self, tmp_path):
        if hasattr(self.make_estimator(), "recommend"):
            pytest.skip("recommenders take a users x items matrix, not ids")
        data = self.save_load_data()
        if not isinstance(data[0], pd.DataFrame):
            pytest.skip("fit takes no DataFrame of ids")
        pairs, ratings = data[:2]
        pairs = pd.DataFrame({column: "id-" + pd.Series(pairs[column]).astype(str).to_numpy()
                              for column in pairs.columns})
        model = self.make_estimator().fit(pairs, ratings, **self.save_load_fit_params())
        model.save(tmp_path / "model")
        restored = type(model).load(tmp_path / "model")
        for expected, actual in zip(self.save_load_output(model, (pairs, ratings)),
                                    self.save_load_output(restored, (pairs, ratings)), strict=True):
            np.testing.assert_array_equal(actual, expected)

    def test_load_into_another_class_says_so(self, saved):
        model, _, path = saved
        other = type(f"Not{type(model).__name__}", (type(model),), {})
        with pytest.raises(ValueError, match=f"holds a .*{type(model).__name__}, not a .*{other.__name__}"):
            other.load(path)

    def test_header_naming_another_class_says_so(self, saved, tmp_path):
        model, _, path = saved
        target = _rewrite_header(path.with_name("model.npz"), tmp_path / "other.npz",
                                 lambda header: header.update({"class": "elsewhere:OtherModel"}))
        with pytest.raises(ValueError, match=f"holds a elsewhere:OtherModel, not a .*{type(model).__name__}"):
            type(model).load(target)

    def test_newer_save_format_says_so(self, saved, tmp_path):
        model, _, path = saved
        target = _rewrite_header(path.with_name("model.npz"), tmp_path / "newer.npz",
                                 lambda header: header.update({"format_version": 99,
                                                               "recsys_version": "99.0"}))
        with pytest.raises(ValueError, match=r"recsys 99\.0 in save format 99"):
            type(model).load(target)

    def test_unknown_parameter_says_so(self, saved, tmp_path):
        model, _, path = saved
        target = _rewrite_header(path.with_name("model.npz"), tmp_path / "param.npz",
                                 lambda header: header["params"].update({"no_such_param": 1}))
        with pytest.raises(ValueError, match="no_such_param"):
            type(model).load(target)

    def test_save_unfitted_raises(self, tmp_path):
        with pytest.raises(NotFittedError):
            self.make_estimator().save(tmp_path / "model")

    def test_load_a_missing_file_names_it(self, tmp_path):
        with pytest.raises(FileNotFoundError, match="absent"):
            type(self.make_estimator()).load(tmp_path / "absent")

    def test_every_tampered_file_fails_on_load_naming_the_attribute(self, saved, tmp_path):
        model, _, path = saved
        cases = list(tampered_files(path.with_name("model.npz"), type(model)))
        if not cases:
            pytest.skip(f"{type(model).__name__} stores no arrays")
        missed = []
        for number, (description, attribute, entries) in enumerate(cases):
            target = _write_archive(entries, tmp_path / f"tampered{number}.npz")
            try:
                type(model).load(target)
            except ValueError as error:
                if attribute not in str(error):
                    missed.append(f"{description}: ValueError not naming {attribute}: {error}")
            except Exception as error:  # noqa: BLE001 - any other error is what the check forbids
                missed.append(f"{description}: {type(error).__name__}: {error}")
            else:
                missed.append(f"{description}: loaded")
        assert not missed, f"{len(missed)} of {len(cases)} tampered files:\n" + "\n".join(missed)

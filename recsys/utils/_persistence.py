"""Saving fitted estimators to ``.npz`` files and loading them back, without pickle."""

import json
import os
from pathlib import Path

import numpy as np
from sklearn.utils.validation import check_is_fitted

# Bumped when the layout of saved files changes, so old files fail clearly.
_SAVE_FORMAT_VERSION = 1


def _npz_path(path):
    """The file numpy's savez writes for path: path itself if it ends in .npz, else path + .npz.

    An open file is returned as it is.
    """
    if not isinstance(path, (str, os.PathLike)):
        return path
    path = os.fspath(path)
    return Path(path if path.endswith(".npz") else f"{path}.npz")


class PersistenceMixin:
    """``save(path)`` / ``load(path)`` of a fitted estimator to a ``.npz`` file, no pickle.

    The file holds the constructor parameters (``get_params()``, as a JSON
    string) and every fitted attribute (public, ending in ``_``): numpy arrays
    as arrays, Python scalars and arrays of Python objects (e.g. string ids)
    as JSON. It is read with ``allow_pickle=False``, so loading an untrusted
    file cannot run code. Works for any estimator whose parameters are JSON
    values (an int ``random_state``, not a ``RandomState``).
    """

    #: fitted attributes derived from the others: not saved, rebuilt by ``_rebuild_derived``
    _derived_attributes = ()

    def _rebuild_derived(self):
        """Recompute the attributes of ``_derived_attributes`` (after fit and load)."""

    def save(self, path):
        """Save the fitted model to path, ``.npz`` added when it is missing.

        ``save("model")`` writes ``model.npz``, which ``load("model")`` reads.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        check_is_fitted(self)
        params = self.get_params(deep=False)
        for name, value in params.items():
            try:
                json.dumps(value)
            except TypeError:
                raise ValueError(
                    f"cannot save {type(self).__name__}: parameter {name}={value!r} is not a "
                    "JSON value; set it to an int, float, str, bool or None before saving."
                ) from None
        arrays, json_attributes = {}, {}
        for name, value in vars(self).items():
            if not name.endswith("_") or name.startswith("_") or name in self._derived_attributes:
                continue
            if isinstance(value, np.ndarray) and value.dtype != object:
                arrays[f"attr:{name}"] = value
            else:
                if isinstance(value, np.ndarray):
                    value = {"object_array": value.tolist()}
                elif isinstance(value, np.generic):
                    value = value.item()
                try:
                    json_attributes[name] = json.loads(json.dumps(value))
                except TypeError:
                    raise ValueError(
                        f"cannot save {type(self).__name__}: fitted attribute {name} of type "
                        f"{type(value).__name__} is neither a numpy array nor a JSON value."
                    ) from None
        header = {"format_version": _SAVE_FORMAT_VERSION, "class": type(self).__name__,
                  "params": params, "attributes": json_attributes}
        path = _npz_path(path)
        np.savez(path, __header__=np.array(json.dumps(header)), **arrays)
        return path

    @classmethod
    def load(cls, path):
        """Load a model written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The path given to ``save`` (``.npz`` may be left out, as there).

        Returns
        -------
        model : instance of this class, fitted
        """
        if isinstance(path, (str, os.PathLike)) and not Path(path).is_file():
            path = _npz_path(path)
        with np.load(path, allow_pickle=False) as archive:
            if "__header__" not in archive.files:
                raise ValueError(f"{path} was not written by {cls.__name__}.save: no header.")
            header = json.loads(str(archive["__header__"]))
            arrays = {key.removeprefix("attr:"): archive[key] for key in archive.files
                      if key.startswith("attr:")}
        if header.get("format_version") != _SAVE_FORMAT_VERSION:
            raise ValueError(
                f"{path} has save format {header.get('format_version')}; this version of recsys "
                f"reads format {_SAVE_FORMAT_VERSION}. Refit and save the model again."
            )
        if header["class"] != cls.__name__:
            raise ValueError(
                f"{path} holds a {header['class']}, not a {cls.__name__}; "
                f"load it with {header['class']}.load."
            )
        model = cls(**header["params"])
        for name, value in header["attributes"].items():
            if isinstance(value, dict) and set(value) == {"object_array"}:
                value = np.array(value["object_array"], dtype=object)
            setattr(model, name, value)
        for name, value in arrays.items():
            setattr(model, name, value)
        model._rebuild_derived()
        return model

"""Estimator parameters that hold a handle on a running system (a Dask client, a Spark session)."""

import copy

from sklearn.base import clone


class RuntimeHandleMixin:
    """Clone, pickle and save an estimator whose ``_handle_parameter`` is a live handle.

    A client or session holds connections, threads or a JVM: it cannot be
    deep-copied, pickled or written as JSON, and it is no part of a fitted
    model. ``clone`` gives the clone the same handle (the rest is cloned);
    pickle and ``save`` write the parameter as None, leaving the model itself
    untouched, so an unpickled or loaded model uses the default (the current
    client, the active session) when it is fitted again. List the mixin
    before the estimator's base class.
    """

    #: name of the constructor parameter that holds the handle
    _handle_parameter = None

    def __sklearn_clone__(self):
        params = self.get_params(deep=False)
        handle = params.pop(self._handle_parameter)
        return type(self)(**{name: clone(value, safe=False) for name, value in params.items()},
                          **{self._handle_parameter: handle})

    def __getstate__(self):
        state = dict(super().__getstate__())
        state[self._handle_parameter] = None
        return state

    def save(self, path):
        """Save the fitted model to path (``.npz`` added when missing), its handle written as None.

        Parameters
        ----------
        path : str or path-like

        Returns
        -------
        path : pathlib.Path
            The file written.
        """
        # copy.copy goes through __getstate__: a shallow copy without the handle, sharing the
        # fitted arrays, is saved and self keeps its handle.
        return super(RuntimeHandleMixin, copy.copy(self)).save(path)

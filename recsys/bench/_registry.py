"""The registry of models that ``recsys-bench`` can run.

Each model family registers its names in a module ``recsys/<family>/_bench.py``
(peer adapters in ``recsys/bench/peers/<library>.py``); third-party packages
register through the ``recsys.models`` entry-point group, whose entries are
callables run once at discovery. The CLI never names a model itself, so a new
family plugs in by adding its ``_bench`` module.
"""

import importlib
import importlib.metadata
import importlib.util
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TASKS = ("topn", "rating")

_MODELS = {}
_discovered = False


@dataclass(frozen=True)
class ModelSpec:
    """How to build one benchmarkable model.

    Attributes
    ----------
    name : str
        Name used on the command line (``--models NAME``).
    factory : callable
        ``factory(**params)`` returns an unfitted estimator: a
        ``BaseRecommender`` for ``task="topn"``, a rating predictor
        (``fit(pairs, ratings)``, ``predict(pairs)``) for ``task="rating"``.
    task : {"topn", "rating"}
    description : str
    requires : tuple of str
        Modules that must be importable (e.g. the peer library).
    default_params : dict
        Parameters used when the command line sets none.
    peer : str or None
        The peer library an adapter runs, None for recsys' own models.
    """

    name: str
    factory: Callable[..., Any]
    task: str
    description: str = ""
    requires: tuple = ()
    default_params: dict = field(default_factory=dict)
    peer: str = None

    @property
    def available(self):
        """Whether every module in ``requires`` can be imported."""
        return all(importlib.util.find_spec(module) is not None for module in self.requires)

    def build(self, **params):
        """Return a new estimator with the default parameters updated by params."""
        if not self.available:
            missing = [m for m in self.requires if importlib.util.find_spec(m) is None]
            raise ImportError(
                f"model {self.name!r} needs {missing}; install them with pip install 'recsys[peers]'."
            )
        return self.factory(**{**self.default_params, **params})


def register_model(name, factory, *, task, description="", requires=(), default_params=None, peer=None):
    """Add a model to the registry (re-registering a name replaces it)."""
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}.")
    _MODELS[name] = ModelSpec(name, factory, task, description, tuple(requires),
                              dict(default_params or {}), peer)
    return _MODELS[name]


def _discover():
    global _discovered
    if _discovered:
        return
    _discovered = True
    import recsys
    import recsys.bench.peers

    for module in pkgutil.iter_modules(recsys.__path__):
        if module.ispkg and importlib.util.find_spec(f"recsys.{module.name}._bench") is not None:
            importlib.import_module(f"recsys.{module.name}._bench")
    for module in pkgutil.iter_modules(recsys.bench.peers.__path__):
        importlib.import_module(f"recsys.bench.peers.{module.name}")
    for entry_point in importlib.metadata.entry_points(group="recsys.models"):
        entry_point.load()()


def get_model(name):
    """Return the :class:`ModelSpec` registered under name."""
    _discover()
    if name not in _MODELS:
        raise KeyError(f"unknown model {name!r}; registered models: {', '.join(sorted(_MODELS))}.")
    return _MODELS[name]


def list_models(task=None):
    """Return the registered specs, sorted by name, optionally of one task."""
    _discover()
    return [spec for name, spec in sorted(_MODELS.items()) if task is None or spec.task == task]

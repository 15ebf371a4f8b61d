"""The registry of models that ``recsys-bench`` can run.

recsys' own models and the peer adapters are rows of the table in
:mod:`recsys.bench._models`, each naming its estimator as ``"module:attribute"``
and imported only when built: the harness depends on the models, never the
reverse, and listing models imports none of them. Third-party packages
register through the ``recsys.models`` entry-point group, whose entries are
callables run once at discovery (they call :func:`register_model`).
"""

import difflib
import importlib
import importlib.metadata
import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

TASKS = ("topn", "rating")
INPUTS = ("matrix", "sequence", "item_texts")

_MODELS = {}
_discovered = False


def is_importable(module):
    """Whether module can be imported, without importing it.

    ``find_spec`` raises rather than returning None when a parent package is
    missing or an import hook refuses the name; either way the module is not
    available, and listing the models must not fail on it.
    """
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class ModelSpec:
    """How to build one benchmarkable model.

    Attributes
    ----------
    name : str
        Name used on the command line (``--models NAME``).
    factory : callable or str
        ``factory(**params)`` returns an unfitted estimator: a
        ``BaseRecommender`` for ``task="topn"``, a rating predictor
        (``fit(pairs, ratings)``, ``predict(pairs)``) for ``task="rating"``.
        A string ``"module:attribute"`` names it; the module is imported on
        the first :meth:`build`.
    task : {"topn", "rating"}
    description : str
    requires : tuple of str
        Modules that must be importable (e.g. the peer library).
    default_params : dict
        Parameters used when the command line sets none.
    peer : str or None
        The peer library an adapter runs, None for recsys' own models.
    input : {"matrix", "sequence"}
        What the model is fitted on and recommends from: a users x items
        matrix, or time-ordered events (an ``Interactions`` with
        timestamps, which only the protocols of
        :data:`~recsys.bench._protocols.SEQUENCE_PROTOCOLS` provide), or a
        matrix and one text per item (``fit(X, item_texts=...)``, from the
        data set's item side table).
    extra : str
        The recsys extra that installs ``requires``, named when they are missing.
    programs : tuple of str
        Executables outside Python the model starts (``java`` for Spark),
        looked for by :func:`recsys.utils.find_program`.
    """

    name: str
    factory: Callable[..., Any] | str
    task: str
    description: str = ""
    requires: tuple = ()
    default_params: dict = field(default_factory=dict)
    peer: str = None
    input: str = "matrix"
    extra: str = "peers"
    programs: tuple = ()

    def missing(self):
        """What this machine lacks to run the model, one phrase per kind; empty when it has all."""
        from recsys.utils import find_program

        modules = [module for module in self.requires if not is_importable(module)]
        programs = [program for program in self.programs if find_program(program) is None]
        reasons = []
        if modules:
            reasons.append(f"{', '.join(modules)} (pip install 'recsys[{self.extra}]')")
        if programs:
            reasons.append(f"the program {', '.join(programs)} (install it or put it on PATH"
                           + ("; or set JAVA_HOME" if "java" in programs else "") + ")")
        return reasons

    @property
    def available(self):
        """Whether every module in ``requires`` can be imported and every program found."""
        return not self.missing()

    def load(self):
        """Return the factory, importing its module when it is named by a string."""
        missing = self.missing()
        if missing:
            raise ImportError(f"model {self.name!r} needs {' and '.join(missing)}.")
        if not isinstance(self.factory, str):
            return self.factory
        module, _, attribute = self.factory.partition(":")
        return getattr(importlib.import_module(module), attribute)

    def build(self, **params):
        """Return a new estimator with the default parameters updated by params."""
        return self.load()(**{**self.default_params, **params})


def _make_spec(name, factory, task, description, requires, default_params, peer, input="matrix",
               extra="peers", programs=()):
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}; got {task!r}.")
    if input not in INPUTS:
        raise ValueError(f"input must be one of {INPUTS}; got {input!r}.")
    if isinstance(factory, str) and factory.count(":") != 1:
        raise ValueError(f"factory must be a callable or a 'module:attribute' string; got {factory!r}.")
    return ModelSpec(name, factory, task, description, tuple(requires), dict(default_params or {}), peer, input,
                     extra, tuple(programs))


def register_model(name, factory, *, task, description="", requires=(), default_params=None, peer=None,
                   input="matrix", extra="peers", programs=()):
    """Add a model to the registry (re-registering a name replaces it).

    For third-party packages, called from a ``recsys.models`` entry point;
    recsys' own models are rows of :mod:`recsys.bench._models`.

    Parameters
    ----------
    name : str
    factory : callable or str
        ``factory(**params)`` returns an unfitted estimator, or its
        ``"module:attribute"`` name, imported on first use.
    task : {"topn", "rating"}
    description : str, default=""
    requires : sequence of str, default=()
        Modules the model needs; it is listed but skipped without them.
    default_params : dict, default=None
    peer : str, default=None
        Import name of the peer library the model runs, if any.
    input : {"matrix", "sequence", "item_texts"}, default="matrix"
        ``"sequence"`` for a model fitted on time-ordered ``Interactions``,
        ``"item_texts"`` for one fitted with ``fit(X, item_texts=...)``.
    extra : str, default="peers"
        The recsys extra that installs ``requires``.
    programs : sequence of str, default=()
        Executables outside Python the model starts (e.g. ``"java"``); it is
        listed but skipped when one is not found.

    Returns
    -------
    ModelSpec
    """
    _MODELS[name] = _make_spec(name, factory, task, description, requires, default_params, peer, input, extra,
                               programs)
    return _MODELS[name]


def _discover():
    global _discovered
    if _discovered:
        return
    _discovered = True
    from recsys.bench._models import (
        CONTENT_MODELS,
        NEURAL_MODELS,
        NEURAL_REQUIRES,
        PEER_EXTRAS,
        PEER_MODELS,
        PEER_PROGRAMS,
        RECSYS_MODELS,
    )

    # A name registered before discovery (a test, a notebook) keeps its own spec.
    for name, factory, task, default_params, description in RECSYS_MODELS:
        _MODELS.setdefault(name, _make_spec(name, factory, task, description, (), default_params, None))
    for name, factory, task, default_params, description, peer in PEER_MODELS:
        _MODELS.setdefault(name, _make_spec(name, factory, task, description, (peer,), default_params, peer,
                                            extra=PEER_EXTRAS.get(peer, "peers"),
                                            programs=PEER_PROGRAMS.get(peer, ())))
    for name, factory, task, default_params, description in NEURAL_MODELS:
        _MODELS.setdefault(name, _make_spec(name, factory, task, description, NEURAL_REQUIRES, default_params, None,
                                            input="sequence", extra="neural"))
    for name, factory, task, default_params, description in CONTENT_MODELS:
        _MODELS.setdefault(name, _make_spec(name, factory, task, description, NEURAL_REQUIRES, default_params, None,
                                            input="item_texts", extra="neural"))
    for entry_point in importlib.metadata.entry_points(group="recsys.models"):
        entry_point.load()()


def get_model(name):
    """Return the :class:`ModelSpec` registered under name."""
    _discover()
    if name not in _MODELS:
        close = difflib.get_close_matches(str(name), _MODELS, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise KeyError(f"unknown model {name!r}.{hint} Registered models: {', '.join(sorted(_MODELS))}.")
    return _MODELS[name]


def list_models(task=None):
    """Return the registered specs, sorted by name, optionally of one task."""
    _discover()
    return [spec for name, spec in sorted(_MODELS.items()) if task is None or spec.task == task]

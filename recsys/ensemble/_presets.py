"""Ensembles built from plain parameters, for configuration files (``recsys-bench`` suites).

A suite cannot hold estimator objects, so these functions take each member as
a dict: ``{"model": <member name>, <param>: <value>, ...}``, the member names
being those of :data:`MEMBER_MODELS`.
"""

import importlib

from recsys.ensemble._rank_fusion import RankFusion
from recsys.ensemble._two_stage import TwoStageRecommender
from recsys.ensemble._weighted_hybrid import WeightedHybrid

#: member name -> "module:Class" of the recommenders an ensemble preset may combine
MEMBER_MODELS = {
    "pop": "recsys.baselines:PopularityRecommender",
    "ease": "recsys.linear:EASE",
    "slim": "recsys.linear:SLIM",
    "als": "recsys.factorization:ALS",
    "bpr": "recsys.factorization:BPR",
    "pure-svd": "recsys.factorization:PureSVD",
    "item-knn": "recsys.neighbors:ItemKNN",
    "user-knn": "recsys.neighbors:UserKNN",
    "rp3beta": "recsys.neighbors:RP3beta",
}


def build_member(spec):
    """A recommender from ``{"model": name, **params}`` (name a key of :data:`MEMBER_MODELS`)."""
    if not isinstance(spec, dict) or "model" not in spec:
        raise ValueError(f"a member is a dict with a 'model' key naming one of {sorted(MEMBER_MODELS)}; got {spec!r}.")
    params = dict(spec)
    name = params.pop("model")
    if name not in MEMBER_MODELS:
        raise ValueError(f"unknown member model {name!r}; choose one of {sorted(MEMBER_MODELS)}.")
    module, attribute = MEMBER_MODELS[name].split(":")
    return getattr(importlib.import_module(module), attribute)(**params)


def _members(members):
    if not isinstance(members, dict) or not members:
        raise ValueError("members must be a non-empty table {label: {model = ..., params...}}.")
    return [(label.replace("-", "_"), build_member(spec)) for label, spec in members.items()]


def make_hybrid(members, weights=None, normalize="minmax", n_jobs=None):
    """:class:`WeightedHybrid` of the members ``{label: {"model": name, **params}}``."""
    return WeightedHybrid(_members(members), weights=weights, normalize=normalize, n_jobs=n_jobs)


def make_rank_fusion(members, method="rrf", k=60, depth=100, weights=None, n_jobs=None):
    """:class:`RankFusion` of the members ``{label: {"model": name, **params}}``."""
    return RankFusion(_members(members), method=method, k=k, depth=depth, weights=weights, n_jobs=n_jobs)


def make_two_stage(candidates, scorers=None, n_candidates=100, ranker=None, validation_size=0.2,
                   fold_in=0.8, cross_fit=None, random_state=0, n_threads=None):
    """:class:`TwoStageRecommender` with stage one ``{"model": name, **params}`` and scorers as members."""
    return TwoStageRecommender(build_member(candidates), n_candidates=n_candidates,
                               scorers=_members(scorers) if scorers else [], ranker=ranker,
                               validation_size=validation_size, fold_in=fold_in, cross_fit=cross_fit,
                               random_state=random_state,
                               n_threads=n_threads)

"""Explicit and implicit matrix factorisation."""

from recsys.factorization._als import ALS
from recsys.factorization._als_rating import ALSRating
from recsys.factorization._baseline_only import BaselineOnly
from recsys.factorization._biased_mf import BiasedMF
from recsys.factorization._bpr import BPR
from recsys.factorization._lmf import LMF
from recsys.factorization._nmf import NMF
from recsys.factorization._pure_svd import PureSVD
from recsys.factorization._svdpp import SVDpp
from recsys.utils import PersistenceMixin

# The persistence mixin moved to recsys.utils (rating and top-N models of every
# family use it); the old name stays importable here.
FactorModelPersistenceMixin = PersistenceMixin

__all__ = [
    "ALS",
    "BPR",
    "LMF",
    "NMF",
    "ALSRating",
    "BaselineOnly",
    "BiasedMF",
    "FactorModelPersistenceMixin",
    "PureSVD",
    "SVDpp",
]

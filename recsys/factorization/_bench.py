"""Register the matrix-factorisation models with recsys-bench."""

from recsys.bench import register_model
from recsys.factorization import (
    ALS,
    BPR,
    LMF,
    NMF,
    ALSRating,
    BaselineOnly,
    BiasedMF,
    PureSVD,
    SVDpp,
)

register_model("baseline-only", BaselineOnly, task="rating",
               description="Koren baselines mu + b_u + b_i (ALS)")
register_model("biased-mf", BiasedMF, task="rating", default_params={"random_state": 0},
               description="biased matrix factorisation, stratified parallel SGD (Surprise's SVD)")
register_model("svdpp", SVDpp, task="rating", default_params={"random_state": 0},
               description="SVD++ by SGD batched per user")
register_model("als-rating", ALSRating, task="rating", default_params={"random_state": 0},
               description="biased MF by ALS with weighted-lambda regularisation")
register_model("nmf", NMF, task="rating", default_params={"random_state": 0},
               description="non-negative MF by multiplicative updates (Luo et al. 2014)")

register_model("als", ALS, task="topn", default_params={"random_state": 0},
               description="implicit-feedback ALS (implicit's solver), exact least-squares fold-in")
register_model("bpr", BPR, task="topn", default_params={"random_state": 0},
               description="Bayesian personalised ranking (implicit's SGD), fold-in by BPR's own SGD")
register_model("lmf", LMF, task="topn", default_params={"random_state": 0},
               description="logistic matrix factorisation (implicit), ridge fold-in")
register_model("pure-svd", PureSVD, task="topn", default_params={"random_state": 0},
               description="PureSVD: truncated SVD, scores X V V^T (Cremonesi et al. 2010)")

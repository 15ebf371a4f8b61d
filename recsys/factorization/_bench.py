"""Register the matrix-factorisation models with recsys-bench."""

from recsys.bench import register_model
from recsys.factorization import NMF, ALSRating, BaselineOnly, BiasedMF, SVDpp

register_model("baseline-only", BaselineOnly, task="rating",
               description="Koren baselines mu + b_u + b_i (ALS)")
register_model("biased-mf", BiasedMF, task="rating", default_params={"random_state": 0},
               description="biased matrix factorisation by SGD (Surprise's SVD)")
register_model("svdpp", SVDpp, task="rating", default_params={"random_state": 0},
               description="SVD++ by SGD batched per user")
register_model("als-rating", ALSRating, task="rating", default_params={"random_state": 0},
               description="biased MF by ALS with weighted-lambda regularisation")
register_model("nmf", NMF, task="rating", default_params={"random_state": 0},
               description="non-negative MF by multiplicative updates (Luo et al. 2014)")

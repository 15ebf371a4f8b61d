"""Register the neighbourhood models with recsys-bench."""

from recsys.bench import register_model
from recsys.neighbors import (
    ItemKNN,
    KNNBaseline,
    KNNBasic,
    KNNWithMeans,
    RP3beta,
    SlopeOne,
    UserKNN,
)

register_model("item-knn", ItemKNN, task="topn",
               description="item-based kNN, sparse top-k cosine/bm25/tfidf/jaccard/asymmetric similarity")
register_model("user-knn", UserKNN, task="topn",
               description="user-based kNN over the training users, folds in new users")
register_model("rp3beta", RP3beta, task="topn",
               description="RP3beta random-walk item-item graph (Paudel et al. 2017)")

register_model("knn-basic", KNNBasic, task="rating",
               description="Surprise's KNNBasic: weighted mean of the k nearest raters (msd, user-based)")
register_model("knn-means", KNNWithMeans, task="rating",
               description="Surprise's KNNWithMeans: mean-centred k-NN (msd, user-based)")
register_model("knn-baseline", KNNBaseline, task="rating",
               description="Surprise's KNNBaseline: ALS baselines plus k-NN residuals (msd, user-based)")
register_model("slope-one", SlopeOne, task="rating",
               description="Slope One: user mean plus mean item-item rating deviation")

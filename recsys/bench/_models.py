"""The models ``recsys-bench`` knows by name: a plain table, data only.

Each row names the estimator by its qualified name (``"module:attribute"``),
imported when the model is first built, never when the table is read: listing
models (``recsys-bench models``) imports no model package and no peer library.
A new recsys model is one row here; a peer adapter is a module in
``recsys/bench/peers/`` plus its rows (with ``requires`` and ``peer``). Third
parties add theirs through the ``recsys.models`` entry-point group
(see :func:`recsys.bench.register_model`).

Columns: name, factory, task, default parameters, description, and for peers
the modules the factory needs (``requires``) and the peer library's import name.
The sequential models (``NEURAL_MODELS``) are fitted on time-ordered events
(``input="sequence"``), need the ``neural`` extra, and run under the
leave-last-out protocols only. The content models (``CONTENT_MODELS``) are
fitted on the matrix and one text per item (``input="item_texts"``, from the
data set's item side table), and need the ``neural`` extra.
"""

_SEEDED = {"random_state": 0}

# Ensemble members with the ml100k-quality suite's tuned parameters (a suite's params replace them whole).
_ENSEMBLE_MEMBERS = {
    "ease": {"model": "ease", "l2": 200.0},
    "als": {"model": "als", "n_factors": 128, "alpha": 1.0, "regularization": 10.0, "random_state": 0},
    "item_knn": {"model": "item-knn", "similarity": "bm25", "k": 200, "shrink": 100.0},
}
_TWO_STAGE = {
    "candidates": {"model": "ease", "l2": 200.0},
    "scorers": {"als": _ENSEMBLE_MEMBERS["als"], "item_knn": _ENSEMBLE_MEMBERS["item_knn"],
                "rp3beta": {"model": "rp3beta", "alpha": 0.5, "beta": 0.6, "k": 100}},
    "n_candidates": 100, "random_state": 0,
}

#: recsys' own models: (name, factory, task, default_params, description)
RECSYS_MODELS = (
    ("pop", "recsys.baselines:PopularityRecommender", "topn", {},
     "most popular items (distinct users)"),
    ("random", "recsys.baselines:RandomRecommender", "topn", _SEEDED,
     "uniformly random items"),
    ("baseline-only", "recsys.factorization:BaselineOnly", "rating", {},
     "Koren baselines mu + b_u + b_i (ALS)"),
    ("biased-mf", "recsys.factorization:BiasedMF", "rating", _SEEDED,
     "biased matrix factorisation, stratified parallel SGD (Surprise's SVD)"),
    ("svdpp", "recsys.factorization:SVDpp", "rating", _SEEDED,
     "SVD++ by SGD batched per user"),
    ("als-rating", "recsys.factorization:ALSRating", "rating", _SEEDED,
     "biased MF by ALS with weighted-lambda regularisation"),
    ("nmf", "recsys.factorization:NMF", "rating", _SEEDED,
     "non-negative MF by multiplicative updates (Luo et al. 2014)"),
    ("als", "recsys.factorization:ALS", "topn", _SEEDED,
     "implicit-feedback ALS (implicit's solver), exact least-squares fold-in"),
    ("bpr", "recsys.factorization:BPR", "topn", _SEEDED,
     "Bayesian personalised ranking (implicit's SGD), fold-in by BPR's own SGD"),
    ("lmf", "recsys.factorization:LMF", "topn", _SEEDED,
     "logistic matrix factorisation (implicit), ridge fold-in"),
    ("pure-svd", "recsys.factorization:PureSVD", "topn", _SEEDED,
     "PureSVD: truncated SVD, scores X V V^T (Cremonesi et al. 2010)"),
    ("lsh-item-knn", "recsys.hashing:LSHItemKNN", "topn", {},
     "item kNN on Jaccard of rater sets, candidate pairs from MinHash LSH"),
    ("ease", "recsys.linear:EASE", "topn", {},
     "EASE: closed-form item-item autoencoder (Steck 2019)"),
    ("slim", "recsys.linear:SLIM", "topn", {"n_jobs": -1},
     "SLIM: per-item non-negative elastic net (Ning & Karypis 2011)"),
    ("item-knn", "recsys.neighbors:ItemKNN", "topn", {},
     "item-based kNN, sparse top-k cosine/bm25/tfidf/jaccard/asymmetric similarity"),
    ("user-knn", "recsys.neighbors:UserKNN", "topn", {},
     "user-based kNN over the training users, folds in new users"),
    ("rp3beta", "recsys.neighbors:RP3beta", "topn", {},
     "RP3beta random-walk item-item graph (Paudel et al. 2017)"),
    ("knn-basic", "recsys.neighbors:KNNBasic", "rating", {},
     "Surprise's KNNBasic: weighted mean of the k nearest raters (msd, user-based)"),
    ("knn-means", "recsys.neighbors:KNNWithMeans", "rating", {},
     "Surprise's KNNWithMeans: mean-centred k-NN (msd, user-based)"),
    ("knn-baseline", "recsys.neighbors:KNNBaseline", "rating", {},
     "Surprise's KNNBaseline: ALS baselines plus k-NN residuals (msd, user-based)"),
    ("slope-one", "recsys.neighbors:SlopeOne", "rating", {},
     "Slope One: user mean plus mean item-item rating deviation"),
    ("bm25-item-knn", "recsys.pipeline:make_bm25_item_knn", "topn", {},
     "pipeline: BM25 weighting (items as documents), item kNN on dot products (implicit's BM25Recommender)"),
    ("bm25-als", "recsys.pipeline:make_bm25_als", "topn", {"als__random_state": 0},
     "pipeline: BM25 weighting (K1=100, B=0.8), then implicit-feedback ALS"),
    ("hybrid", "recsys.ensemble:make_hybrid", "topn", {"members": _ENSEMBLE_MEMBERS},
     "weighted sum of per-user min-max normalised scores of EASE, ALS and item kNN"),
    ("rrf", "recsys.ensemble:make_rank_fusion", "topn", {"members": _ENSEMBLE_MEMBERS},
     "reciprocal rank fusion (k=60) of EASE, ALS and item kNN"),
    ("two-stage", "recsys.ensemble:make_two_stage", "topn", _TWO_STAGE,
     "EASE candidates reranked by gradient boosting on ALS/item-kNN/RP3beta scores and PairFeatures"),
    ("two-stage-lambdarank", "recsys.ensemble:make_two_stage", "topn", {**_TWO_STAGE, "ranker": "lambdarank"},
     "two-stage with LightGBM's LGBMRanker (lambdarank) as the reranker (ltr extra)"),
)

_IMPLICIT = "recsys.bench.peers.implicit"
_SURPRISE = "recsys.bench.peers.surprise"
_SURPRISE_KNN = "recsys.bench.peers.surprise_knn"

#: the recsys extra that installs a peer library, where it is not "peers"
PEER_EXTRAS = {"pyspark": "distributed"}

#: executables a peer library starts, which no pip extra installs
PEER_PROGRAMS = {"pyspark": ("java",)}

#: peer adapters: (name, factory, task, default_params, description, peer library)
PEER_MODELS = (
    ("implicit-als", f"{_IMPLICIT}:ImplicitALS", "topn", _SEEDED,
     "implicit's AlternatingLeastSquares, recalculate_user fold-in", "implicit"),
    ("implicit-bpr", f"{_IMPLICIT}:ImplicitBPR", "topn", _SEEDED,
     "implicit's BayesianPersonalizedRanking, recsys' SGD fold-in", "implicit"),
    ("implicit-lmf", f"{_IMPLICIT}:ImplicitLMF", "topn", _SEEDED,
     "implicit's LogisticMatrixFactorization, ridge fold-in", "implicit"),
    ("spark-als", "recsys.distributed:SparkALS", "topn", _SEEDED,
     "Spark MLlib's implicit ALS (local session), exact least-squares fold-in", "pyspark"),
    ("surprise-svd", f"{_SURPRISE}:surprise_svd", "rating", _SEEDED,
     "Surprise's SVD (biased MF by SGD)", "surprise"),
    ("surprise-svdpp", f"{_SURPRISE}:surprise_svdpp", "rating", _SEEDED,
     "Surprise's SVD++ (per-rating SGD)", "surprise"),
    ("surprise-nmf", f"{_SURPRISE}:surprise_nmf", "rating", _SEEDED,
     "Surprise's NMF (multiplicative updates)", "surprise"),
    ("surprise-baseline", f"{_SURPRISE}:surprise_baselineonly", "rating", {},
     "Surprise's BaselineOnly (ALS baselines)", "surprise"),
    ("surprise-knn-basic", f"{_SURPRISE_KNN}:surprise_knnbasic", "rating", {},
     "Surprise's KNNBasic (msd, user-based, k=40)", "surprise"),
    ("surprise-knn-means", f"{_SURPRISE_KNN}:surprise_knnwithmeans", "rating", {},
     "Surprise's KNNWithMeans (msd, user-based, k=40)", "surprise"),
    ("surprise-knn-baseline", f"{_SURPRISE_KNN}:surprise_knnbaseline", "rating", {},
     "Surprise's KNNBaseline (msd, user-based, k=40, ALS baselines)", "surprise"),
    ("surprise-slope-one", f"{_SURPRISE_KNN}:surprise_slopeone", "rating", {},
     "Surprise's SlopeOne", "surprise"),
)

# SASRec variants through recsys.neural (the neural extra). Small CPU-sized defaults: a suite sets its own sizes.
_SASREC = {"hidden_size": 64, "n_layers": 2, "n_heads": 2, "intermediate_size": 128, "max_len": 200,
           "epochs": 20, "random_state": 0}
_SASREC_FACTORY = "recsys.bench._neural:make_sasrec"

#: modules the sequential models need (the neural extra)
NEURAL_REQUIRES = ("torch", "transformers")

#: sequential models: (name, factory, task, default_params, description); input="sequence", extra "neural"
NEURAL_MODELS = (
    ("sasrec", _SASREC_FACTORY, "topn", {**_SASREC, "loss": "bce"},
     "SASRec (Kang & McAuley 2018): causal transformer, learned positions, BCE with 1 negative (neural extra)"),
    ("gsasrec", _SASREC_FACTORY, "topn", {**_SASREC, "loss": "gbce", "n_negatives": 256, "gbce_t": 0.75},
     "gSASRec (Petrov & Macdonald 2023): SASRec with gBCE, 256 negatives, t=0.75 (neural extra)"),
    ("sasrec-rope-moe", _SASREC_FACTORY, "topn",
     {**_SASREC, "loss": "gbce", "n_negatives": 256, "gbce_t": 0.75, "position_encoding": "rope", "ffn": "moe",
      "n_experts": 4, "moe_top_k": 2},
     "gSASRec with rotary positions and a mixture-of-experts FFN (4 experts, top 2) (neural extra)"),
)

#: content-based models: (name, factory, task, default_params, description); input="item_texts", extra "neural"
CONTENT_MODELS = (
    ("content-knn", "recsys.bench._neural:make_content_knn", "topn", {"embedder": "minilm"},
     "ContentKNN: items like the user's history by their texts (title, genres), MiniLM or embedder=tfidf"),
)

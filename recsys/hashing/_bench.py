"""Register the LSH models with recsys-bench."""

from recsys.bench import register_model
from recsys.hashing import LSHItemKNN

register_model("lsh-item-knn", LSHItemKNN, task="topn",
               description="item kNN on Jaccard of rater sets, candidate pairs from MinHash LSH")

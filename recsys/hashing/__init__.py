"""Locality-sensitive hashing: MinHash, SimHash, p-stable hashes and LSH indexes."""

from recsys.hashing._bands import candidate_probability, optimal_bands_rows
from recsys.hashing._containment import ContainmentLSH
from recsys.hashing._jaccard import (
    jaccard_from_signatures,
    pairwise_jaccard,
    pairwise_jaccard_from_signatures,
)
from recsys.hashing._lsh_forest import MinHashLSHForest
from recsys.hashing._lsh_item_knn import LSHItemKNN
from recsys.hashing._minhash import MinHasher
from recsys.hashing._minhash_lsh import MinHashLSH
from recsys.hashing._multi_table import CosineLSH, EuclideanLSH
from recsys.hashing._near_duplicates import find_near_duplicates
from recsys.hashing._pstable import PStableHasher
from recsys.hashing._simhash import SimHasher, cosine_from_hamming, hamming_distance
from recsys.hashing._storage import MalformedEntryError
from recsys.hashing._weighted_minhash import (
    WeightedMinHasher,
    weighted_jaccard_from_signatures,
)

__all__ = [
    "ContainmentLSH",
    "CosineLSH",
    "EuclideanLSH",
    "LSHItemKNN",
    "MalformedEntryError",
    "MinHashLSH",
    "MinHashLSHForest",
    "MinHasher",
    "PStableHasher",
    "SimHasher",
    "WeightedMinHasher",
    "candidate_probability",
    "cosine_from_hamming",
    "find_near_duplicates",
    "hamming_distance",
    "jaccard_from_signatures",
    "optimal_bands_rows",
    "pairwise_jaccard",
    "pairwise_jaccard_from_signatures",
    "weighted_jaccard_from_signatures",
]

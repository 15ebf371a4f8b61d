"""recsys.hashing and datasketch: signatures both ways, containment and weighted sketches."""

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.hashing import (
    ContainmentLSH,
    MinHasher,
    MinHashLSH,
    WeightedMinHasher,
    weighted_jaccard_from_signatures,
)

datasketch = pytest.importorskip("datasketch")


def token_sets(n_sets=40, seed=0):
    rng = np.random.default_rng(seed)
    vocabulary = [f"t{i}" for i in range(300)]
    return [list(rng.choice(vocabulary, rng.integers(1, 60), replace=False)) for _ in range(n_sets)]


def their_minhashes(sets, **kwargs):
    return datasketch.MinHash.bulk([[t.encode() for t in tokens] for tokens in sets], **kwargs)


@pytest.mark.parametrize("scheme", ["affine32", "affine64", "legacy"])
def test_minhasher_reads_and_writes_datasketch_minhashes(scheme):
    sets = token_sets()
    hasher = MinHasher(n_perm=32, seed=7, scheme=scheme).fit()
    theirs = their_minhashes(sets, num_perm=32, seed=7, scheme=scheme)
    ours = hasher.to_datasketch(sets)
    assert all(isinstance(m, datasketch.LeanMinHash) for m in ours)
    assert ours == [datasketch.LeanMinHash(m) for m in theirs]
    np.testing.assert_array_equal(hasher.transform(theirs), hasher.transform(sets))
    np.testing.assert_array_equal(hasher.transform(ours), hasher.transform(sets))
    np.testing.assert_array_equal(
        [m.hashvalues for m in hasher.to_datasketch(hasher.transform(sets))],
        [m.hashvalues for m in theirs])


def test_minhasher_rejects_minhashes_of_another_seed():
    theirs = their_minhashes([["a"]], num_perm=32, seed=2)
    with pytest.raises(ValueError, match="seed=2.*seed=1"):
        MinHasher(n_perm=32).fit().transform(theirs)


def test_minhash_lsh_takes_and_gives_datasketch_minhashes():
    sets = token_sets()
    theirs = [datasketch.LeanMinHash(m) for m in their_minhashes(sets, num_perm=64)]
    from_tokens = MinHashLSH(threshold=0.3, n_perm=64).fit(sets)
    from_lean = MinHashLSH(threshold=0.3, n_perm=64).fit(theirs)
    assert from_lean.query(theirs) == from_tokens.query(sets)
    keys, exported = from_tokens.to_datasketch()
    assert keys == list(range(len(sets))) and exported == theirs
    their_index = datasketch.MinHashLSH(num_perm=64, params=(from_tokens.bands_, from_tokens.rows_))
    for key, minhash in zip(keys, exported):
        their_index.insert(key, minhash)
    assert [sorted(their_index.query(m)) for m in exported] == from_tokens.query(sets)
    assert from_tokens.to_datasketch([3])[1] == theirs[3:4]
    with pytest.raises(KeyError, match="not in the index"):
        from_tokens.to_datasketch([999])


def containment_data(seed=0):
    """Indexed sets of many sizes, and queries cut from them with known containment."""
    rng = np.random.default_rng(seed)
    vocabulary = np.array([f"t{i}" for i in range(5000)])
    indexed = [list(rng.choice(vocabulary, rng.integers(20, 400), replace=False)) for _ in range(300)]
    queries = []
    for _ in range(150):
        source = indexed[rng.integers(len(indexed))]
        size = int(rng.integers(10, min(60, len(source)) + 1))
        inside = round(size * rng.uniform(0.2, 1.0))
        outside = rng.choice(vocabulary, size, replace=False)
        queries.append(list(rng.choice(source, inside, replace=False))
                       + [t for t in outside if t not in source][:size - inside])
    return indexed, queries


def exact_containment(queries, indexed):
    return np.array([[len(set(q) & set(s)) / len(set(q)) for s in indexed] for q in queries])


@pytest.mark.slow
@pytest.mark.parametrize(("weights", "min_recall", "max_false_positives"),
                         [((0.5, 0.5), 0.75, 0.01), ((0.2, 0.8), 0.95, 0.25)])
def test_containment_lsh_against_exact_containment(weights, min_recall, max_false_positives):
    # Measured (seeded, deterministic): recall 0.81 / 1.00 of pairs clearly above the threshold,
    # 0.005 / 0.15 of pairs clearly below returned. The misses are small queries against
    # sets 10-30 times larger, where LSH Ensemble must detect a Jaccard of a few percent.
    indexed, queries = containment_data()
    threshold = 0.7
    index = ContainmentLSH(threshold=threshold, n_perm=256, n_partitions=8,
                           weights=weights).fit(indexed)
    found = np.zeros((len(queries), len(indexed)), dtype=bool)
    for row, keys in enumerate(index.query(queries)):
        found[row, keys] = True
    exact = exact_containment(queries, indexed)
    clearly_above, clearly_below = exact >= threshold + 0.1, exact <= threshold - 0.3
    assert clearly_above.sum() >= 30 and clearly_below.sum() >= 1000
    assert found[clearly_above].mean() >= min_recall
    assert found[clearly_below].mean() <= max_false_positives

    # The same ensemble datasketch builds from its own MinHashes returns the same keys.
    theirs = datasketch.MinHashLSHEnsemble(threshold=threshold, num_perm=256, num_part=8,
                                           weights=weights)
    minhashes = their_minhashes(indexed, num_perm=256)
    theirs.index([(row, m, len(set(s))) for row, (m, s) in enumerate(zip(minhashes, indexed))])
    their_found = [sorted(theirs.query(m, len(set(q))))
                   for m, q in zip(their_minhashes(queries, num_perm=256), queries)]
    assert their_found == index.query(queries)


def test_containment_lsh_keys_matrix_input_and_errors():
    words = [f"w{i}" for i in range(50)]
    index = ContainmentLSH(threshold=0.7).fit([words, words[25:], []], keys=["a", "b", "empty"])
    assert index.query([words[:20], words[30:40], []]) == [["a"], ["a", "b"], []]
    X = sp.csr_matrix(np.eye(6, dtype=np.int8) + np.eye(6, k=1, dtype=np.int8))
    assert ContainmentLSH(threshold=1.0).fit(X).query(X[:1]) == [[0]]
    with pytest.raises(ValueError, match="summing to 1"):
        ContainmentLSH(weights=(0.5, 0.6)).fit([words])
    with pytest.raises(ValueError, match="every set of X is empty"):
        ContainmentLSH().fit([[], []])
    with pytest.raises(ValueError, match=r"m \(40\) cannot exceed n_perm \(32\)"):
        ContainmentLSH(n_perm=32, m=40).fit([words])


def weighted_vectors(seed=0):
    rng = np.random.default_rng(seed)
    base = rng.gamma(1.0, 2.0, (30, 80)) * (rng.random((30, 80)) < 0.4)
    noisy = base * rng.uniform(0.3, 1.7, base.shape) * (rng.random(base.shape) < 0.9)
    X = np.vstack([base, noisy])
    X[X.sum(axis=1) == 0, 0] = 1.0
    return X


def test_weighted_minhash_estimates_weighted_jaccard():
    X = weighted_vectors()
    n_perm = 256
    signatures = WeightedMinHasher(n_perm=n_perm, seed=3).fit_transform(sp.csr_matrix(X))
    first, second = np.triu_indices(len(X), k=1)
    exact = np.minimum(X[first], X[second]).sum(axis=1) / np.maximum(X[first], X[second]).sum(axis=1)
    estimate = weighted_jaccard_from_signatures(signatures[first], signatures[second])
    standard_error = np.sqrt(exact * (1 - exact) / n_perm)
    # Unbiased, within sketch error: the mean error is near 0 and few pairs leave 3 standard errors.
    assert abs((estimate - exact).mean()) < 0.01
    assert np.mean(np.abs(estimate - exact) > 3 * standard_error + 1e-9) < 0.01
    assert exact.max() > 0.3


def test_weighted_minhash_equals_datasketch_both_ways():
    X = weighted_vectors(1)[:8]
    hasher = WeightedMinHasher(n_perm=32, seed=5).fit(X)
    generator = datasketch.WeightedMinHashGenerator(X.shape[1], sample_size=32, seed=5)
    theirs = [generator.minhash(row) for row in X]
    np.testing.assert_array_equal(hasher.transform(X), [m.hashvalues for m in theirs])
    np.testing.assert_array_equal(hasher.transform(theirs), hasher.transform(X))
    ours = hasher.to_datasketch(X)
    assert ours == theirs
    assert ours[0].jaccard(ours[1]) == weighted_jaccard_from_signatures(
        hasher.transform(X[:1]), hasher.transform(X[1:2]))[0]


def test_weighted_minhash_errors():
    hasher = WeightedMinHasher(n_perm=8).fit(np.ones((2, 3)))
    with pytest.raises(ValueError, match="all zero .*row 1"):
        hasher.transform(np.array([[1.0, 0, 0], [0, 0, 0]]))
    with pytest.raises(ValueError, match="Negative values"):
        hasher.transform(np.array([[1.0, -1.0, 0]]))
    with pytest.raises(ValueError, match="seed=2"):
        hasher.transform([datasketch.WeightedMinHashGenerator(3, 8, seed=2).minhash([1.0, 1, 1])])

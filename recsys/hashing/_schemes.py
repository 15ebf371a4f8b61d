"""datasketch's MinHash permutation schemes, applied to whole arrays of token hashes.

Every function here reproduces, value for value, what ``datasketch.MinHash``
2.x computes for one token, so signatures move freely between the libraries:

- ``"affine32"`` (datasketch's default since 2.0): ``sha1_hash32`` of the token,
  pre-mixed by the 32-bit MurmurHash3 finalizer, then ``a * h + b mod 2**32``
  with odd ``a``; values are uint32.
- ``"affine64"``: the same over ``sha1_hash64`` and 64-bit words; uint64.
- ``"legacy"`` (datasketch < 2.0): ``((a * h + b) mod 2**64) mod (2**61 - 1)``
  truncated to 32 bits, stored as uint64. The ``mod 2**64`` is numpy's uint64
  wrap-around, which datasketch relies on too.
"""

import hashlib

import numpy as np

SCHEMES = ("affine32", "affine64", "legacy")

_MERSENNE_PRIME = np.uint64((1 << 61) - 1)
_LOW_32_BITS = np.uint64((1 << 32) - 1)

_DTYPES = {"affine32": np.uint32, "affine64": np.uint64, "legacy": np.uint64}
_WIDTHS = {"affine32": 32, "affine64": 64, "legacy": 32}
_FMIX_CONSTANTS = {
    32: (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16),
    64: (33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33),
}


def signature_dtype(scheme):
    """The unsigned integer dtype of signatures under scheme."""
    return np.dtype(_DTYPES[scheme])


def empty_value(scheme):
    """The signature value of an empty set (datasketch's initial hash value)."""
    if scheme == "legacy":
        return np.uint64(_LOW_32_BITS)
    return np.iinfo(_DTYPES[scheme]).max


def make_permutations(n_perm, seed, scheme):
    """Return the (a, b) permutation parameters datasketch draws from seed."""
    generator = np.random.RandomState(seed)
    if scheme == "legacy":
        # datasketch draws a and b alternately, one pair per permutation.
        pairs = [(generator.randint(1, _MERSENNE_PRIME, dtype=np.uint64),
                  generator.randint(0, _MERSENNE_PRIME, dtype=np.uint64)) for _ in range(n_perm)]
        return np.array(pairs, dtype=np.uint64).T.copy()
    width, dtype = _WIDTHS[scheme], _DTYPES[scheme]
    a = generator.randint(0, 1 << (width - 1), n_perm, dtype=dtype) * dtype(2) + dtype(1)
    b = generator.randint(0, 1 << width, n_perm, dtype=dtype)
    return np.array([a, b])


def hash_tokens(tokens, scheme):
    """sha1 hashes (datasketch's ``sha1_hash32`` or ``sha1_hash64``) of byte strings."""
    n_bytes = 8 if scheme == "affine64" else 4
    digests = b"".join(hashlib.sha1(token).digest()[:n_bytes] for token in tokens)
    return np.frombuffer(digests, dtype="<u8" if n_bytes == 8 else "<u4").astype(_DTYPES[scheme])


def _fmix(values, width):
    shift1, multiplier1, shift2, multiplier2, shift3 = (
        np.dtype(f"uint{width}").type(c) for c in _FMIX_CONSTANTS[width])
    values = values ^ (values >> shift1)
    values = values * multiplier1
    values = values ^ (values >> shift2)
    values = values * multiplier2
    return values ^ (values >> shift3)


def permute(token_hashes, permutations, scheme):
    """Permuted hash values of shape (n_tokens, n_perm) for 1-d token hashes."""
    a, b = permutations
    if scheme == "legacy":
        column = token_hashes.astype(np.uint64)[:, None]
        return ((column * a + b) % _MERSENNE_PRIME) & _LOW_32_BITS
    mixed = _fmix(token_hashes.astype(_DTYPES[scheme]), _WIDTHS[scheme])
    return mixed[:, None] * a + b

"""Texts per second of TransformerEmbedder against sentence-transformers' ``encode`` on the same model.

Both embed the same texts with the same batch size and torch thread count, on CPU unless --device says
otherwise; each is timed --repeats times after a warm-up and its best run is kept. The goal is to stay
within 10% of sentence-transformers. The texts are MovieLens latest-small titles, genres and tags when
RECSYS_DATA_HOME holds it, else generated sentences of similar lengths.

    HF_HUB_OFFLINE=1 RECSYS_DATA_HOME=/work/shared/data python benchmarks/text_embedder_speed.py \
        --n 2000 --batch-size 32 --threads 1
"""

import argparse
import os
import time
from pathlib import Path

import numpy as np


def movie_texts(n):
    home = os.environ.get("RECSYS_DATA_HOME")
    folder = Path(home) / "ml-latest-small" if home else None
    if folder is None or not (folder / "movies.csv").is_file():
        return None
    import pandas as pd

    movies = pd.read_csv(folder / "movies.csv")
    tags = pd.read_csv(folder / "tags.csv").groupby("movieId")["tag"].agg(lambda t: " ".join(map(str, t)))
    texts = (movies["title"] + " " + movies["genres"].str.replace("|", " ") + " "
             + movies["movieId"].map(tags).fillna("")).str.strip()
    return texts.tolist()[:n]


def generated_texts(n, seed=0):
    rng = np.random.default_rng(seed)
    words = [f"word{i}" for i in range(2000)]
    return [" ".join(rng.choice(words, size=rng.integers(4, 40))) for _ in range(n)]


def best_seconds(encode, texts, repeats):
    encode(texts[:64])  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        encode(texts)
        times.append(time.perf_counter() - start)
    return min(times)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="texts embedded per run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)

    import torch
    from sentence_transformers import SentenceTransformer

    from recsys.neural import TransformerEmbedder
    from recsys.neural._text import shipped_model_path

    if args.threads:
        torch.set_num_threads(args.threads)
    texts = movie_texts(args.n)
    source = "MovieLens latest-small titles+genres+tags"
    if texts is None:
        texts, source = generated_texts(args.n), "generated sentences"
    ours = TransformerEmbedder(batch_size=args.batch_size, device=args.device).fit()
    theirs = SentenceTransformer(str(shipped_model_path()), device=args.device)

    ours_s = best_seconds(ours.transform, texts, args.repeats)
    theirs_s = best_seconds(lambda t: theirs.encode(t, batch_size=args.batch_size), texts, args.repeats)
    difference = np.abs(ours.transform(texts[:256]) - theirs.encode(texts[:256], batch_size=args.batch_size)).max()
    print(f"{len(texts)} texts ({source}), batch {args.batch_size}, torch threads {torch.get_num_threads()}, "
          f"device {args.device}, best of {args.repeats}")
    print(f"TransformerEmbedder.transform    {len(texts) / ours_s:8.1f} texts/s")
    print(f"SentenceTransformer.encode       {len(texts) / theirs_s:8.1f} texts/s")
    print(f"ratio (ours / sentence-transformers) {theirs_s / ours_s:.3f}; max |difference| {difference:.2e}")


if __name__ == "__main__":
    main()

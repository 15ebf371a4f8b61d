"""Recall@10 against queries per second of the faiss indexes behind ``retrieval=``, and the overhead of
FaissNearestNeighbors over raw faiss in the same run: ``recsys-bench ann`` (recsys/bench/_ann.py) as a script.

    RECSYS_DATA_HOME=/work/shared/data python benchmarks/faiss_ann.py --sets ml-1m \
        --output /tmp/ann-ml1m.md --plot /tmp/ann-ml1m.png
    python benchmarks/faiss_ann.py --sets generated --n 1000000 --queries 500 --indexes flat,ivf \
        --ivf-lists 1024 --output /tmp/ann-1m.md --plot /tmp/ann-1m.png
"""

import sys

from recsys.bench.cli import main

if __name__ == "__main__":
    sys.exit(main(["ann", *sys.argv[1:]]))

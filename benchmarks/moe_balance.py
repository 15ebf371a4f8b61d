"""Expert load balance of SASRec's mixture-of-experts feed-forward, with and without the auxiliary loss.

The issue's goal: with the Switch load-balancing loss, every expert's share of the routed tokens lies
in [0.5/E, 2/E]; without it, report what happens. A ``SequentialRecommender`` with ``ffn="moe"``
(top-2 routing) is fitted on MovieLens 100K's time-ordered histories for each number of experts E and
each load-balancing coefficient; after ``fit``, ``expert_utilization_`` (the share of routed token
assignments each expert of each layer received during the last epoch) is printed per layer, with
whether every share lies in the band. No validation slice, so every run trains the same epochs.

    RECSYS_DATA_HOME=/work/shared/data nice -n 10 python benchmarks/moe_balance.py \
        [--experts 4 8] [--coefs 0.01 0] [--epochs 5] [--z-loss 0.001]
"""

import argparse
import time

import numpy as np
import torch


def band_holds(shares, n_experts):
    """Whether every share lies in [0.5/E, 2/E]."""
    return bool(np.all((shares >= 0.5 / n_experts) & (shares <= 2.0 / n_experts)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experts", type=int, nargs="+", default=[4, 8])
    parser.add_argument("--coefs", type=float, nargs="+", default=[0.01, 0.0],
                        help="load-balancing coefficients (moe_aux_loss_coef)")
    parser.add_argument("--z-loss", type=float, default=0.001, help="router_z_loss_coef")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--max-len", type=int, default=50)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from recsys.datasets import load_movielens
    from recsys.neural import SASRecConfig, SequentialRecommender

    data = load_movielens("100k", download=False)
    print(f"ml-100k: {data.n_users} users, {data.n_items} items, {len(data)} events; {args.epochs} epochs, "
          f"hidden {args.hidden}, {args.layers} layers, max_len {args.max_len}, top-2 routing, "
          f"z-loss {args.z_loss}, seed {args.seed}")
    rows = []
    for n_experts in args.experts:
        for coef in args.coefs:
            config = SASRecConfig(hidden_size=args.hidden, n_layers=args.layers, n_heads=2,
                                  intermediate_size=2 * args.hidden, ffn="moe", n_experts=n_experts,
                                  moe_top_k=2, moe_aux_loss_coef=coef, router_z_loss_coef=args.z_loss)
            model = SequentialRecommender(config, max_len=args.max_len, epochs=args.epochs, batch_size=128,
                                          validation_fraction=0.0, random_state=args.seed)
            start = time.perf_counter()
            model.fit(data)
            seconds = time.perf_counter() - start
            shares = model.expert_utilization_
            for layer, layer_shares in enumerate(shares):
                rows.append((n_experts, coef, layer, layer_shares, band_holds(layer_shares, n_experts),
                             model.history_[-1]["loss"], seconds))
                print(f"E={n_experts} coef={coef:g} layer {layer}: shares "
                      + " ".join(f"{share:.3f}" for share in layer_shares)
                      + f" (min {layer_shares.min() * n_experts:.2f}/E, max {layer_shares.max() * n_experts:.2f}/E),"
                      f" in band: {band_holds(layer_shares, n_experts)}; final loss {model.history_[-1]['loss']:.4f},"
                      f" fit {seconds:.0f} s", flush=True)

    print("\n| E | load-balancing coef | layer | expert shares | min x E | max x E | all in [0.5/E, 2/E] |")
    print("|---|---|---|---|---|---|---|")
    for n_experts, coef, layer, layer_shares, holds, _, _ in rows:
        print(f"| {n_experts} | {coef:g} | {layer} | {' '.join(f'{share:.3f}' for share in layer_shares)} | "
              f"{layer_shares.min() * n_experts:.2f} | {layer_shares.max() * n_experts:.2f} | "
              f"{'yes' if holds else 'no'} |")


if __name__ == "__main__":
    main()

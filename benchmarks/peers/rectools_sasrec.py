"""Peer runner: RecTools' SASRecModel on a leave-last-out split written to disk by sequential_peers.py.

Runs inside its own virtualenv (RecTools 0.19 pins numpy < 2, recsys needs numpy 2):

    python -m venv /work/venvs/rectools
    /work/venvs/rectools/bin/pip install torch==2.13.0 "rectools[torch]==0.19.0"

and is started by ``benchmarks/sequential_peers.py`` (never by hand, though it can be):

    /work/venvs/rectools/bin/python benchmarks/peers/rectools_sasrec.py SPLIT_DIR OUT_DIR PARAMS_JSON

SPLIT_DIR holds ``train.csv`` (user, item, position: every user's training events in the order
recsys' SequentialRecommender reads them) and ``users.npy`` (the users to recommend for). The runner
trains on the events with ``position`` as the time, so RecTools sees the very same sequences, recommends
the top ``k`` items per user over the whole catalogue with the user's seen items filtered
(``filter_viewed=True``), and writes ``ids.npy`` (users x k item indices, -1 padded) and ``meta.json``
(per-epoch seconds and training loss, peak RSS). recsys is not imported here.
"""

import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
from _memory import (  # benchmarks/peers/_memory.py, beside this script
    peak_rss,
    reset_peak,
)


def main(split_dir, out_dir, params):
    import torch
    from pytorch_lightning import Callback, Trainer, seed_everything
    from rectools import Columns
    from rectools.dataset import Dataset
    from rectools.models import SASRecModel
    from rectools.models.nn.item_net import IdEmbeddingsItemNet

    torch.set_num_threads(params["threads"])
    seed_everything(params["random_state"], workers=True)
    split_dir, out_dir = Path(split_dir), Path(out_dir)
    train = pd.read_csv(split_dir / "train.csv")
    users = np.load(split_dir / "users.npy")
    # The global row number as the time: strictly increasing within each user in recsys' order.
    interactions = pd.DataFrame({Columns.User: train["user"].to_numpy(), Columns.Item: train["item"].to_numpy(),
                                 Columns.Weight: 1.0,
                                 Columns.Datetime: pd.to_datetime(np.arange(len(train)), unit="s")})
    dataset = Dataset.construct(interactions)

    epochs = []

    class EpochTimer(Callback):
        """Wall time and mean training loss of each epoch (RecTools logs train_loss per epoch)."""

        def on_train_epoch_start(self, trainer, pl_module):
            self.started = time.perf_counter()

        def on_train_epoch_end(self, trainer, pl_module):
            loss = trainer.callback_metrics.get("train_loss")
            epochs.append({"seconds": time.perf_counter() - self.started,
                           "loss": None if loss is None else float(loss)})

    class CosineDecay(Callback):
        """recsys' lr_schedule="cosine" (transformers' cosine schedule, no warm-up): RecTools' SASRec keeps
        Adam's rate constant and takes no scheduler, so the rate is set before every step."""

        def on_train_batch_start(self, trainer, pl_module, batch, batch_idx):
            progress = trainer.global_step / trainer.estimated_stepping_batches
            for group in trainer.optimizers[0].param_groups:
                group["lr"] = params["lr"] * 0.5 * (1.0 + math.cos(math.pi * progress))

    schedule = params.get("lr_schedule", "constant")  # absent in params files written before the option
    if schedule not in ("constant", "cosine"):
        raise ValueError(f"the peer runner knows the constant and cosine schedules, not {schedule!r}")
    callbacks = [EpochTimer()] + ([CosineDecay()] if schedule == "cosine" else [])

    def trainer():
        return Trainer(max_epochs=params["epochs"], min_epochs=params["epochs"], deterministic=True,
                       enable_progress_bar=False, enable_model_summary=False, logger=False,
                       enable_checkpointing=False, accelerator="cpu", devices=1, callbacks=callbacks)

    loss = {"bce": "BCE", "gbce": "gBCE", "ce": "softmax"}[params["loss"]]
    model = SASRecModel(
        n_blocks=params["n_layers"], n_heads=params["n_heads"], n_factors=params["hidden_size"],
        dropout_rate=params["dropout"], session_max_len=params["max_len"], loss=loss,
        n_negatives=params.get("n_negatives", 1), gbce_t=params.get("gbce_t", 0.2), lr=params["lr"],
        batch_size=params["batch_size"], epochs=params["epochs"], deterministic=True,
        item_net_block_types=(IdEmbeddingsItemNet,),  # item ids only, as recsys' model
        get_trainer_func=trainer, recommend_torch_device="cpu",
    )
    rss_before = reset_peak()
    started = time.perf_counter()
    model.fit(dataset)
    fitted = time.perf_counter()
    recommendations = model.recommend(users=users, dataset=dataset, k=params["k"], filter_viewed=True)
    recommended = time.perf_counter()
    ids = np.full((len(users), params["k"]), -1, dtype=np.int64)
    row = pd.Series(np.arange(len(users)), index=users)
    ids[row[recommendations[Columns.User]].to_numpy(), recommendations[Columns.Rank].to_numpy() - 1] = \
        recommendations[Columns.Item].to_numpy()
    np.save(out_dir / "ids.npy", ids)
    peak = peak_rss()
    meta = {"fit_seconds": fitted - started, "recommend_seconds": recommended - fitted, "epochs": epochs,
            "peak_rss": peak, "rss_before_fit": rss_before, "torch_threads": torch.get_num_threads(),
            "library": f"rectools {__import__('rectools').__version__}, torch {torch.__version__}, "
                       f"numpy {np.__version__}"}
    (out_dir / "meta.json").write_text(json.dumps(meta, indent=1))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], json.loads(Path(sys.argv[3]).read_text()))

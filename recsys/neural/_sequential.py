"""SequentialRecommender: a recsys recommender that trains and serves a SASRecModel."""

import copy
import math
import time
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted
from transformers import get_scheduler

from recsys.metrics import ndcg_at_k
from recsys.neural._dpo import PreferenceTuningMixin
from recsys.neural._lora import SequentialFineTuneMixin
from recsys.neural._persistence import TorchModelPersistenceMixin
from recsys.neural._sasrec import LOSSES, PAD_TOKEN, SASRecConfig, SASRecModel
from recsys.utils import check_item_indices, check_positive_int, top_k

#: Events a user needs to lend one to the validation slice: a target and two to learn from.
_MIN_VALIDATION_EVENTS = 3

#: Fewest users in a validation slice (when half the eligible users allow it). NDCG@10 of one held-out
#: target per user is noisy: on ~90 users (10 % of ml-100k) its standard error, about 0.012, exceeded the
#: gain of an epoch, and patience 3 stopped SASRec at epoch 8 with its training loss still falling.
_MIN_VALIDATION_USERS = 256

#: Scores held at once by recommend (float64 values: 32 MB), in blocks of whole histories.
_SCORE_BLOCK_VALUES = 2**22

#: Early stopping compares the mean validation NDCG@10 of the last this-many epochs, not single epochs,
#: so that one lucky epoch does not start the patience count against every later, truly better one.
_SMOOTHING_EPOCHS = 3

#: Learning-rate schedules over the training steps (``transformers.get_scheduler`` names, no warm-up).
LR_SCHEDULES = ("constant", "linear", "cosine")


class SequentialRecommender(SequentialFineTuneMixin, PreferenceTuningMixin, TorchModelPersistenceMixin, BaseEstimator):
    """Next-item recommendation with SASRec, trained on time-ordered histories.

    ``fit`` takes an :class:`~recsys.datasets.Interactions` with timestamps:
    each user's events are ordered by time, ties in the order of the rows
    the ``Interactions`` was built from (its ``input_order``; see
    :meth:`~recsys.datasets.Interactions.time_order`).
    The model learns to predict each event from the ones before it, on the
    most recent ``max_len + 1`` events of every user with at least two.

    ``recommend`` serves histories, folded in like every recsys recommender:
    an ``Interactions`` with timestamps holding the users' histories (its
    item ids are matched to those of fit; the model reads the most recent
    ``max_len`` events of each history, and ``exclude_seen`` excludes every
    item of it), or a list of item-index sequences in time
    order (each at most ``max_len`` long). A users x items matrix is refused
    with a TypeError: it holds no order, and a sequence model fed an
    arbitrary order would give meaningless scores without saying so.

    Parameters
    ----------
    config : SASRecConfig, default=None
        The architecture; ``SASRecConfig()`` by default. Its ``n_items`` may
        be None (set from the data); otherwise it must equal the number of
        items of the data. The config is copied, never modified.
    max_len, loss, n_negatives : default=None
        Override the config's (200, ``"ce"``, 256 by default): the longest
        history read, the loss (``"ce"``, ``"bce"`` or ``"gbce"``) and the
        negatives sampled for gBCE.
    epochs : int, default=20
        Most passes over the training sequences.
    batch_size : int, default=128
    lr : float, default=1e-3
        Adam's learning rate at the first step.
    lr_schedule : {"constant", "linear", "cosine"}, default="constant"
        How the learning rate changes over the ``epochs``: kept, or lowered
        after every batch to 0 at the last step (``transformers.get_scheduler``'s
        schedules of these names, without warm-up). A run that early
        stopping ends is not stretched: it stops at a higher rate. For
        gSASRec over 40 epochs (benchmarks/RESULTS.md) the cosine decay is a
        trade, hence not the default: NDCG@10 +4 % on MovieTweetings, whose
        short histories a constant rate overfits after about 25 epochs,
        -1 % on ml-100k, and -9 % on ml-1m-partial (one seed), which is
        still improving at epoch 40.
    weight_decay : float, default=0.0
    validation_fraction : float, default=0.1
        Share of the users with at least 3 events whose last event is held
        out of training to measure NDCG@10 after each epoch, but at least
        256 users (or half of those users, when there are fewer than 512):
        one target per user makes NDCG@10 of a small slice too noisy to stop
        on. 0 trains all ``epochs`` on every event.
    patience : int, default=10
        Stop after this many epochs without a better smoothed validation
        NDCG@10 (its mean over the last 3 epochs, so that one lucky epoch
        neither stops the training nor is kept), and keep the weights of the
        epoch that ended the best 3-epoch window. Late in training an epoch
        gains far less than the noise of a few hundred validation targets
        (patience 5 stopped SASRec on ml-100k at epoch 16, test NDCG@10
        0.040 against 0.064 after 40 epochs): be generous, or set
        ``validation_fraction=0`` and a fixed number of ``epochs``.
    device : str or torch.device, default="auto"
        ``"auto"`` uses CUDA when it is available, else the CPU.
    random_state : int, RandomState instance or None, default=None
        Seeds the initialisation, dropout, negative sampling, shuffling and
        the validation slice (torch's global generator is left untouched).
    verbose : int, default=0
        Print epoch, training loss and validation NDCG@10 after each epoch,
        and the expert utilisation of a mixture-of-experts model.

    Attributes
    ----------
    model_ : SASRecModel
        The trained model, in eval mode.
    item_ids_, user_ids_ : ndarray
        The vocabularies of the training ``Interactions``.
    n_items_, n_users_ : int
    history_ : list of dict
        Per epoch: ``epoch``, ``loss`` (mean training loss), ``val_ndcg``
        (None without a validation slice), ``lr`` (the learning rate of the
        epoch's first step), ``seconds`` (wall time of the training pass,
        validation excluded).
    best_epoch_ : int
        The epoch whose weights were kept: the last one without early
        stopping, or when fewer epochs than one smoothing window were run.
    expert_utilization_ : ndarray of shape (n_layers, n_experts) or None
        For ``ffn="moe"``: the share of routed tokens each expert of each
        layer received during the last epoch (1 / n_experts each when
        perfectly balanced); None for a dense model.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from recsys.datasets import Interactions
    >>> from recsys.neural import SASRecConfig, SequentialRecommender
    >>> events = pd.DataFrame({"user": np.repeat(np.arange(20), 5),
    ...                        "item": (np.arange(100) % 5 + np.repeat(np.arange(20), 5)) % 12,
    ...                        "time": np.tile(np.arange(5), 20)})
    >>> data = Interactions.from_pandas(events, time_col="time")
    >>> config = SASRecConfig(hidden_size=16, n_layers=1, n_heads=1, intermediate_size=16)
    >>> model = SequentialRecommender(config, epochs=2, random_state=0).fit(data)
    >>> ids, scores = model.recommend([[0, 1, 2], [5]], n=3)
    >>> ids.shape
    (2, 3)
    """

    #: save/load rebuild model_ from its config and weights (TorchModelPersistenceMixin)
    _torch_model_class = SASRecModel
    # load's checks of the saved arrays (recsys.utils PersistenceMixin, TorchModelPersistenceMixin)
    _fitted_shapes: ClassVar[dict] = {"item_ids_": ("n_items_",), "user_ids_": ("n_users_",)}
    _fitted_unique = ("item_ids_", "user_ids_")
    _config_shaped_attributes: ClassVar[dict] = {"expert_utilization_": ("n_layers", "n_experts")}

    _parameter_constraints: dict = {  # noqa: RUF012 (scikit-learn's declared form)
        "config": [SASRecConfig, None],
        "max_len": [Interval(Integral, 1, None, closed="left"), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "lr_schedule": [StrOptions(set(LR_SCHEDULES))],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions(set(LOSSES)), None],
        "n_negatives": [Interval(Integral, 1, None, closed="left"), None],
        "validation_fraction": [Interval(Real, 0, 1, closed="left")],
        "patience": [Interval(Integral, 1, None, closed="left")],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    # Keyword-only after config, as scikit-learn does, so that a parameter added later (lr_schedule was)
    # can take its place in the list without shifting what a positional call meant.
    def __init__(self, config=None, *, max_len=None, epochs=20, batch_size=128, lr=1e-3, lr_schedule="constant",
                 weight_decay=0.0, loss=None, n_negatives=None, validation_fraction=0.1, patience=10,
                 device="auto", random_state=None, verbose=0):
        self.config = config
        self.max_len = max_len
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr = lr
        self.lr_schedule = lr_schedule
        self.weight_decay = weight_decay
        self.loss = loss
        self.n_negatives = n_negatives
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ fit
    def fit(self, X, y=None):
        """Train on time-ordered histories.

        Parameters
        ----------
        X : Interactions
            Events with timestamps.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        self._validate_params()
        _check_interactions(X, "fit")
        sequences = _time_ordered_histories(X)
        config = self._fitted_config(X.n_items)
        device = _resolve_device(self.device)
        random_state = check_random_state(self.random_state)
        rng = np.random.default_rng(random_state.randint(2**31))
        train_sequences, val_histories, val_targets = _validation_slice(
            sequences, self.validation_fraction, X.n_items, rng)
        inputs, labels = _training_windows(train_sequences, config.max_len)
        if not inputs:
            raise ValueError("no user has 2 or more events: a sequential model learns from what follows "
                             "what. Give it histories of at least 2 events.")
        torch_seed = int(rng.integers(2**31))
        fork_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(torch_seed)
            model = SASRecModel(config).to(device)
            self._train(model, inputs, labels, val_histories, val_targets, rng, device)
        model.eval()
        self.model_ = model
        self.n_items_, self.n_users_ = X.n_items, X.n_users
        self.item_ids_, self.user_ids_ = np.asarray(X.item_ids), np.asarray(X.user_ids)
        if self.verbose and self.expert_utilization_ is not None:
            print("expert utilisation (rows: layers):\n" + np.array2string(self.expert_utilization_, precision=3))
        return self

    def _fitted_config(self, n_items):
        config = SASRecConfig() if self.config is None else copy.deepcopy(self.config)
        if config.n_items is not None and config.n_items != n_items:
            raise ValueError(f"config.n_items is {config.n_items} but the data has {n_items} items; set "
                             "config.n_items=None to take it from the data, or fit on the data it was made for.")
        config.n_items = n_items
        for name in ("max_len", "loss", "n_negatives"):
            if getattr(self, name) is not None:
                setattr(config, name, getattr(self, name))
        config.check()
        return config

    def _train(self, model, inputs, labels, val_histories, val_targets, rng, device):
        optimizer = torch.optim.Adam(model.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        scheduler = get_scheduler(self.lr_schedule, optimizer, num_warmup_steps=0,
                                  num_training_steps=self.epochs * math.ceil(len(inputs) / self.batch_size))
        generator = torch.Generator(device=device).manual_seed(int(rng.integers(2**31)))
        self.history_, best_state = [], None
        stopping = _EarlyStopping(self.patience)
        self.best_epoch_ = self.epochs
        moe = model.config.ffn == "moe"
        for epoch in range(1, self.epochs + 1):
            model.train()
            started = time.perf_counter()
            epoch_lr = scheduler.get_last_lr()[0]
            order = rng.permutation(len(inputs))
            total, expert_counts = 0.0, 0
            for start in range(0, len(order), self.batch_size):
                batch = order[start:start + self.batch_size]
                input_ids = _left_padded([inputs[i] for i in batch], device)
                output = model(input_ids, attention_mask=input_ids != PAD_TOKEN,
                               labels=_left_padded([labels[i] for i in batch], device),
                               return_logits=False, generator=generator)
                optimizer.zero_grad()
                output.loss.backward()
                optimizer.step()
                scheduler.step()
                total += output.loss.item() * len(batch)
                if moe:
                    expert_counts = expert_counts + output.expert_counts.cpu().numpy()
            record = {"epoch": epoch, "loss": total / len(inputs), "val_ndcg": None, "lr": epoch_lr,
                      "seconds": time.perf_counter() - started}
            if moe:
                self.expert_utilization_ = expert_counts / np.maximum(expert_counts.sum(axis=1, keepdims=True), 1)
            if val_targets is not None:
                model.eval()
                ids, _ = self._rank(model, val_histories, 10, True, None, device)
                record["val_ndcg"] = float(ndcg_at_k(val_targets, ids, k=10))
            self.history_.append(record)
            if self.verbose:
                validation = "" if record["val_ndcg"] is None else f", validation NDCG@10 {record['val_ndcg']:.4f}"
                print(f"epoch {epoch}/{self.epochs}: loss {record['loss']:.4f}{validation}")
            if val_targets is None:
                continue
            best, stop = stopping.update(record["val_ndcg"])
            if best:
                self.best_epoch_ = epoch
                best_state = {name: value.detach().clone() for name, value in model.state_dict().items()}
            if stop:
                break
        if best_state is not None:
            model.load_state_dict(best_state)
        if not moe:
            self.expert_utilization_ = None

    # ------------------------------------------------------------------ recommend
    def recommend(self, X, n=10, exclude_seen=True, items=None, *, users=None, temperature=None,
                  random_state=None):
        """Recommend the n best next items after each history.

        Parameters
        ----------
        X : Interactions or list of sequences
            The histories to serve: an ``Interactions`` with timestamps in
            the item ids of fit (one row per user of its vocabulary, or of
            ``users``; the model reads the last ``max_len`` events of each,
            ``exclude_seen`` excludes all of them), or a
            list of sequences of item indices in time order, each of 1 to
            ``max_len`` items.
        n : int, default=10
        exclude_seen : bool, default=True
            Never recommend an item of the history.
        items : array-like of int, default=None
            Recommend only among these item indices.
        users : array-like of user ids, default=None
            With an ``Interactions``: the users to serve, in this order.
        temperature : float, default=None
            None ranks by score (arg-max top n). A positive temperature
            instead samples n distinct items with probabilities
            softmax(scores / temperature) (Gumbel top-k): higher gives more
            diverse lists. The ids are then in sampling order and the scores
            are the model's scores of those items, not sorted.
        random_state : int, Generator or None, default=None
            Seeds the sampling (``numpy.random.default_rng``).

        Returns
        -------
        ids : ndarray of shape (n_rows, n), int64
            Item indices, -1 where fewer than n items could be recommended.
        scores : ndarray of shape (n_rows, n)
            Their scores, -inf where the id is -1.
        """
        check_is_fitted(self, "model_")
        check_positive_int(n, "n")
        allowed = None
        if items is not None:
            allowed = np.zeros(self.n_items_, dtype=bool)
            allowed[check_item_indices(items, self.n_items_)] = True
        if temperature is not None and (isinstance(temperature, bool) or not isinstance(temperature, Real)
                                        or not np.isfinite(temperature) or temperature <= 0):
            raise ValueError(f"temperature must be a positive number, or None to rank by score; got {temperature!r}.")
        histories = self._histories(X, users)
        device = next(self.model_.parameters()).device
        return self._rank(self.model_, histories, n, exclude_seen, allowed, device,
                          temperature=temperature, rng=np.random.default_rng(random_state))

    def _rank(self, model, histories, n, exclude_seen, allowed, device, temperature=None, rng=None):
        """Top-n (or sampled n) items after each history, a block of histories at a time.

        A block's scores are ranked before the next block is scored, so that
        memory stays at about 32 MB of scores whatever the number of histories
        (all of MovieTweetings' 4,692 users x 9,674 items at once took 1.6 GB).
        """
        n_items = model.config.n_items
        block = max(self.batch_size, _SCORE_BLOCK_VALUES // n_items)
        parts = [self._rank_block(model, histories[start:start + block], n, exclude_seen, allowed, device,
                                  temperature, rng)
                 for start in range(0, len(histories), block)]
        if not parts:
            return np.empty((0, n), dtype=np.int64), np.empty((0, n))
        return np.concatenate([ids for ids, _ in parts]), np.concatenate([scores for _, scores in parts])

    def _rank_block(self, model, histories, n, exclude_seen, allowed, device, temperature, rng):
        scores = self._score(model, histories, device)
        if allowed is not None:
            scores[:, ~allowed] = -np.inf
        exclude = _history_matrix(histories, scores.shape[1]) if exclude_seen else None
        if temperature is None:
            return top_k(scores, n, exclude=exclude)
        keys = scores / temperature + rng.gumbel(size=scores.shape)
        ids, _ = top_k(keys, n, exclude=exclude)
        picked = np.take_along_axis(scores, np.maximum(ids, 0), axis=1)
        return ids, np.where(ids >= 0, picked, -np.inf)

    def _score(self, model, histories, device):
        scores = np.empty((len(histories), model.config.n_items), dtype=np.float64)
        with torch.inference_mode():
            for start in range(0, len(histories), self.batch_size):
                # The model reads the most recent max_len items; exclude_seen covers the whole history.
                window = [history[-model.config.max_len:] + 1 for history in histories[start:start + self.batch_size]]
                input_ids = _left_padded(window, device)
                block = model.last_item_scores(input_ids, attention_mask=input_ids != PAD_TOKEN)
                scores[start:start + len(input_ids)] = block.float().cpu().numpy()
        return scores

    def _histories(self, X, users):
        """The histories of recommend's input as int64 item-index arrays, checked."""
        max_len = self.model_.config.max_len
        if isinstance(X, (list, tuple)):
            if users is not None:
                raise ValueError("users= selects users of an Interactions; a list of sequences has none.")
            return [_check_sequence(sequence, row, self.n_items_, max_len) for row, sequence in enumerate(X)]
        _check_interactions(X, "recommend")
        column = pd.Index(self.item_ids_).get_indexer(np.asarray(X.item_ids))
        used = np.unique(X.items)
        unknown = used[column[used] < 0]
        if len(unknown):
            raise ValueError(f"{len(unknown)} item id(s) of X are outside the vocabulary of fit, e.g. "
                             f"{np.asarray(X.item_ids)[unknown[:5]].tolist()}; leave their events out "
                             "(X.subset(items=...)) before recommending.")
        sequences = _time_ordered_histories(X)
        if users is None:
            rows = np.arange(X.n_users)
        else:
            rows = np.asarray(X.user_index(users))
            if (rows < 0).any():
                raise KeyError(f"user id(s) {np.asarray(users).ravel()[rows < 0][:5].tolist()} are not in X.")
        empty = [row for row in rows if len(sequences[row]) == 0]
        if empty:
            raise ValueError(f"{len(empty)} user(s) have an empty history, e.g. "
                             f"{np.asarray(X.user_ids)[empty[:5]].tolist()}: a sequential model needs at "
                             "least one event to predict the next. Pass users= with users that have events.")
        return [column[sequences[row]].astype(np.int64) for row in rows]


# ---------------------------------------------------------------------- helpers
def _check_interactions(X, method):
    if sp.issparse(X) or isinstance(X, np.ndarray):
        raise TypeError(
            f"SequentialRecommender.{method} needs the time order of each history, which a users x items "
            "matrix does not hold. Pass a recsys.datasets.Interactions with timestamps"
            + (" or a list of item-index sequences in time order." if method == "recommend" else ".")
        )
    if not all(hasattr(X, name) for name in ("users", "items", "timestamps", "item_ids", "user_ids")):
        raise TypeError(f"SequentialRecommender.{method} takes a recsys.datasets.Interactions"
                        + (" or a list of item-index sequences" if method == "recommend" else "")
                        + f"; got {type(X).__name__}.")
    if X.timestamps is None:
        raise ValueError("X has no timestamps: a sequential model needs the time order of the events. "
                         "Build it with Interactions.from_pandas(..., time_col=...).")


def _time_ordered_histories(X):
    """Each user's item indices (user index order), by time, ties in input order (``X.time_order()``)."""
    order = X.time_order()
    users, items = np.asarray(X.users)[order], np.asarray(X.items)[order].astype(np.int64)
    bounds = np.searchsorted(users, np.arange(X.n_users + 1))
    return [items[bounds[user]:bounds[user + 1]] for user in range(X.n_users)]


class _EarlyStopping:
    """Stopping rule on a noisy per-epoch score (higher is better).

    ``update(score)`` returns ``(best, stop)``. The rule reads the mean of
    the last ``_SMOOTHING_EPOCHS`` scores: ``best`` when that mean beats its
    best so far (keep these weights: the model that ends the best window),
    ``stop`` once it has not for ``patience`` epochs. On the raw score one
    lucky epoch would both start the patience count against every later,
    truly better epoch and be the weights kept. The first full window is
    the first candidate: a "mean" of the first one or two epochs is that
    raw score again (a lucky first epoch stopped SASRec on MovieTweetings at
    epoch 11 keeping epoch 1, while its later windows were better).
    """

    def __init__(self, patience):
        self.patience = patience
        self.scores, self.best_smoothed, self.stale = [], -np.inf, 0

    def update(self, score):
        self.scores.append(score)
        if len(self.scores) < _SMOOTHING_EPOCHS:
            return False, False
        smoothed = float(np.mean(self.scores[-_SMOOTHING_EPOCHS:]))
        best = smoothed > self.best_smoothed
        if best:
            self.best_smoothed, self.stale = smoothed, 0
        else:
            self.stale += 1
        return best, self.stale >= self.patience


def _validation_slice(sequences, fraction, n_items, rng):
    """Hold out the last event of a share of the users; return (training sequences, histories, targets).

    A positive fraction holds out at least ``_MIN_VALIDATION_USERS`` users, or
    half the eligible users when there are fewer than twice that.
    """
    eligible = np.flatnonzero([len(sequence) >= _MIN_VALIDATION_EVENTS for sequence in sequences])
    n_validation = round(fraction * len(eligible))
    if fraction > 0:
        n_validation = max(n_validation, min(_MIN_VALIDATION_USERS, len(eligible) // 2))
    if n_validation == 0:
        return sequences, None, None
    chosen = rng.choice(eligible, size=n_validation, replace=False)
    training = list(sequences)
    histories = []
    for user in chosen:
        training[user] = sequences[user][:-1]
        histories.append(sequences[user][:-1])
    targets = sp.csr_matrix((np.ones(n_validation), (np.arange(n_validation),
                                                     [sequences[user][-1] for user in chosen])),
                            shape=(n_validation, n_items))
    return training, histories, targets


def _training_windows(sequences, max_len):
    """(inputs, labels) token arrays: the last max_len + 1 events of each sequence, shifted by one."""
    inputs, labels = [], []
    for sequence in sequences:
        if len(sequence) < 2:
            continue
        window = sequence[-(max_len + 1):] + 1
        inputs.append(window[:-1])
        labels.append(window[1:])
    return inputs, labels


def _left_padded(token_arrays, device):
    """One (batch, longest) tensor of token ids, padded on the left so that the latest token is last."""
    longest = max((len(tokens) for tokens in token_arrays), default=0)
    padded = np.full((len(token_arrays), longest), PAD_TOKEN, dtype=np.int64)
    for row, tokens in enumerate(token_arrays):
        if len(tokens):
            padded[row, longest - len(tokens):] = tokens
    return torch.from_numpy(padded).to(device)


def _history_matrix(histories, n_items):
    rows = np.repeat(np.arange(len(histories)), [len(history) for history in histories])
    columns = np.concatenate(histories) if histories else np.empty(0, dtype=np.int64)
    return sp.csr_matrix((np.ones(len(rows)), (rows, columns)), shape=(len(histories), n_items))


def _check_sequence(sequence, row, n_items, max_len):
    array = np.asarray(sequence)
    if array.ndim != 1:
        raise ValueError(f"sequence {row} must be a 1-d sequence of item indices; got shape {array.shape}.")
    if len(array) == 0:
        raise ValueError(f"sequence {row} is empty: a sequential model needs at least one item to "
                         "predict the next.")
    if len(array) > max_len:
        raise ValueError(f"sequence {row} holds {len(array)} items, more than max_len={max_len}; pass its "
                         f"most recent items, sequence[-{max_len}:].")
    whole_floats = array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array))
    if array.dtype.kind not in "iu" and not whole_floats:
        raise TypeError(f"sequence {row} must hold integer item indices; got dtype {array.dtype}.")
    array = array.astype(np.int64)
    outside = (array < 0) | (array >= n_items)
    if outside.any():
        raise ValueError(f"sequence {row} holds item indices outside the vocabulary [0, {n_items}): "
                         f"{array[outside][:5].tolist()}.")
    return array


def _resolve_device(device):
    if isinstance(device, str) and device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except RuntimeError as error:
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:<n>'; got {device!r}.") from error
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use device='auto' or 'cpu'.")
    return resolved

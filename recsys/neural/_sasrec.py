"""SASRec as a Hugging Face model: causal self-attention over item sequences.

Token ids: 0 is padding and item index ``i`` is token ``i + 1``, so the
vocabulary holds ``n_items + 1`` tokens and the model never predicts padding.
Input and output item embeddings are one matrix (scores are dot products with
the item embeddings, plus a constant offset under gBCE), as in SASRec (Kang &
McAuley 2018).
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PretrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput

PAD_TOKEN = 0
POSITION_ENCODINGS = ("learned", "rope")
POSITION_ORIGINS = ("end", "start")
FFN_KINDS = ("dense", "moe")
LOSSES = ("ce", "bce", "gbce")

#: what a saved config that lacks one of these keys was trained with (each key added after configs were saved)
_BEFORE_OPTIONS_EXISTED = {"position_from": "start", "attention_sink": False}

#: Sampled losses score every item and pick the sampled ones when there are at most this many items per
#: negative (one matrix product beats gathering k embedding rows per position up to about 14k items for
#: k = 256 on one CPU thread, 2026-12-06); above it, and for BCE's single negative, they gather.
_FULL_SCORES_PER_NEGATIVE = 48


def gbce_beta(n_negatives, n_items, t):
    """The exponent gSASRec puts on the positive's sigmoid (Petrov & Macdonald 2023).

    With ``k`` negatives sampled uniformly among the ``|I| - 1`` other items,
    alpha = k / (|I| - 1) and beta = alpha (t (1 - 1/alpha) + 1/alpha); t = 1
    gives beta = alpha (fully calibrated), t = 0 gives beta = 1 (plain BCE).

    Examples
    --------
    >>> from recsys.neural import gbce_beta
    >>> round(gbce_beta(n_negatives=4, n_items=101, t=0.5), 4)
    0.52
    """
    if n_items < 2:
        raise ValueError(f"gBCE needs at least 2 items to sample negatives from; got {n_items}.")
    if not 0.0 <= t <= 1.0:
        raise ValueError(f"the gBCE calibration t must lie in [0, 1]; got {t}.")
    alpha = n_negatives / (n_items - 1)
    return alpha * (t * (1.0 - 1.0 / alpha) + 1.0 / alpha)


class SASRecConfig(PretrainedConfig):
    """Configuration of :class:`SASRecModel`.

    Parameters
    ----------
    n_items : int or None, default=None
        Number of items (token ids 1..n_items; 0 is padding). None only in a
        config handed to :class:`~recsys.neural.SequentialRecommender`, which
        sets it from the data.
    max_len : int, default=200
        Longest sequence the model reads (the size of the learned position
        table).
    hidden_size, n_layers, n_heads, intermediate_size : int
        Width, depth, attention heads and feed-forward width.
    dropout : float, default=0.2
        Dropout on embeddings, attention weights and residual branches.
    position_encoding : {"learned", "rope"}, default="learned"
        A learned position table added to the item embeddings, or rotary
        embeddings applied to queries and keys (``rope_theta`` its base).
    position_from : {"end", "start"}, default="end"
        Where positions are counted from. ``"end"``: the latest item of every
        sequence is at position ``max_len - 1``, the one before at
        ``max_len - 2`` and so on, as if each sequence were left-padded to
        ``max_len`` (the original SASRec, and RecTools): the item the next
        prediction rests on always has the same position embedding, however
        short the history. ``"start"``: the first item is at position 0, so
        appending items never moves earlier ones, but the latest item's
        position varies with the history's length. Rotary embeddings depend
        on offsets only, so for ``"rope"`` both give the same outputs. A
        saved config without this key (written before it existed) loads as
        ``"start"``, the behaviour its weights were trained with.
    attention_sink : bool, default=True
        Whether attention may rest on the empty slots of the ``max_len``
        window. A history of L < max_len items leaves max_len - L slots
        empty; each would be a zero vector, which the block's layer norm
        turns into one learned "nothing here" key and value. With the sink,
        every query also sees that key, weighted as the max_len - L slots
        it stands for (a bias of log(max_len - L) on its attention logit;
        none when the window is full), computed from the count of real
        tokens, so how a batch is padded never matters. It gives attention
        somewhere to go when no earlier item is relevant, and tells the
        model how short the history is (its effect on NDCG@10 is measured
        in benchmarks/RESULTS.md, "Neural pieces"). RecTools and
        SASRec.pytorch get the same by not masking padding keys, and pay
        for attending to every padded slot. A saved config without this key
        (written before it existed) loads as False, the behaviour its
        weights were trained with.
    ffn : {"dense", "moe"}, default="dense"
        The feed-forward block: one MLP, or a mixture of ``n_experts`` MLPs
        of which each token uses ``moe_top_k`` (plus an always-on shared
        expert when ``shared_expert``; not ``top_k``, which transformers
        reserves for generation and refuses to save in a model config). The router adds a Switch-style
        load-balancing loss (``moe_aux_loss_coef``) and a router z-loss
        (``router_z_loss_coef``) to the training loss.
    loss : {"ce", "bce", "gbce"}, default="ce"
        Full softmax cross-entropy; binary cross-entropy with one sampled
        negative (SASRec); gSASRec's generalised BCE with ``n_negatives``
        negatives and calibration ``gbce_t``, whose scores carry the
        constant offset :attr:`SASRecModel.score_offset` (so that training
        starts where the loss wants equal scores to be).
    initializer_range : float, default=0.02
        Standard deviation of the normal initialisation.

    Examples
    --------
    >>> from recsys.neural import SASRecConfig
    >>> SASRecConfig(n_items=100, ffn="moe", n_experts=4).model_type
    'recsys_sasrec'
    """

    model_type = "recsys_sasrec"

    def __init__(
        self,
        n_items=None,
        max_len=200,
        hidden_size=64,
        n_layers=2,
        n_heads=2,
        intermediate_size=256,
        dropout=0.2,
        position_encoding="learned",
        position_from="end",
        rope_theta=10000.0,
        attention_sink=True,
        ffn="dense",
        n_experts=4,
        moe_top_k=2,
        shared_expert=False,
        moe_aux_loss_coef=0.01,
        router_z_loss_coef=0.001,
        loss="ce",
        n_negatives=256,
        gbce_t=0.75,
        initializer_range=0.02,
        layer_norm_eps=1e-6,
        **kwargs,
    ):
        self.n_items = n_items
        self.max_len = max_len
        self.hidden_size = hidden_size
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.intermediate_size = intermediate_size
        self.dropout = dropout
        self.position_encoding = position_encoding
        self.position_from = position_from
        self.rope_theta = rope_theta
        self.attention_sink = attention_sink
        self.ffn = ffn
        self.n_experts = n_experts
        self.moe_top_k = moe_top_k
        self.shared_expert = shared_expert
        self.moe_aux_loss_coef = moe_aux_loss_coef
        self.router_z_loss_coef = router_z_loss_coef
        self.loss = loss
        self.n_negatives = n_negatives
        self.gbce_t = gbce_t
        self.initializer_range = initializer_range
        self.layer_norm_eps = layer_norm_eps
        kwargs.setdefault("pad_token_id", PAD_TOKEN)
        kwargs.setdefault("tie_word_embeddings", False)  # tied by construction: see the module notes
        super().__init__(**kwargs)
        self.check()

    @classmethod
    def from_dict(cls, config_dict, **kwargs):
        """Build a config from a saved dict; keys it lacks take the behaviour its weights were trained with."""
        # Weights saved before an option existed were trained without it (positions counted from the first
        # item, no attention sink): the new defaults would silently give other outputs.
        config_dict = {**_BEFORE_OPTIONS_EXISTED, **config_dict}
        return super().from_dict(config_dict, **kwargs)

    def check(self):
        """Raise ValueError naming the first inconsistent setting."""
        def positive_int(name):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"SASRecConfig.{name} must be a positive integer; got {value!r}.")

        if self.n_items is not None:
            positive_int("n_items")
        for name in ("max_len", "hidden_size", "n_layers", "n_heads", "intermediate_size",
                     "n_experts", "moe_top_k", "n_negatives"):
            positive_int(name)
        choices = {"position_encoding": POSITION_ENCODINGS, "position_from": POSITION_ORIGINS,
                   "ffn": FFN_KINDS, "loss": LOSSES, "attention_sink": (True, False)}
        for name, allowed in choices.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"SASRecConfig.{name} must be one of {allowed}; got {getattr(self, name)!r}.")
        if self.hidden_size % self.n_heads:
            raise ValueError(f"hidden_size ({self.hidden_size}) must be a multiple of n_heads ({self.n_heads}).")
        if self.position_encoding == "rope" and (self.hidden_size // self.n_heads) % 2:
            raise ValueError(f"rotary embeddings need an even head size; hidden_size / n_heads is "
                             f"{self.hidden_size // self.n_heads}.")
        if self.moe_top_k > self.n_experts:
            raise ValueError(f"moe_top_k ({self.moe_top_k}) cannot exceed n_experts ({self.n_experts}).")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must lie in [0, 1); got {self.dropout}.")
        if not 0.0 <= self.gbce_t <= 1.0:
            raise ValueError(f"gbce_t must lie in [0, 1]; got {self.gbce_t}.")
        for name in ("moe_aux_loss_coef", "router_z_loss_coef"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be non-negative; got {getattr(self, name)}.")


@dataclass
class SASRecOutput(ModelOutput):
    """What :meth:`SASRecModel.forward` returns.

    loss : scalar tensor, when labels are given: the recommendation loss
        plus the MoE auxiliary loss.
    logits : (batch, length, n_items + 1), when asked for: the score of
        each token id at each position (column 0, padding, is the lowest
        float so that it is never predicted).
    last_hidden_state : (batch, length, hidden_size).
    aux_loss : scalar tensor, the weighted MoE load-balancing and z-losses
        (0 for a dense model).
    expert_counts : (n_layers, n_experts) tokens routed to each expert, for
        a MoE model.
    """

    loss: torch.FloatTensor | None = None
    logits: torch.FloatTensor | None = None
    last_hidden_state: torch.FloatTensor | None = None
    aux_loss: torch.FloatTensor | None = None
    expert_counts: torch.LongTensor | None = None


def positions_from_mask(attention_mask, max_len=None, position_from="start"):
    """Position of each real token of (batch, length) ``attention_mask``; 0 on padding.

    ``"start"`` counts from the first real token of each row (0 there):
    appending items never moves the earlier ones. ``"end"`` puts the last
    real token at ``max_len - 1`` and counts down from it, the positions the
    tokens would have if the row were left-padded to ``max_len``. Either way
    left and right padding give the same positions to the real tokens.
    """
    real = attention_mask.bool()
    positions = real.long().cumsum(-1) - 1
    if position_from == "end":
        positions = positions + (max_len - real.sum(-1, keepdim=True))
    return torch.where(real, positions, 0)


def _rotate_half(x):
    first, second = x.chunk(2, dim=-1)
    return torch.cat((-second, first), dim=-1)


def apply_rotary(x, positions, theta):
    """Rotate queries or keys (batch, heads, length, head_size) by their positions (batch, length)."""
    head_size = x.shape[-1]
    inv_freq = 1.0 / theta ** (torch.arange(0, head_size, 2, device=x.device, dtype=torch.float32) / head_size)
    angles = positions.to(torch.float32)[..., None] * inv_freq  # (batch, length, head_size / 2)
    angles = torch.cat((angles, angles), dim=-1)[:, None]  # (batch, 1, length, head_size)
    return (x * angles.cos().to(x.dtype)) + (_rotate_half(x) * angles.sin().to(x.dtype))


class SASRecAttention(nn.Module):
    """Causal multi-head self-attention through ``scaled_dot_product_attention``."""

    def __init__(self, config):
        super().__init__()
        self.n_heads = config.n_heads
        self.rope_theta = config.rope_theta if config.position_encoding == "rope" else None
        self.dropout = config.dropout
        self.qkv = nn.Linear(config.hidden_size, 3 * config.hidden_size)
        self.out = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, x, mask, positions, empty_slot=None):
        """Attend; with ``empty_slot`` (the normalised empty slot), its key and value lead the keys and values.

        ``mask``: (batch, 1, length, length) booleans, or with a sink float
        biases of width length + 1 whose first column is the sink's.
        """
        batch, length, width = x.shape
        head_size = width // self.n_heads
        q, k, v = self.qkv(x).view(batch, length, 3, self.n_heads, head_size).permute(2, 0, 3, 1, 4)
        if self.rope_theta is not None:
            q, k = apply_rotary(q, positions, self.rope_theta), apply_rotary(k, positions, self.rope_theta)
        if empty_slot is not None:
            # An empty slot has position 0, which rotary embeddings leave unrotated.
            sink_k, sink_v = self.qkv(empty_slot)[width:].view(2, 1, self.n_heads, 1, head_size)
            k = torch.cat([sink_k.expand(batch, -1, -1, -1), k], dim=2)
            v = torch.cat([sink_v.expand(batch, -1, -1, -1), v], dim=2)
        attended = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        return self.out(attended.transpose(1, 2).reshape(batch, length, width))


def _mlp(config):
    return nn.Sequential(nn.Linear(config.hidden_size, config.intermediate_size), nn.GELU(),
                         nn.Dropout(config.dropout), nn.Linear(config.intermediate_size, config.hidden_size))


class SASRecMoE(nn.Module):
    """Top-k mixture of MLP experts with an optional shared expert.

    Routes only the real (unpadded) tokens. The auxiliary loss is the Switch
    Transformer load-balancing loss, n_experts * sum_e f_e P_e (f_e the share
    of routed assignments that went to expert e, P_e its mean router
    probability; 1 when balanced), times ``moe_aux_loss_coef``, plus the
    router z-loss mean(logsumexp(router logits)^2) (ST-MoE) times
    ``router_z_loss_coef``.
    """

    def __init__(self, config):
        super().__init__()
        self.top_k = config.moe_top_k
        self.balance_coef = config.moe_aux_loss_coef
        self.z_coef = config.router_z_loss_coef
        self.router = nn.Linear(config.hidden_size, config.n_experts, bias=False)
        self.experts = nn.ModuleList(_mlp(config) for _ in range(config.n_experts))
        self.shared = _mlp(config) if config.shared_expert else None

    def forward(self, x, real):
        """Return (output, aux_loss, counts) for x (batch, length, width) and its real-token mask."""
        tokens = x[real]  # (n_tokens, width)
        n_experts = len(self.experts)
        output = torch.zeros_like(x)
        if tokens.shape[0] == 0:
            return output, x.new_zeros(()), torch.zeros(n_experts, dtype=torch.long, device=x.device)
        router_logits = self.router(tokens).float()
        probabilities = router_logits.softmax(dim=-1)
        top_probabilities, chosen = probabilities.topk(self.top_k, dim=-1)
        gates = (top_probabilities / top_probabilities.sum(-1, keepdim=True)).to(tokens.dtype)
        mixed = torch.zeros_like(tokens)
        for expert_index, expert in enumerate(self.experts):
            token_rows, slot = (chosen == expert_index).nonzero(as_tuple=True)
            if token_rows.numel():
                mixed.index_add_(0, token_rows, expert(tokens[token_rows]) * gates[token_rows, slot, None])
        if self.shared is not None:
            mixed = mixed + self.shared(tokens)
        output[real] = mixed
        counts = torch.bincount(chosen.flatten(), minlength=n_experts)
        share = counts.float() / chosen.numel()
        balance = n_experts * (share * probabilities.mean(0)).sum()
        z_loss = torch.logsumexp(router_logits, dim=-1).pow(2).mean()
        return output, self.balance_coef * balance + self.z_coef * z_loss, counts


class SASRecBlock(nn.Module):
    """Pre-norm transformer block: attention, then a dense or mixture-of-experts feed-forward."""

    def __init__(self, config):
        super().__init__()
        self.attention_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.attention = SASRecAttention(config)
        self.ffn_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.ffn = SASRecMoE(config) if config.ffn == "moe" else _mlp(config)
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x, mask, positions, real, sink=False):
        # An empty slot is a zero vector before the norm, so after it the same vector (the norm's bias) for all.
        empty_slot = self.attention_norm(x.new_zeros(x.shape[-1])) if sink else None
        x = x + self.dropout(self.attention(self.attention_norm(x), mask, positions, empty_slot))
        normed = self.ffn_norm(x)
        if isinstance(self.ffn, SASRecMoE):
            update, aux_loss, counts = self.ffn(normed, real)
        else:
            update, aux_loss, counts = self.ffn(normed), None, None
        return x + self.dropout(update), aux_loss, counts


class SASRecModel(PreTrainedModel):
    """SASRec: a causal transformer over item sequences that scores the next item.

    ``forward(input_ids, attention_mask, labels=None)``: ``input_ids`` holds
    token ids (item index + 1, 0 for padding; pad on either side), and
    ``labels[b, t]`` the token that follows ``input_ids[b, t]`` (already
    shifted; 0 or -100 where there is nothing to predict). The loss is the
    config's ``loss``; ``"bce"`` and ``"gbce"`` sample their negatives
    uniformly among the items other than the positive, with the torch
    generator ``generator`` (the global one by default), or take them from
    ``negative_ids`` (batch, length, n_negatives).

    Examples
    --------
    >>> import torch
    >>> from recsys.neural import SASRecConfig, SASRecModel
    >>> model = SASRecModel(SASRecConfig(n_items=20, hidden_size=8, n_heads=2, max_len=5))
    >>> ids = torch.tensor([[0, 3, 4, 5]])
    >>> output = model(ids, attention_mask=ids > 0, labels=torch.tensor([[0, 5, 6, 7]]))
    >>> output.logits.shape
    torch.Size([1, 4, 21])
    """

    config_class = SASRecConfig
    base_model_prefix = "sasrec"
    main_input_name = "input_ids"

    def __init__(self, config):
        super().__init__(config)
        if config.n_items is None:
            raise ValueError("SASRecConfig.n_items is None: set it to the number of items before "
                             "building a SASRecModel.")
        self.item_embeddings = nn.Embedding(config.n_items + 1, config.hidden_size, padding_idx=PAD_TOKEN)
        self.position_embeddings = (nn.Embedding(config.max_len, config.hidden_size)
                                    if config.position_encoding == "learned" else None)
        self.embedding_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(SASRecBlock(config) for _ in range(config.n_layers))
        self.final_norm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.post_init()

    def get_input_embeddings(self):
        return self.item_embeddings

    def set_input_embeddings(self, value):
        self.item_embeddings = value

    def encode(self, input_ids, attention_mask=None):
        """Return (hidden states, aux_loss, expert_counts) of a batch of sequences."""
        if input_ids.dim() != 2:
            raise ValueError(f"input_ids must be (batch, length); got shape {tuple(input_ids.shape)}.")
        if input_ids.shape[1] > self.config.max_len:
            raise ValueError(f"sequences of length {input_ids.shape[1]} exceed max_len={self.config.max_len}; "
                             "keep the most recent max_len items.")
        if input_ids.numel() and (input_ids.min() < 0 or input_ids.max() > self.config.n_items):
            raise ValueError(f"input_ids must be token ids in [0, {self.config.n_items}] "
                             "(item index + 1, 0 for padding).")
        real = input_ids != PAD_TOKEN if attention_mask is None else attention_mask.bool()
        positions = positions_from_mask(real, self.config.max_len, self.config.position_from)
        x = self.item_embeddings(input_ids) * math.sqrt(self.config.hidden_size)
        if self.position_embeddings is not None:
            x = x + self.position_embeddings(positions)
        x = self.embedding_dropout(x) * real[..., None]
        length = input_ids.shape[1]
        causal = torch.ones(length, length, dtype=torch.bool, device=input_ids.device).tril()
        # A token sees the real tokens up to itself, and always itself, so that
        # padding rows are never fully masked (which would give NaN).
        allowed = (causal & real[:, None, :]) | torch.eye(length, dtype=torch.bool, device=input_ids.device)
        mask = allowed[:, None]  # (batch, 1, length, length): one mask for every head
        if self.config.attention_sink:
            mask = self._sink_biases(mask, real, x.dtype)
        aux_losses, counts = [], []
        for block in self.blocks:
            x, aux_loss, block_counts = block(x, mask, positions, real, sink=self.config.attention_sink)
            if aux_loss is not None:
                aux_losses.append(aux_loss)
                counts.append(block_counts)
        aux_loss = torch.stack(aux_losses).sum() if aux_losses else x.new_zeros(())
        return self.final_norm(x), aux_loss, (torch.stack(counts) if counts else None)

    def _sink_biases(self, allowed, real, dtype):
        """Float attention biases with the sink first: log(empty slots) for it, 0 or -inf for the tokens."""
        empty = (self.config.max_len - real.sum(-1)).to(dtype)  # -inf bias when the window is full
        sink = empty.log()[:, None, None, None].expand(-1, 1, allowed.shape[-2], 1)
        tokens = torch.zeros(allowed.shape, dtype=dtype, device=allowed.device).masked_fill(~allowed, -math.inf)
        return torch.cat([sink, tokens], dim=-1)

    @property
    def score_offset(self):
        """The constant added to every item score: log(beta / k) for gBCE, 0 for the other losses.

        A sampled loss is least, among scores that are all equal, at
        s = log(beta / k) (k negatives, beta the positive's gBCE exponent; 0
        for BCE's single negative). Starting from 0 instead, gBCE's first
        gradients (256 negatives against one positive) all say "lower every
        score", and the model learns that by making its hidden state the same
        for every history: on ml-100k it never recovered (NDCG@10 0.032,
        below popularity; RecTools' gBCE on the same split 0.044). Adding the
        offset, the model starts at that optimum and learns only the ranking
        (0.093). Every score is shifted alike, so rankings and the softmax
        loss are unchanged, and sigmoid(logits) stays the probability the
        loss was trained for.
        """
        if self.config.loss != "gbce":
            return 0.0
        beta = gbce_beta(self.config.n_negatives, self.config.n_items, self.config.gbce_t)
        return math.log(beta / self.config.n_negatives)

    def item_scores(self, hidden):
        """Scores (..., n_items + 1) of every token id for hidden states (..., hidden_size)."""
        logits = hidden @ self.item_embeddings.weight.T + self.score_offset
        logits[..., PAD_TOKEN] = torch.finfo(logits.dtype).min
        return logits

    def forward(self, input_ids, attention_mask=None, labels=None, negative_ids=None,
                return_logits=None, generator=None, **kwargs):
        """Encode the sequences; with labels, also the loss (see the class notes)."""
        hidden, aux_loss, expert_counts = self.encode(input_ids, attention_mask)
        loss = None
        if labels is not None:
            loss = self.recommendation_loss(hidden, labels, negative_ids, generator) + aux_loss
        if return_logits is None:
            return_logits = labels is None or self.config.loss == "ce"
        logits = self.item_scores(hidden) if return_logits else None
        return SASRecOutput(loss=loss, logits=logits, last_hidden_state=hidden, aux_loss=aux_loss,
                            expert_counts=expert_counts)

    def recommendation_loss(self, hidden, labels, negative_ids=None, generator=None):
        """The config's loss over the positions whose label is an item token."""
        valid = labels > PAD_TOKEN
        if labels.max() > self.config.n_items:
            raise ValueError(f"labels must be token ids in [1, {self.config.n_items}], or 0 / -100 to skip.")
        hidden, positives = hidden[valid], labels[valid]
        if positives.numel() == 0:
            return hidden.sum() * 0.0  # keeps the graph: nothing to predict in this batch
        if self.config.loss == "ce":
            logits = self.item_scores(hidden)
            return F.cross_entropy(logits, positives)
        n_negatives = 1 if self.config.loss == "bce" else self.config.n_negatives
        if negative_ids is None:
            negatives = self.sample_negatives(positives, n_negatives, generator)
        else:
            negatives = negative_ids[valid]
        embeddings = self.item_embeddings.weight
        if self.config.n_items <= _FULL_SCORES_PER_NEGATIVE * negatives.shape[-1]:
            # Every item's score by one matrix product, then the sampled columns: the same scores as the
            # gather below, and on CPU 3-7x faster for gSASRec's 256 negatives among 1,700-3,600 items
            # (gathering and scattering (positions, k, hidden) embedding rows is memory-bound).
            scores = hidden @ embeddings.T
            positive_scores = scores.gather(1, positives[:, None]).squeeze(1)
            negative_scores = scores.gather(1, negatives)
        else:
            positive_scores = (hidden * embeddings[positives]).sum(-1)
            negative_scores = torch.einsum("nd,nkd->nk", hidden, embeddings[negatives])
        positive_scores, negative_scores = positive_scores + self.score_offset, negative_scores + self.score_offset
        beta = 1.0 if self.config.loss == "bce" else gbce_beta(
            negatives.shape[-1], self.config.n_items, self.config.gbce_t)
        # -log(sigmoid(s+)^beta) - sum log(1 - sigmoid(s-)), per position
        per_position = -beta * F.logsigmoid(positive_scores) - F.logsigmoid(-negative_scores).sum(-1)
        return per_position.mean()

    def sample_negatives(self, positives, n_negatives, generator=None):
        """Token ids drawn uniformly among the items other than each positive: (n, n_negatives)."""
        n_items = self.config.n_items
        if n_items < 2:
            raise ValueError("sampled losses need at least 2 items; use loss='ce'.")
        offsets = torch.randint(1, n_items, (positives.shape[0], n_negatives), generator=generator,
                                device=generator.device if generator is not None else positives.device)
        offsets = offsets.to(positives.device)
        # Shift the positive's item index by 1..n_items-1 (mod n_items): uniform over the others.
        return (positives[:, None] - 1 + offsets) % n_items + 1

    def last_item_scores(self, input_ids, attention_mask=None):
        """Scores (batch, n_items) of the next item after each sequence, by item index."""
        hidden, _, _ = self.encode(input_ids, attention_mask)
        real = input_ids != PAD_TOKEN if attention_mask is None else attention_mask.bool()
        # The last real token of each row (left or right padding alike).
        last = real.shape[1] - 1 - real.flip(-1).long().argmax(-1)
        final = hidden[torch.arange(hidden.shape[0], device=hidden.device), last]
        return self.item_scores(final)[:, 1:]

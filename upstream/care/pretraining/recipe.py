"""What CARE's pre-training trains, and on which loss (authors' recipe, care-model.md).

=============================================  =======================  ==============
block                                          semantic loss            acoustic loss
=============================================  =======================  ==============
feature extractor, projection, positional      frozen (trained with     frozen
conv, encoder LayerNorm                        --front-end trained)
common encoder                                 trained                  no gradient
acoustic encoder, acoustic head                -                        trained
semantic encoder: text layers                  frozen                   -
semantic encoder: adapters (down / up convs)   trained                  -
=============================================  =======================  ==============

The acoustic encoder runs on a detached copy of the common encoder's output (and of the relative
position bias computed in layer 0), so the acoustic loss's gradient into the common encoder is
exactly zero; the two losses touch disjoint parameters, so one backward pass of their sum gives
each parameter exactly its own loss's gradient. Frozen blocks run in eval mode (no dropout).

Losses: semantic = MSE between the last semantic state mean-pooled over valid frames and the
teacher's vector; acoustic = MSE between the acoustic head's frames and the target frames, over
the frames both have.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from care_superb.upstream.care.model import CareModel

FRONT_END = ("feature_extractor.", "feature_projection.", "pos_conv_embed.", "layer_norm.")
SEMANTIC = ("common_encoder.", "semantic_encoder.down.", "semantic_encoder.up.")
ACOUSTIC = ("acoustic_encoder.", "acoustic_head.")
LOSSES = ("both", "semantic", "acoustic")
# frozen: the recipe (its front end comes from a pre-trained WavLM). trained: the semantic loss
# also trains the front end, for a random speech side, whose frozen random convolutions would
# otherwise stay random for good. The acoustic loss never reaches it (it stops at the common
# encoder's output). auto: trained for a random speech side, frozen otherwise.
FRONT_ENDS = ("frozen", "trained")


def trained_prefixes(losses: str, front_end: str = "frozen") -> tuple[str, ...]:
    if losses not in LOSSES:
        raise ValueError(f"losses must be one of {LOSSES}, not {losses!r}")
    if front_end not in FRONT_ENDS:
        raise ValueError(f"front_end must be one of {FRONT_ENDS}, not {front_end!r}")
    if front_end == "trained" and losses == "acoustic":
        raise ValueError("--front-end trained needs the semantic loss (the acoustic loss stops at the "
                         "common encoder's output): use --losses both or semantic, or --front-end frozen")
    semantic = SEMANTIC + (FRONT_END if front_end == "trained" else ())
    return {"both": semantic + ACOUSTIC, "semantic": semantic, "acoustic": ACOUSTIC}[losses]


def choose_front_end(requested: str, metadata: dict, losses: str) -> tuple[str, str]:
    """``requested`` (auto | frozen | trained) -> (front end setting, why), from how the initial
    checkpoint's speech side began (``speech_init.kind``, read by ``speech_init_kind``)."""
    from care_superb.upstream.care.checkpoint import speech_init_kind

    if requested != "auto":
        trained_prefixes(losses, requested)  # refuses trained with acoustic-only losses
        return requested, "--front-end " + requested
    kind = speech_init_kind(metadata)
    if kind is None:
        raise ValueError("--front-end auto: the --init checkpoint does not say how its speech side began "
                         "(no speech_init.kind); pass --front-end frozen (a speech side from a pre-trained "
                         "model) or --front-end trained (a random one)")
    if kind != "random":
        return "frozen", f"the recipe: the speech side comes from a pre-trained model (speech_init.kind: {kind})"
    if losses == "acoustic":
        return "frozen", "acoustic-only losses cannot reach it (the speech side is random and stays so)"
    return "trained", ("the speech side began random (speech_init.kind: random), and frozen random "
                       "convolutions would stay random")


def configure(model: CareModel, losses: str = "both", front_end: str = "frozen") -> list[str]:
    """Set ``requires_grad`` as the recipe says; returns the trained parameters' names."""
    prefixes = trained_prefixes(losses, front_end)
    trained = []
    for name, param in model.named_parameters():
        param.requires_grad_(name.startswith(prefixes))
        if param.requires_grad:
            trained.append(name)
    return trained


def train_mode(model: CareModel, front_end: str = "frozen") -> None:
    """Train mode for the trained blocks, eval mode (no dropout) for the frozen ones."""
    model.train()
    frozen = [model.semantic_encoder.layers]
    if front_end == "frozen":
        frozen += [model.feature_extractor, model.feature_projection, model.pos_conv_embed,
                   model.layer_norm, model.dropout]
    for module in frozen:
        module.eval()


def masked_frame_mse(prediction: Tensor, target: Tensor, frames: Tensor) -> Tensor:
    """MSE over the first ``frames[i]`` frames of each utterance (B x T x D each)."""
    length = min(prediction.shape[1], target.shape[1])
    prediction, target = prediction[:, :length], target[:, :length]
    mask = (torch.arange(length, device=frames.device)[None, :] < frames[:, None]).to(prediction.dtype)
    squared = ((prediction.float() - target.float()) ** 2).mean(dim=-1)
    return (squared * mask).sum() / mask.sum().clamp(min=1)


def losses_of(model: CareModel, batch: dict, losses: str = "both") -> dict[str, Tensor]:
    """The recipe's losses on a batch: ``waves`` (B x L), ``lengths`` (B), ``semantic`` (B x W),
    ``acoustic`` (B x T x D) and ``acoustic_frames`` (B: valid target frames)."""
    use_semantic, use_acoustic = losses in ("both", "semantic"), losses in ("both", "acoustic")
    output = model(batch["waves"], batch["lengths"], acoustic=use_acoustic, semantic=use_semantic,
                   isolate_acoustic=True)
    out = {}
    if use_semantic:
        last = output.semantic[-1]
        pooled = last.sum(dim=1) / output.frame_lengths[:, None].to(last.dtype)
        out["semantic"] = F.mse_loss(pooled.float(), batch["semantic"].float())
    if use_acoustic:
        prediction = model.acoustic_head(output.acoustic[-1])
        frames = torch.minimum(output.frame_lengths, batch["acoustic_frames"])
        out["acoustic"] = masked_frame_mse(prediction, batch["acoustic"], frames)
    return out

"""CARE (Content and Acoustic Representations of Emotions), built from transformers' WavLM and
BERT-family classes.

    waveform ──► WavLM conv feature extractor ─► projection ─► + positional conv ─► LayerNorm = x0
    x0 ──► common encoder (WavLM layers 0..5) ──► c1 .. c6
    c6 ──► acoustic encoder (WavLM layers 6..11, same relative position bias) ──► a1 .. a6
    c6 ──► semantic encoder, six times: Conv1d(k5, s3) ─► text layer ─► ConvTranspose1d(k5, s3)
           ─► crop / zero-pad to c6's frame count ──► s1 .. s6
    s3prl's hidden states: [x0;x0], [c1;c1] .. [c6;c6], [s1;a1] .. [s6;a6]   (13 × 2·768, 50 Hz)

Sizes all come from :class:`~care_superb.upstream.care.config.CareConfig` (numbers above are the
paper's base configuration). The acoustic head (768 → 256, PASE+ frames) and the mean pooling of
the last semantic state are pre-training objectives only (``pretraining/recipe.py``).

Padding. A padded batch gives every utterance exactly what it gets alone (to float rounding):

* WavLM-base's feature extractor normalises its first conv layer with a GroupNorm over the whole
  time axis, so zeros padded after an utterance change its statistics (s3prl's own ``wavlm``
  runs the padded batch through it and lives with that; transformers' advice for wavlm-base is to
  pass no attention mask at all). Here that first layer runs per group of equal-length
  utterances and the later, unnormalised convolutions batched (``batching.first_layer_alone``:
  their valid frames read only valid frames). Configs with a per-frame LayerNorm
  (``feat_extract_norm="layer"``) run batched: their valid frames never see padding.
* Padded frames are zeroed before the positional convolution (as transformers does) and masked
  out of every attention: the WavLM layers by key padding mask, the text layers by an additive
  mask at the reduced frame rate.
* In the semantic encoder, invalid reduced frames are zeroed before the up-sampling convolution
  and every up-sampled frame an utterance would not have had alone is zeroed, so the next
  adapter sees what it sees alone.
* Every returned state is zero on padded frames.
"""
from __future__ import annotations

import copy
import dataclasses

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers import AutoModel, PretrainedConfig, WavLMConfig
from transformers.models.data2vec.modeling_data2vec_audio import Data2VecAudioPositionalConvEmbedding
from transformers.models.wavlm.modeling_wavlm import (
    WavLMEncoderLayer,
    WavLMFeatureEncoder,
    WavLMFeatureProjection,
    WavLMPositionalConvEmbedding,
)

from care_superb.upstream.batching import first_layer_alone
from care_superb.upstream.care.config import CareConfig


def text_layer_factory(config: PretrainedConfig) -> tuple[type[nn.Module], PretrainedConfig]:
    """The transformer-layer class of a BERT-family encoder (``model.encoder.layer[i]``) and the
    config to build it with (attention implementation resolved: PyTorch's fused "sdpa" where
    transformers supports it for that model, else "eager"; both take the same additive mask).

    Found by building the model on the meta device (no memory, no weights), so any encoder that
    transformers' ``AutoModel`` knows and that keeps its layers in ``encoder.layer`` works.
    """
    with torch.device("meta"):
        model = AutoModel.from_config(copy.deepcopy(config))
    layers = getattr(getattr(model, "encoder", None), "layer", None)
    if not isinstance(layers, nn.ModuleList) or len(layers) == 0:
        raise ValueError(
            f"{type(model).__name__} keeps no layers in .encoder.layer; CARE's semantic encoder "
            "needs a BERT-family text encoder (BERT, RoBERTa, MiniLM, XLM-R, ELECTRA, ...)"
        )
    return type(layers[0]), model.config


class CareSpeechEncoder(nn.Module):
    """A run of WavLM transformer layers (the common or the acoustic encoder).

    WavLM computes its relative position bias in layer 0 only and every later layer gates the
    same bias, so the bias is an input and an output here: the acoustic encoder continues with
    the bias the common encoder computed.
    """

    def __init__(self, config: WavLMConfig, layer_ids: range):
        super().__init__()
        self.layers = nn.ModuleList(
            [WavLMEncoderLayer(config, has_relative_position_bias=(i == 0)) for i in layer_ids]
        )

    def forward(
        self, hidden_states: Tensor, attention_mask: Tensor | None, position_bias: Tensor | None
    ) -> tuple[list[Tensor], Tensor]:
        states = []
        for layer in self.layers:
            hidden_states, position_bias = layer(
                hidden_states, attention_mask=attention_mask, position_bias=position_bias
            )[:2]
            states.append(hidden_states)
        return states, position_bias


class CareSemanticEncoder(nn.Module):
    """Text-encoder layers run on speech through convolutional adapters.

    Layer i: ``down[i]`` (Conv1d speech width → text width, kernel k, stride s, no padding), the
    text layer at the reduced frame rate, ``up[i]`` (ConvTranspose1d text width → speech width,
    kernel k, stride s, output padding), then crop or zero-pad to the input's frame count T.
    """

    def __init__(self, config: CareConfig):
        super().__init__()
        width, text_width = config.hidden_size, config.text_hidden_size
        kernel, stride = config.adapter_kernel_size, config.adapter_stride
        self.kernel_size, self.stride = kernel, stride
        self.output_padding = config.adapter_output_padding
        layer_class, layer_config = text_layer_factory(config.text)
        n = config.num_semantic_layers
        self.down = nn.ModuleList(
            [nn.Conv1d(width, text_width, kernel, stride=stride) for _ in range(n)]
        )
        self.layers = nn.ModuleList([layer_class(layer_config) for _ in range(n)])
        self.up = nn.ModuleList(
            [
                nn.ConvTranspose1d(
                    text_width, width, kernel, stride=stride, output_padding=self.output_padding
                )
                for _ in range(n)
            ]
        )

    def reduced_length(self, frames: Tensor) -> Tensor:
        """Frames after ``down`` (inputs shorter than one kernel are zero-padded to one kernel)."""
        return (frames.clamp(min=self.kernel_size) - self.kernel_size) // self.stride + 1

    def upsampled_length(self, reduced: Tensor) -> Tensor:
        """Frames after ``up``."""
        return (reduced - 1) * self.stride + self.kernel_size + self.output_padding

    def forward(self, hidden_states: Tensor, frame_lengths: Tensor) -> list[Tensor]:
        batch, frames, _ = hidden_states.shape
        steps = torch.arange(frames, device=hidden_states.device)
        frame_mask = steps[None, :] < frame_lengths[:, None]
        reduced_lengths = self.reduced_length(frame_lengths)
        reduced_frames = int(self.reduced_length(torch.tensor(frames)))
        reduced_mask = (
            torch.arange(reduced_frames, device=hidden_states.device)[None, :]
            < reduced_lengths[:, None]
        )
        # What an utterance alone keeps of the up-sampled sequence: its first min(U_i, T_i) frames.
        kept = steps[None, :] < torch.minimum(
            self.upsampled_length(reduced_lengths), frame_lengths
        )[:, None]
        if bool(reduced_mask.all()):
            attention_mask = None
        else:  # additive, broadcast over heads and queries: (B, 1, 1, R)
            attention_mask = torch.zeros(
                batch, 1, 1, reduced_frames, dtype=hidden_states.dtype, device=hidden_states.device
            ).masked_fill(~reduced_mask[:, None, None, :], torch.finfo(hidden_states.dtype).min)

        x = hidden_states * frame_mask[..., None]
        states = []
        for down, layer, up in zip(self.down, self.layers, self.up):
            h = x.transpose(1, 2)
            if frames < self.kernel_size:
                h = F.pad(h, (0, self.kernel_size - frames))
            h = down(h).transpose(1, 2)
            h = layer(h, attention_mask=attention_mask)
            h = h[0] if isinstance(h, tuple) else h  # transformers 4.x returns a tuple
            h = h * reduced_mask[..., None]
            h = up(h.transpose(1, 2)).transpose(1, 2)
            if h.shape[1] >= frames:
                h = h[:, :frames]
            else:
                h = F.pad(h, (0, 0, 0, frames - h.shape[1]))
            x = h * kept[..., None]
            states.append(x)
        return states


@dataclasses.dataclass
class CareOutput:
    """Layer-wise states of one forward pass, each B × T × width, zero on padded frames."""

    frame_lengths: Tensor  # valid frames per utterance
    encoder_input: Tensor  # x0: after projection, positional convolution and LayerNorm
    common: list[Tensor]  # c1 .. c_n
    acoustic: list[Tensor] | None  # a1 .. a_m (None when not computed)
    semantic: list[Tensor] | None  # s1 .. s_m, at the full frame rate (None when not computed)

    def hidden_states(self, branches: str = "both") -> list[Tensor]:
        """s3prl's list of states.

        ``both``: ``[x0;x0], [c_k;c_k] ..., [s_i;a_i] ...`` (2 × width, the paper's CARE);
        ``acoustic``: ``x0, c_k ..., a_i ...``; ``semantic``: ``x0, c_k ..., s_i ...``
        (width; the paper's Table IV ablations).
        """
        shared = [self.encoder_input, *self.common]
        if branches == "both":
            if self.acoustic is None or self.semantic is None:
                raise ValueError("both branches are needed; run the model with both")
            return [torch.cat([h, h], dim=-1) for h in shared] + [
                torch.cat([s, a], dim=-1) for s, a in zip(self.semantic, self.acoustic)
            ]
        if branches == "acoustic":
            if self.acoustic is None:
                raise ValueError("the acoustic branch was not computed")
            return shared + list(self.acoustic)
        if branches == "semantic":
            if self.semantic is None:
                raise ValueError("the semantic branch was not computed")
            return shared + list(self.semantic)
        raise ValueError(f"branches must be 'both', 'acoustic' or 'semantic', not {branches!r}")


BRANCHES = ("both", "acoustic", "semantic")


class CareModel(nn.Module):
    """The whole CARE. Input: a padded batch of 16 kHz waveforms and their lengths in samples."""

    def __init__(self, config: CareConfig):
        super().__init__()
        self.config = config
        speech = config.speech
        # Shared front end, WavLM's modules and names.
        self.feature_extractor = WavLMFeatureEncoder(speech)
        self.feature_projection = WavLMFeatureProjection(speech)
        if getattr(speech, "position_embedding", "wavlm") == "data2vec":  # a data2vec start
            self.pos_conv_embed = Data2VecAudioPositionalConvEmbedding(speech)
        else:
            self.pos_conv_embed = WavLMPositionalConvEmbedding(speech)
        self.layer_norm = nn.LayerNorm(speech.hidden_size, eps=speech.layer_norm_eps)
        self.dropout = nn.Dropout(speech.hidden_dropout)
        # The two halves of the speech encoder.
        split = config.num_common_layers
        self.common_encoder = CareSpeechEncoder(speech, range(0, split))
        self.acoustic_encoder = CareSpeechEncoder(speech, range(split, speech.num_hidden_layers))
        self.acoustic_head = nn.Linear(speech.hidden_size, config.acoustic_head_size)
        # Text layers between convolutional adapters.
        self.semantic_encoder = CareSemanticEncoder(config)

    # ---- lengths -------------------------------------------------------------------------------
    def frame_lengths(self, sample_lengths: Tensor) -> Tensor:
        """Frames the feature extractor makes of each length (no padding in its convolutions)."""
        lengths = sample_lengths
        for kernel, stride in zip(self.config.speech.conv_kernel, self.config.speech.conv_stride):
            lengths = torch.div(lengths - kernel, stride, rounding_mode="floor") + 1
        return lengths

    @property
    def receptive_field(self) -> int:
        """Samples the feature extractor needs for its first frame (400 for WavLM)."""
        field = 1
        speech = self.config.speech
        for kernel, stride in reversed(list(zip(speech.conv_kernel, speech.conv_stride))):
            field = (field - 1) * stride + kernel
        return field

    # ---- forward -------------------------------------------------------------------------------
    def extract_features(self, input_values: Tensor, sample_lengths: Tensor) -> Tensor:
        """Convolutional features, B × C × T; a GroupNorm's first layer per equal-length group."""
        input_values = input_values[:, : int(sample_lengths.max())]
        lengths = sample_lengths.tolist()
        if self.config.speech.feat_extract_norm != "group" or len(set(lengths)) == 1:
            return self.feature_extractor(input_values)
        with first_layer_alone(self.feature_extractor, lengths):
            return self.feature_extractor(input_values)

    def forward(
        self,
        input_values: Tensor,
        sample_lengths: Tensor | None = None,
        acoustic: bool = True,
        semantic: bool = True,
        isolate_acoustic: bool = False,
    ) -> CareOutput:
        """input_values: B × L (zero-padded); sample_lengths: B (default: all L).

        isolate_acoustic: the acoustic encoder continues from a detached copy of the common
        encoder's output and position bias, so that no gradient of an acoustic loss reaches the
        common encoder (pre-training's gradient isolation; the forward values are unchanged)."""
        batch, samples = input_values.shape
        if sample_lengths is None:
            sample_lengths = torch.full((batch,), samples, dtype=torch.long)
        sample_lengths = sample_lengths.to(device=input_values.device, dtype=torch.long)
        if int(sample_lengths.min()) < self.receptive_field:
            raise ValueError(
                f"an utterance of {int(sample_lengths.min())} samples is shorter than the feature "
                f"extractor's receptive field ({self.receptive_field} samples)"
            )
        frame_lengths = self.frame_lengths(sample_lengths)

        features = self.extract_features(input_values, sample_lengths).transpose(1, 2)
        frames = features.shape[1]
        frame_mask = torch.arange(frames, device=features.device)[None, :] < frame_lengths[:, None]
        padded = not bool(frame_mask.all())
        attention_mask = frame_mask.long() if padded else None

        hidden_states, _ = self.feature_projection(features)
        hidden_states = hidden_states * frame_mask[..., None]
        hidden_states = hidden_states + self.pos_conv_embed(hidden_states)
        hidden_states = self.layer_norm(hidden_states)
        encoder_input = self.dropout(hidden_states)

        common, position_bias = self.common_encoder(encoder_input, attention_mask, None)
        acoustic_input = common[-1].detach() if isolate_acoustic else common[-1]
        if isolate_acoustic and position_bias is not None:
            position_bias = position_bias.detach()
        acoustic_states = (
            self.acoustic_encoder(acoustic_input, attention_mask, position_bias)[0] if acoustic else None
        )
        semantic_states = self.semantic_encoder(common[-1], frame_lengths) if semantic else None

        def zero_padding(states: list[Tensor] | None) -> list[Tensor] | None:
            if states is None or not padded:
                return states
            return [h * frame_mask[..., None] for h in states]

        return CareOutput(
            frame_lengths=frame_lengths,
            encoder_input=zero_padding([encoder_input])[0],
            common=zero_padding(common),
            acoustic=zero_padding(acoustic_states),
            semantic=semantic_states,  # already zero on padded frames
        )


# ---- parameter accounting ----------------------------------------------------------------------
BLOCKS = (
    ("feature extractor (conv)", ("feature_extractor.",)),
    ("feature projection", ("feature_projection.",)),
    ("positional conv + layer norm", ("pos_conv_embed.", "layer_norm.")),
    ("common encoder", ("common_encoder.",)),
    ("acoustic encoder", ("acoustic_encoder.",)),
    ("acoustic head (pre-training only)", ("acoustic_head.",)),
    ("semantic encoder: text layers", ("semantic_encoder.layers.",)),
    ("semantic encoder: adapters", ("semantic_encoder.down.", "semantic_encoder.up.")),
)


def parameter_counts(model: CareModel) -> dict[str, int]:
    """Parameters per block (the blocks of the paper's description) and their ``total``."""
    counts = {name: 0 for name, _ in BLOCKS}
    for param_name, param in model.named_parameters():
        for name, prefixes in BLOCKS:
            if param_name.startswith(prefixes):
                counts[name] += param.numel()
                break
        else:
            raise AssertionError(f"parameter {param_name} belongs to no block")
    counts["total"] = sum(counts.values())
    return counts

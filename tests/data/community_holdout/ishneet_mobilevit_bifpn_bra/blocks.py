"""MobileViT / BiFPN / BiFormer-BRA blocks, following Ishneet0710/yolo-bifpn-bra-mobilevit.

Helpers that are not YAML blocks: TopkRouting, KVGather, QKVLinear (BRA internals), LayerNorm, LinearSelfAttention,
LinearAttnFFN, MobileViTBlockv2 (needs attn_unit_dim), swish.
"""

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

__all__ = ["BiFPN_Concat", "BiFPN", "BiLevelRoutingAttention", "MobileViTBlock"]


# ----------------------------------------------------------------------------- BiFPN.py
class BiFPN_Concat(nn.Module):
    """Concatenate ``num_inputs`` maps after learnable, normalised (optionally ReLU'd) weights; resizes to the largest."""

    def __init__(self, dimension=1, num_inputs=2, use_relu=True):
        super().__init__()
        self.d = dimension
        self.num_inputs = num_inputs
        self.use_relu = use_relu
        self.w = nn.Parameter(torch.ones(num_inputs, dtype=torch.float32), requires_grad=True)
        self.epsilon = 1e-4

    def forward(self, x):
        if not isinstance(x, list) or len(x) != self.num_inputs:
            raise ValueError(f"expected a list of {self.num_inputs} tensors")
        w = F.relu(self.w) if self.use_relu else self.w
        w = w / (w.sum() + self.epsilon)
        h = max(t.shape[2] for t in x)
        wd = max(t.shape[3] for t in x)
        x = [t if t.shape[2:] == (h, wd) else F.interpolate(t, size=(h, wd), mode="bilinear", align_corners=False)
             for t in x]
        return torch.cat([w[i] * x[i] for i in range(self.num_inputs)], dim=self.d)


class swish(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(x)


class BiFPN(nn.Module):
    """Weighted sum of ``length`` same-shape inputs."""

    def __init__(self, length):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(length, dtype=torch.float32), requires_grad=True)
        self.swish = swish()
        self.epsilon = 1e-4

    def forward(self, x):
        w = self.weight / (self.swish(self.weight).sum() + self.epsilon)
        return sum(w[i] * x[i] for i in range(len(x)))


# ----------------------------------------------------------------------------- bra_legacy
class TopkRouting(nn.Module):
    """Region-to-region affinity; keeps the top-k regions per query region."""

    def __init__(self, qk_dim, topk=4, qk_scale=None, param_routing=False, diff_routing=False):
        super().__init__()
        self.topk = topk
        self.qk_dim = qk_dim
        self.scale = qk_scale or qk_dim**-0.5
        self.diff_routing = diff_routing
        self.emb = nn.Linear(qk_dim, qk_dim) if param_routing else nn.Identity()
        self.routing_act = nn.Softmax(dim=-1)

    def forward(self, query, key):
        if not self.diff_routing:
            query, key = query.detach(), key.detach()
        logits = (self.emb(query) * self.scale) @ self.emb(key).transpose(-2, -1)
        top_logit, top_index = torch.topk(logits, k=self.topk, dim=-1)
        return self.routing_act(top_logit), top_index


class KVGather(nn.Module):
    """Collects the key/value tokens of the routed regions for every query region."""

    def __init__(self, mul_weight="none"):
        super().__init__()
        assert mul_weight in ("none", "soft", "hard")
        self.mul_weight = mul_weight

    def forward(self, r_idx, r_weight, kv):
        n, p2, w2, c = kv.shape
        k = r_idx.shape[-1]
        idx = r_idx.view(n, p2, k, 1, 1).expand(-1, -1, -1, w2, c)
        out = torch.gather(kv.unsqueeze(1).expand(-1, p2, -1, -1, -1), dim=2, index=idx)
        if self.mul_weight == "soft":
            out = r_weight.view(n, p2, k, 1, 1) * out
        elif self.mul_weight == "hard":
            raise NotImplementedError("differentiable hard routing")
        return out


class QKVLinear(nn.Module):
    def __init__(self, dim, qk_dim, bias=True):
        super().__init__()
        self.dim = dim
        self.qk_dim = qk_dim
        self.qkv = nn.Linear(dim, qk_dim + qk_dim + dim, bias=bias)

    def forward(self, x):
        return self.qkv(x).split([self.qk_dim, self.qk_dim + self.dim], dim=-1)


class BiLevelRoutingAttention(nn.Module):
    """Bi-level routing attention on an NCHW map split into n_win x n_win regions (NHWC inside)."""

    def __init__(self, dim, n_win=7, num_heads=8, qk_dim=None, qk_scale=None, kv_per_win=4, kv_downsample_ratio=4,
                 kv_downsample_kernel=None, kv_downsample_mode="identity", topk=4, param_attention="qkvo",
                 param_routing=False, diff_routing=False, soft_routing=False, side_dwconv=3, auto_pad=True):
        super().__init__()
        self.dim = dim
        self.n_win = n_win
        self.num_heads = num_heads
        self.qk_dim = qk_dim or dim
        assert self.qk_dim % num_heads == 0 and self.dim % num_heads == 0
        self.scale = qk_scale or self.qk_dim**-0.5
        self.lepe = (nn.Conv2d(dim, dim, side_dwconv, 1, side_dwconv // 2, groups=dim) if side_dwconv > 0
                     else (lambda t: torch.zeros_like(t)))
        self.topk = topk
        assert not (param_routing and not diff_routing)
        self.router = TopkRouting(self.qk_dim, topk=topk, qk_scale=self.scale, param_routing=param_routing,
                                  diff_routing=diff_routing)
        mul_weight = "soft" if soft_routing else "hard" if diff_routing else "none"
        self.kv_gather = KVGather(mul_weight=mul_weight)
        if param_attention == "qkvo":
            self.qkv = QKVLinear(dim, self.qk_dim)
            self.wo = nn.Linear(dim, dim)
        elif param_attention == "qkv":
            self.qkv = QKVLinear(dim, self.qk_dim)
            self.wo = nn.Identity()
        else:
            raise ValueError(param_attention)
        self.kv_downsample_mode = kv_downsample_mode
        if kv_downsample_mode == "ada_avgpool":
            self.kv_down = nn.AdaptiveAvgPool2d(kv_per_win)
        elif kv_downsample_mode == "ada_maxpool":
            self.kv_down = nn.AdaptiveMaxPool2d(kv_per_win)
        elif kv_downsample_mode == "maxpool":
            self.kv_down = nn.MaxPool2d(kv_downsample_ratio) if kv_downsample_ratio > 1 else nn.Identity()
        elif kv_downsample_mode == "avgpool":
            self.kv_down = nn.AvgPool2d(kv_downsample_ratio) if kv_downsample_ratio > 1 else nn.Identity()
        elif kv_downsample_mode == "identity":
            self.kv_down = nn.Identity()
        else:
            raise NotImplementedError(kv_downsample_mode)
        self.attn_act = nn.Softmax(dim=-1)
        self.auto_pad = auto_pad

    def forward(self, x):
        x = x.permute(0, 2, 3, 1)  # NHWC
        n, h_in, w_in, _ = x.shape
        p = self.n_win
        pad_r = pad_b = 0
        if self.auto_pad:
            pad_r = (p - w_in % p) % p
            pad_b = (p - h_in % p) % p
            x = F.pad(x, (0, 0, 0, pad_r, 0, pad_b))
        else:
            assert h_in % p == 0 and w_in % p == 0
        H, W = x.shape[1:3]
        h, w = H // p, W // p
        win = x.view(n, p, h, p, w, self.dim).permute(0, 1, 3, 2, 4, 5).reshape(n, p * p, h, w, self.dim)
        q, kv = self.qkv(win)  # (n, p2, h, w, c)
        q_pix = q.reshape(n, p * p, h * w, self.qk_dim)
        kv_img = kv.reshape(n * p * p, h, w, -1).permute(0, 3, 1, 2)
        kv_img = self.kv_down(kv_img)
        kv_pix = kv_img.flatten(2).transpose(1, 2).reshape(n, p * p, -1, self.qk_dim + self.dim)
        q_win, k_win = q.mean([2, 3]), kv[..., : self.qk_dim].mean([2, 3])

        v_img = kv[..., self.qk_dim:].reshape(n, p, p, h, w, self.dim).permute(0, 5, 1, 3, 2, 4)
        lepe = self.lepe(v_img.reshape(n, self.dim, H, W).contiguous()).permute(0, 2, 3, 1)

        r_weight, r_idx = self.router(q_win, k_win)
        sel = self.kv_gather(r_idx=r_idx, r_weight=r_weight, kv=kv_pix)  # (n, p2, k, t, c)
        k_sel, v_sel = sel.split([self.qk_dim, self.dim], dim=-1)
        m = self.num_heads
        k_sel = k_sel.reshape(n * p * p, -1, m, self.qk_dim // m).permute(0, 2, 3, 1)  # (B, m, c, k*t)
        v_sel = v_sel.reshape(n * p * p, -1, m, self.dim // m).permute(0, 2, 1, 3)  # (B, m, k*t, c)
        q_pix = q_pix.reshape(n * p * p, h * w, m, self.qk_dim // m).permute(0, 2, 1, 3)  # (B, m, hw, c)

        attn = self.attn_act((q_pix * self.scale) @ k_sel)
        out = attn @ v_sel  # (B, m, hw, c)
        out = out.reshape(n, p, p, m, h, w, self.dim // m).permute(0, 1, 4, 2, 5, 3, 6).reshape(n, H, W, self.dim)
        out = self.wo(out + lepe)
        if pad_r or pad_b:
            out = out[:, :h_in, :w_in, :].contiguous()
        return out.permute(0, 3, 1, 2)


# ----------------------------------------------------------------------------- MobileViTv2
class LayerNorm(nn.Module):
    """Layer norm over the channel axis of a channels-first tensor."""

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(normalized_shape)) if elementwise_affine else None
        self.bias = nn.Parameter(torch.zeros(normalized_shape)) if elementwise_affine else None

    def forward(self, x):
        mu = x.mean(1, keepdim=True)
        var = (x - mu).pow(2).mean(1, keepdim=True)
        x = (x - mu) / torch.sqrt(var + self.eps)
        if self.weight is not None:
            shape = (1, -1) + (1,) * (x.ndim - 2)
            x = x * self.weight.view(shape) + self.bias.view(shape)
        return x


class LinearSelfAttention(nn.Module):
    """Separable (linear-complexity) self-attention over the patch axis of [B, C, P, N]."""

    def __init__(self, embed_dim, attn_dropout=0.0, bias=True):
        super().__init__()
        self.embed_dim = embed_dim
        self.qkv_proj = nn.Conv2d(embed_dim, 1 + 2 * embed_dim, 1, bias=bias)
        self.attn_dropout = nn.Dropout(attn_dropout)
        self.out_proj = nn.Conv2d(embed_dim, embed_dim, 1, bias=bias)

    def forward(self, x):
        q, k, v = torch.split(self.qkv_proj(x), [1, self.embed_dim, self.embed_dim], dim=1)
        scores = self.attn_dropout(F.softmax(q, dim=-1))
        context = (k * scores).sum(dim=-1, keepdim=True)
        return self.out_proj(F.relu(v) * context.expand_as(v))


class LinearAttnFFN(nn.Module):
    def __init__(self, embed_dim, ffn_latent_dim, attn_dropout=0.0, dropout=0.1, ffn_dropout=0.0):
        super().__init__()
        self.pre_norm_attn = nn.Sequential(
            nn.GroupNorm(1, embed_dim), LinearSelfAttention(embed_dim, attn_dropout), nn.Dropout(dropout)
        )
        self.pre_norm_ffn = nn.Sequential(
            nn.GroupNorm(1, embed_dim),
            nn.Conv2d(embed_dim, ffn_latent_dim, 1),
            nn.SiLU(),
            nn.Dropout(ffn_dropout),
            nn.Conv2d(ffn_latent_dim, embed_dim, 1),
            nn.Dropout(dropout),
        )

    def forward(self, x):
        x = x + self.pre_norm_attn(x)
        return x + self.pre_norm_ffn(x)


class MobileViTBlockv2(nn.Module):
    """Local depthwise rep -> unfold into patch_h x patch_w patches -> linear-attention stack -> fold -> 1x1 proj."""

    def __init__(self, in_channels, attn_unit_dim, ffn_multiplier=2.0, n_attn_blocks=2, attn_dropout=0.0,
                 dropout=0.0, ffn_dropout=0.0, patch_h=2, patch_w=2, conv_ksize=3, dilation=1, *args, **kwargs):
        super().__init__()
        cnn_out_dim = attn_unit_dim
        self.local_rep = nn.Sequential(
            nn.Sequential(
                nn.Conv2d(in_channels, in_channels, conv_ksize, 1, padding=1, dilation=dilation, groups=in_channels),
                nn.BatchNorm2d(in_channels),
                nn.LeakyReLU(negative_slope=0.1),
            ),
            nn.Conv2d(in_channels, cnn_out_dim, 1),
        )
        dims = self._ffn_dims(attn_unit_dim, ffn_multiplier, n_attn_blocks)
        self.global_rep = nn.Sequential(
            *(LinearAttnFFN(attn_unit_dim, d, attn_dropout, dropout, ffn_dropout) for d in dims),
            LayerNorm(normalized_shape=attn_unit_dim),
        )
        self.conv_proj = nn.Sequential(nn.Conv2d(cnn_out_dim, in_channels, 1), nn.BatchNorm2d(in_channels))
        self.patch_h, self.patch_w = patch_h, patch_w
        self.patch_area = patch_h * patch_w
        self.n_blocks = n_attn_blocks

    @staticmethod
    def _ffn_dims(d_model, mult, n):
        if isinstance(mult, (list, tuple)):
            lo, hi = (mult[0], mult[1]) if len(mult) == 2 else (mult[0], mult[0])
            ratios = [lo + (hi - lo) * i / max(n - 1, 1) for i in range(n)]
        else:
            ratios = [mult] * n
        return [int((r * d_model) // 16 * 16) for r in ratios]

    def forward(self, x, *args, **kwargs):
        h, w = x.shape[2:]
        if h % self.patch_h or w % self.patch_w:
            x = F.interpolate(x, size=(math.ceil(h / self.patch_h) * self.patch_h,
                                       math.ceil(w / self.patch_w) * self.patch_w), mode="bilinear", align_corners=True)
        fm = self.local_rep(x)
        b, c, hh, ww = fm.shape
        patches = F.unfold(fm, kernel_size=(self.patch_h, self.patch_w), stride=(self.patch_h, self.patch_w))
        patches = self.global_rep(patches.reshape(b, c, self.patch_area, -1))
        fm = F.fold(patches.reshape(b, c * self.patch_area, -1), output_size=(hh, ww),
                    kernel_size=(self.patch_h, self.patch_w), stride=(self.patch_h, self.patch_w))
        return self.conv_proj(fm)


class MobileViTBlock(nn.Module):
    """YOLO wrapper: optional 1x1 channel adjust to c2, a MobileViTv2 block with n attention units, shortcut."""

    def __init__(self, c1, c2, n=1, shortcut=True, g=1, e=0.5):
        super().__init__()
        self.c = c2
        self.shortcut = shortcut and c1 == c2
        self.channel_adjust = nn.Conv2d(c1, c2, 1, bias=False) if c1 != c2 else nn.Identity()
        self.mobilevit = MobileViTBlockv2(
            in_channels=c2, attn_unit_dim=max(64, c2 // 4), ffn_multiplier=2, n_attn_blocks=max(1, n),
            patch_h=2, patch_w=2, dropout=0.0, ffn_dropout=0.0, attn_dropout=0.0, conv_ksize=3, dilation=1,
        )

    def forward(self, x):
        x = self.channel_adjust(x)
        out = self.mobilevit(x)
        return out + x if self.shortcut else out

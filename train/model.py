"""The U-Net in its two flavours (HE-friendly and standard), batch-norm folding, and the level count.

HE-friendly (CryptoUNets, arXiv 2504.21543): 3x3 conv -> BatchNorm -> quadratic a*y^2 + b*y (learnable per
channel; pure square a=1, b=0 is the "square" activation) ; 2x2 average pooling ; ConvTranspose2d k2 s2 ;
skips concatenated as cat([upsampled, skip], 1) ; 1x1 head to `out_channels` logits (1: nucleus; 2: nucleus and
nucleus boundary, the contour-aware model of DCAN, Chen et al. 2016).
Standard reference of the same size: ReLU and 2x2 max pooling instead.

`forward(x, record=list)` appends (name, tensor) for every recorded layer output in execution order; those
names are also the ONNX tensor names after export (export.py renames the graph to match).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F


class Quadratic(nn.Module):
    """y -> (a*y + b) * y, per channel; exported as Mul(Add(Mul(y, a), b), y).

    Under CKKS the conv producing y also produces a*y + b at the same level, so this costs one level
    (docs/MODEL.md: the level count and how activation ranges are kept small)."""

    def __init__(self, channels, a_init=0.1, b_init=1.0):
        super().__init__()
        self.a = nn.Parameter(torch.full((1, channels, 1, 1), float(a_init)))
        self.b = nn.Parameter(torch.full((1, channels, 1, 1), float(b_init)))

    def forward(self, y):
        return (y * self.a + self.b) * y


class Square(nn.Module):
    """y -> y * y (the paper's pure square), exported as Mul(y, y)."""

    def forward(self, y):
        return y * y


def make_activation(kind, channels, a_init, b_init):
    if kind == "quadratic":
        return Quadratic(channels, a_init, b_init)
    if kind == "square":
        return Square()
    if kind == "relu":
        return nn.ReLU()
    raise ValueError(f"unknown activation {kind!r} (quadratic, square or relu)")


class ConvUnit(nn.Module):
    """3x3 conv (same padding) -> BatchNorm (absent once folded) -> activation."""

    def __init__(self, cin, cout, activation, norm, a_init, b_init):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=not norm)
        self.bn = nn.BatchNorm2d(cout) if norm else None
        self.act = make_activation(activation, cout, a_init, b_init)

    def forward(self, x, name, record):
        y = self.conv(x)
        if self.bn is not None:
            y = self.bn(y)
        _rec(record, name + ".conv", y)
        z = self.act(y)
        _rec(record, name + ".act", z)
        return z


def _rec(record, name, t):
    if record is not None:
        record.append((name, t))


class UNet(nn.Module):
    def __init__(self, depth=2, base_channels=8, convs_per_stage=2, activation="quadratic", pool="avg",
                 norm=True, a_init=0.1, b_init=1.0, out_channels=1):
        super().__init__()
        if pool not in ("avg", "max"):
            raise ValueError(f"unknown pool {pool!r} (avg or max)")
        self.config = dict(depth=depth, base_channels=base_channels, convs_per_stage=convs_per_stage,
                           activation=activation, pool=pool, a_init=a_init, b_init=b_init,
                           out_channels=out_channels)
        self.pool_kind = pool

        def stage(cin, cout):
            return nn.ModuleList([ConvUnit(cin if i == 0 else cout, cout, activation, norm, a_init, b_init)
                                  for i in range(convs_per_stage)])

        ch = [base_channels * 2 ** d for d in range(depth + 1)]
        self.enc = nn.ModuleList([stage(1 if d == 0 else ch[d - 1], ch[d]) for d in range(depth)])
        self.mid = stage(ch[depth - 1] if depth else 1, ch[depth])
        self.up = nn.ModuleList([nn.ConvTranspose2d(ch[d + 1], ch[d], 2, stride=2) for d in range(depth)])
        self.dec = nn.ModuleList([stage(2 * ch[d], ch[d]) for d in range(depth)])
        self.head = nn.Conv2d(ch[0], out_channels, 1)

    def _stage(self, units, x, prefix, record):
        for i, u in enumerate(units):
            x = u(x, f"{prefix}.{i}", record)
        return x

    def forward(self, x, record=None):
        skips = []
        for d, units in enumerate(self.enc):
            x = self._stage(units, x, f"enc{d}", record)
            skips.append(x)
            # count_include_pad=False: same result without padding, and no Pad node in the ONNX export
            x = F.avg_pool2d(x, 2, count_include_pad=False) if self.pool_kind == "avg" else F.max_pool2d(x, 2)
            _rec(record, f"enc{d}.pool", x)
        x = self._stage(self.mid, x, "mid", record)
        for d in reversed(range(len(self.enc))):
            x = self.up[d](x)
            _rec(record, f"dec{d}.up", x)
            x = torch.cat([x, skips[d]], 1)
            _rec(record, f"dec{d}.cat", x)
            x = self._stage(self.dec[d], x, f"dec{d}", record)
        x = self.head(x)
        _rec(record, "logits", x)
        return x


def multiplicative_levels(depth, convs_per_stage):
    """CKKS levels of one forward pass without bootstrapping: each conv 1, each activation 1 (the quadratic
    a*y^2 + b*y folds a, b into the preceding conv), each transposed conv 1, the head 1, pooling 0
    (a sum times a constant folded into the next linear layer). For the ReLU model the same count, as if ReLU
    were one level (it is not encryptable as such; the number is only for comparison)."""
    stages_on_path = 2 * depth + 1  # encoder stages, bottleneck, decoder stages
    return stages_on_path * convs_per_stage * 2 + depth + 1


def fold_batchnorm(model):
    """A copy of `model` without BatchNorm: each BN is folded exactly into the conv before it (eval mode stats).

    w' = w * g / sqrt(v + eps), b' = (b - m) * g / sqrt(v + eps) + beta."""
    cfg = dict(model.config)
    folded = UNet(norm=False, **cfg).to(next(model.parameters()).device)
    src = dict(model.named_modules())
    with torch.no_grad():
        for name, mod in folded.named_modules():
            if isinstance(mod, ConvUnit):
                s = src[name]
                w, b = s.conv.weight.double(), (s.conv.bias.double() if s.conv.bias is not None else 0.0)
                if s.bn is not None:
                    scale = s.bn.weight.double() / torch.sqrt(s.bn.running_var.double() + s.bn.eps)
                    w = w * scale.view(-1, 1, 1, 1)
                    b = (b - s.bn.running_mean.double()) * scale + s.bn.bias.double()
                mod.conv.weight.copy_(w.to(mod.conv.weight.dtype))
                mod.conv.bias.copy_(torch.as_tensor(b).to(mod.conv.bias.dtype).expand_as(mod.conv.bias))
                if isinstance(mod.act, Quadratic):
                    mod.act.a.copy_(s.act.a)
                    mod.act.b.copy_(s.act.b)
        for d in range(len(folded.up)):
            folded.up[d].load_state_dict(model.up[d].state_dict())
        folded.head.load_state_dict(model.head.state_dict())
    return folded.eval()


def load_folded_onnx(path, out_channels=1):
    """A BN-free UNet holding the weights of an exported (folded) ONNX model, e.g. to fine-tune it.

    The architecture comes from the producer's doc string (export_onnx writes the config there). With more
    `out_channels` than the file has, the file's head fills the first channels and the rest start small and random."""
    import json
    import onnx
    import onnx.numpy_helper
    m = onnx.load(path)
    cfg = json.loads(m.doc_string.split(" ", 1)[1])
    cfg["out_channels"] = out_channels
    net = UNet(norm=False, **cfg)
    weights = {i.name: torch.from_numpy(onnx.numpy_helper.to_array(i).copy()) for i in m.graph.initializer}
    params = dict(net.named_parameters())

    def module_name(tensor):  # "enc0.1.conv.weight" -> "enc.0.1.conv.weight", "dec1.up.bias" -> "up.1.bias"
        head, _, rest = tensor.partition(".")
        if head == "logits":
            return "head." + rest
        if head == "mid":
            return tensor
        kind, index = head[:3], head[3:]
        return f"up.{index}.{rest[3:]}" if rest.startswith("up.") else f"{kind}.{index}.{rest}"

    with torch.no_grad():
        for name, value in weights.items():
            if name.endswith((".ay", ".ay_b")):
                continue
            target = params[module_name(name)]
            if target.shape == value.shape:
                target.copy_(value)
            elif name.startswith("logits."):
                target.mul_(0.1)
                target[:value.shape[0]].copy_(value)
            else:
                raise ValueError(f"{path}: {name} has shape {tuple(value.shape)}, model {tuple(target.shape)}")
    return net

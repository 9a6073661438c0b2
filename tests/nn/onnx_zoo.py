#!/usr/bin/env python3
"""A zoo of small networks written and exported the ordinary way (torch.onnx.export, no post-processing), for the
C++ ONNX loader test: every HE-friendly graph must load and match PyTorch's float64 output; the others must be
refused naming the op and its HE-friendly replacement.

Writes into --out: <model>_op<opset>.onnx, and manifest.json listing for each file the input, PyTorch's float64
output, or the words the loader's error must contain.
Usage: onnx_zoo.py --out DIR
"""
import argparse
import json
import os

import warnings

import torch
import torch.nn as nn
import torch.nn.functional as F

SIDE = 16  # input tiles are 1 x C x SIDE x SIDE; multiple of 8 for depth 3


class Quadratic(nn.Module):
    """Learnable per-channel a*y^2 + b*y (+ c), written in a given term order."""

    def __init__(self, channels, order="ayy+by", constant=False):
        super().__init__()
        self.a = nn.Parameter(0.1 + 0.2 * torch.rand(1, channels, 1, 1))
        self.b = nn.Parameter(0.5 + torch.rand(1, channels, 1, 1))
        self.c = nn.Parameter(0.3 * torch.randn(1, channels, 1, 1)) if constant else None
        self.order = order

    def forward(self, y):
        if self.order == "ayy+by":
            out = self.a * y * y + self.b * y
        elif self.order == "by+a*pow":
            out = y * self.b + torch.pow(y, 2) * self.a
        else:  # "(ay+b)y", the form train/export.py writes
            out = (y * self.a + self.b) * y
        return out + self.c if self.c is not None else out


class Square(nn.Module):
    def __init__(self, use_pow=False):
        super().__init__()
        self.use_pow = use_pow

    def forward(self, y):
        return y.pow(2) if self.use_pow else y * y


def block(cin, cout, act, bn, kernel=3):
    """conv, then BN and the activation in the order given: bn False, True ("before" the activation) or "after"."""
    layers = [nn.Conv2d(cin, cout, kernel, padding=kernel // 2)]
    if bn is True:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(act(cout))
    if bn == "after":
        layers.append(nn.BatchNorm2d(cout))
    return nn.Sequential(*layers)


def downsampling(channels, down, bn):
    """AvgPool2d(2), or the learned Conv2d(kernel_size=2, stride=2) (with its BN when bn is set)."""
    if down == "pool":
        return nn.AvgPool2d(2)
    conv = nn.Conv2d(channels, channels, 2, stride=2)
    return nn.Sequential(conv, nn.BatchNorm2d(channels)) if bn else conv


class UNet(nn.Module):
    """Depth 1 to 3 HE-friendly U-Net: conv (+BN) + activation, AvgPool2d(2) or a strided 2x2 conv (down="conv"),
    ConvTranspose2d(2, 2), concat skips; in_channels input channels (3: RGB), a 1x1 head of out_channels logits
    (3: classes)."""

    def __init__(self, depth, base=2, bn=False, act=lambda c: Square(), kernel=3, residual=False, in_channels=1,
                 out_channels=1, down="pool"):
        super().__init__()
        self.depth, self.residual = depth, residual
        self.in_channels = in_channels
        chans = [base * 2**d for d in range(depth + 1)]
        self.enc = nn.ModuleList()
        self.down = nn.ModuleList()
        cin = in_channels
        for d in range(depth):
            self.enc.append(block(cin, chans[d], act, bn, kernel))
            self.down.append(downsampling(chans[d], down, bn is True))
            cin = chans[d]
        self.mid = block(cin, chans[depth], act, bn, kernel)
        self.mid2 = block(chans[depth], chans[depth], act, bn) if residual else None
        self.up = nn.ModuleList()
        self.dec = nn.ModuleList()
        for d in reversed(range(depth)):
            self.up.append(nn.ConvTranspose2d(chans[d + 1], chans[d], 2, stride=2))
            self.dec.append(block(2 * chans[d], chans[d], act, bn))
        self.head = nn.Conv2d(chans[0], out_channels, 1)

    def forward(self, x):
        skips = []
        for enc, down in zip(self.enc, self.down):
            x = enc(x)
            skips.append(x)
            x = down(x)
        x = self.mid(x)
        if self.residual:
            x = x + self.mid2(x)
        for up, dec in zip(self.up, self.dec):
            x = dec(torch.cat([up(x), skips.pop()], dim=1))
        return self.head(x)


class BatchNormAfterConcat(nn.Module):
    """A per-channel affine map that has no conv to fold into: BN on the concatenated skip, read by the 1x1 head,
    by a 3x3 same-padding conv (whose zero padding a shift folded into the bias would break at the borders), or by
    nothing (the model output)."""

    def __init__(self, reader="head"):
        super().__init__()
        self.reader = reader
        self.c1 = block(1, 2, lambda c: Square(), bn=False)
        self.pool = nn.AvgPool2d(2)
        self.c2 = block(2, 2, lambda c: Square(), bn=False)
        self.up = nn.Sequential(nn.ConvTranspose2d(2, 2, 2, stride=2), Square())
        self.bn = nn.BatchNorm2d(4)
        self.dec = block(4, 2, lambda c: Square(), bn=False) if reader == "conv3x3" else nn.Identity()
        self.head = nn.Conv2d(2 if reader == "conv3x3" else 4, 1, 1)

    def forward(self, x):
        s = self.c1(x)
        y = self.bn(torch.cat([self.up(self.c2(self.pool(s))), s], dim=1))
        return y if self.reader == "output" else self.head(self.dec(y))


class SizeMatchingPad(nn.Module):
    """The popular U-Net decoder that pads the upsampled map to the skip's size (zero here) with F.pad: the size
    arithmetic (Shape, Gather, Sub, Div, ConstantOfShape, Slice, Transpose, Cast...) folds to a zero Pad."""

    def __init__(self):
        super().__init__()
        self.c1 = block(1, 2, lambda c: Square(), bn=False)
        self.pool = nn.AvgPool2d(2)
        self.c2 = block(2, 2, lambda c: Square(), bn=False)
        self.up = nn.ConvTranspose2d(2, 2, 2, stride=2)
        self.dec = block(4, 2, lambda c: Square(), bn=False)
        self.head = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        s = self.c1(x)
        u = self.up(self.c2(self.pool(s)))
        dy, dx = s.size()[2] - u.size()[2], s.size()[3] - u.size()[3]
        u = F.pad(u, [dx // 2, dx - dx // 2, dy // 2, dy - dy // 2])
        return self.head(self.dec(torch.cat([u, s], dim=1)))


class ParallelBranchSum(nn.Module):
    """A sum of two branches of equal depth (conv + square each), then the usual decoder."""

    def __init__(self):
        super().__init__()
        self.c1 = block(1, 2, lambda c: Square(), bn=False)
        self.pool = nn.AvgPool2d(2)
        self.left = block(2, 4, lambda c: Square(), bn=False)
        self.right = block(2, 4, lambda c: Square(), bn=False, kernel=1)
        self.up = nn.ConvTranspose2d(4, 2, 2, stride=2)
        self.dec = block(4, 2, lambda c: Square(), bn=False)
        self.head = nn.Conv2d(2, 1, 1)

    def forward(self, x):
        s = self.c1(x)
        p = self.pool(s)
        return self.head(self.dec(torch.cat([self.up(self.left(p) + self.right(p)), s], dim=1)))


class NotHeFriendly(nn.Module):
    def __init__(self, kind):
        super().__init__()
        self.kind = kind
        self.c1 = nn.Conv2d(1, 2, 3, padding=1)
        self.c2 = nn.Conv2d(2, 1, 1)
        self.upsample = nn.Upsample(scale_factor=2, mode="nearest")

    def forward(self, x):
        y = self.c1(x)
        if self.kind == "relu_maxpool":
            return self.c2(F.max_pool2d(torch.relu(y), 2))
        if self.kind == "sigmoid":
            return torch.sigmoid(self.c2(y * y))
        if self.kind == "tanh":
            return self.c2(torch.tanh(y))
        return self.c2(self.upsample(F.avg_pool2d(y * y, 2)))  # "upsample"


def randomize_batch_norm(model):
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.3, 0.3)


# name -> (builder, export keyword arguments, words the loader's refusal must contain, words the encrypted path's
# refusal must contain); None: accepted.
PRESERVE = {"training": torch.onnx.TrainingMode.PRESERVE}  # keeps BatchNormalization nodes unfolded
DYNAMIC = {"dynamic_axes": {"image": {0: "n", 2: "h", 3: "w"}, "logits": {0: "n", 2: "h", 3: "w"}}}
ZOO = {
    "unet_d1_square": (lambda: UNet(1), {}, None, None),
    "unet_d2_square_pow": (lambda: UNet(2, act=lambda c: Square(use_pow=True)), {}, None, None),
    "unet_d1_bn_quadratic": (lambda: UNet(1, bn=True, act=lambda c: Quadratic(c, "ayy+by")), PRESERVE, None, None),
    "unet_d2_bn_quadratic": (lambda: UNet(2, bn=True, act=lambda c: Quadratic(c, "by+a*pow")), PRESERVE, None, None),
    "unet_d2_bn_exporter_folded": (lambda: UNet(2, bn=True, act=lambda c: Quadratic(c, "(ay+b)y")), {}, None, None),
    "unet_d1_bn_after_square": (lambda: UNet(1, bn="after"), PRESERVE, None, None),
    "unet_d1_dynamic_axes": (lambda: UNet(1, bn=True), DYNAMIC, None, None),
    "unet_d1_conv5x5": (lambda: UNet(1, kernel=5), {}, None, None),
    "size_matching_pad": (SizeMatchingPad, {}, None, None),
    "parallel_branch_sum": (ParallelBranchSum, {}, None, None),
    "unet_d3_square": (lambda: UNet(3), {}, None, None),
    "unet_d3_bn_square": (lambda: UNet(3, bn=True), PRESERVE, None, None),
    "unet_d1_strided_conv": (lambda: UNet(1, down="conv"), {}, None, None),
    "unet_d2_strided_conv_bn": (lambda: UNet(2, bn=True, act=lambda c: Quadratic(c, "ayy+by"), down="conv"),
                                PRESERVE, None, None),
    "unet_d3_strided_conv_rgb_3class": (lambda: UNet(3, down="conv", in_channels=3, out_channels=3), {}, None, None),
    "unet_d1_residual_add": (lambda: UNet(1, residual=True), {}, None, ["/Add", "different numbers of levels"]),
    "unet_d1_rgb": (lambda: UNet(1, in_channels=3), {}, None, None),
    "unet_d1_3class": (lambda: UNet(1, out_channels=3), {}, None, None),
    "unet_d1_bn_rgb_3class": (lambda: UNet(1, bn=True, act=lambda c: Quadratic(c, "ayy+by"), in_channels=3,
                                           out_channels=3), PRESERVE, None, None),
    "unet_d2_bn_rgb_mask_contour": (lambda: UNet(2, bn=True, act=lambda c: Quadratic(c, "(ay+b)y"), in_channels=3,
                                                 out_channels=2), {}, None, None),
    "unet_d1_quadratic_constant": (lambda: UNet(1, act=lambda c: Quadratic(c, "ayy+by", constant=True)), {}, None,
                                   None),
    "bn_after_concat": (BatchNormAfterConcat, PRESERVE, None, None),
    "bn_after_concat_conv3x3": (lambda: BatchNormAfterConcat("conv3x3"), PRESERVE, None, None),
    "bn_after_concat_at_output": (lambda: BatchNormAfterConcat("output"), PRESERVE, None,
                                  ["'logits'", "batch norm", "must feed convolutions"]),
    "relu_maxpool": (lambda: NotHeFriendly("relu_maxpool"), {}, None, ["Relu", "x*x"]),
    "sigmoid": (lambda: NotHeFriendly("sigmoid"), {}, ["Sigmoid", "drop it"], None),
    "tanh": (lambda: NotHeFriendly("tanh"), {}, ["Tanh", "x*x"], None),
    "upsample": (lambda: NotHeFriendly("upsample"), {}, ["Resize", "ConvTranspose2d"], None),
}
OPSETS = (13, 17)
# Also run on real ciphertexts (N = 2^15, 16x16 tiles) at the first opset: colour in, classes out; the strided
# convolution.
ENCRYPTED = ("unet_d1_bn_rgb_3class", "unet_d1_strided_conv")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")  # the exporter's advice on training-mode export and shape inference
    os.makedirs(args.out, exist_ok=True)
    torch.manual_seed(2018)
    manifest = []
    for name, (build, export_args, error_words, encrypted_error_words) in ZOO.items():
        model = build().double()
        randomize_batch_norm(model)
        model.eval()
        x = torch.randn(1, getattr(model, "in_channels", 1), SIDE, SIDE, dtype=torch.float64)
        with torch.no_grad():
            y = model(x)
        for opset in OPSETS:
            path = os.path.join(args.out, f"{name}_op{opset}.onnx")
            torch.onnx.export(model, x, path, opset_version=opset, input_names=["image"], output_names=["logits"],
                              **export_args)
            entry = {"file": os.path.basename(path), "opset": opset}
            if error_words:
                entry["error_words"] = error_words
            else:
                entry.update(input_shape=list(x.shape), input=x.flatten().tolist(), output=y.flatten().tolist())
            if encrypted_error_words:
                entry["encrypted_error_words"] = encrypted_error_words
            if name in ENCRYPTED and opset == OPSETS[0]:
                entry["ckks"] = True
            manifest.append(entry)
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump(manifest, f)
    print(f"wrote {len(manifest)} ONNX files to {args.out}")


if __name__ == "__main__":
    main()

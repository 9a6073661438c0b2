"""Train the HE-friendly (or the standard) U-Net on DSB-layout nuclei data, evaluate it, export it.

  /usr/bin/python3 train/train.py --config train/configs/unet_he.json            # CPU, default data path
  /usr/bin/python3 train/train.py --config train/configs/unet_std.json --device cuda

Writes the run (log.csv, summary.json, curves.png, best.pt) to train/runs/<name>/ and, unless --no-export,
models/<name>.onnx + models/<name>.json and tests/data/<name>_fixture.json. See docs/MODEL.md.
"""
import argparse
import csv
import json
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data as D  # noqa: E402
import export as E  # noqa: E402
import instances as I  # noqa: E402
import model as M  # noqa: E402

# The second output channel -> the instance split it drives and the sidecar's output kind (docs/MODEL.md).
INSTANCE_METHOD = {"boundary": "contour", "core": "core"}
OUTPUT_KIND = {"boundary": "mask+contour", "core": "mask+core"}
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
DEFAULTS = dict(name="unet_he", depth=2, base_channels=8, convs_per_stage=2, activation="quadratic", pool="avg",
                a_init=0.1, b_init=1.0, clip=4.0, min_std=1e-3, crop=128, batch=16, steps=3000, lr=2e-3,
                lr_min_frac=0.05, warmup=100, weight_decay=0.0, grad_clip=1.0, dice_weight=1.0, eval_every=250,
                patience=6, seed=0, threads=2, range_images=0, range_weight=0.0, range_bound=4.0,
                freeze_bn_frac=0.0, range_limit=1000.0, out_channels=1, contour_weight=1.0, contour_dice_weight=1.0,
                second_channel="boundary", core_erosion=2, seed_thresholds=(0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9),
                head_lr_mult=1.0, select="val_dice", touch_weight=0.0,
                init_onnx="", dataset="dsb")


def load_config(path, overrides):
    cfg = dict(DEFAULTS)
    if path:
        with open(path) as f:
            user = json.load(f)
        unknown = set(user) - set(DEFAULTS) - {"comment"}
        if unknown:
            raise ValueError(f"{path}: unknown config keys {sorted(unknown)}")
        cfg.update(user)
    for kv in overrides:
        k, v = kv.split("=", 1)
        if k not in DEFAULTS:
            raise ValueError(f"--set {k}: unknown config key")
        if isinstance(DEFAULTS[k], tuple):
            cfg[k] = tuple(float(t) for t in v.split(","))
        else:
            cfg[k] = type(DEFAULTS[k])(v) if not isinstance(DEFAULTS[k], str) else v
    if cfg["select"] not in ("val_dice", "last"):
        raise ValueError(f"select {cfg['select']!r}: val_dice or last")
    if cfg["second_channel"] not in INSTANCE_METHOD:
        raise ValueError(f"second_channel {cfg['second_channel']!r}: boundary or core")
    return cfg


def seed_everything(seed, device):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    if device.type == "cuda":
        torch.cuda.manual_seed_all(seed)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    torch.use_deterministic_algorithms(True, warn_only=True)


def loss_fn(logits, target, dice_weight, weight=None):
    bce = F.binary_cross_entropy_with_logits(logits, target, weight)
    p = torch.sigmoid(logits)
    dice = (2 * (p * target).sum() + 1) / (p.sum() + target.sum() + 1)
    return bce + dice_weight * (1 - dice)


def range_penalty(record, bound):
    """Mean squared excess of every pre-activation (conv output after BN) over +-bound.

    A polynomial activation explodes outside the range it was trained on, and the error compounds layer after
    layer (double-exponentially for squares); under CKKS large values also cost precision or overflow. This keeps
    the inputs of every quadratic inside [-bound, bound] on the training data."""
    terms = [F.relu(t.abs() - bound).pow(2).mean() for n, t in record if n.endswith(".conv")]
    return torch.stack(terms).sum()


def set_bn_frozen(net, frozen):
    """Frozen BN uses (and keeps) its running statistics: training then sees exactly the exported function."""
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.train(not frozen)


def total_loss(logits, target, cfg):
    """Nucleus loss, plus for the instance-aware model the loss on channel 1, boundary band or core (soft Dice
    weighted apart: on a thin band it pushes the whole probability map up, and the split needs calibrated
    probabilities)."""
    loss = loss_fn(logits[:, :1], target[:, :1], cfg["dice_weight"])
    if cfg["out_channels"] == 2:
        # target channel 2, when present: the touching zone, whose pixels weigh 1 + touch_weight in the BCE
        weight = 1 + cfg["touch_weight"] * target[:, 2:3] if target.shape[1] == 3 else None
        loss = loss + cfg["contour_weight"] * loss_fn(logits[:, 1:2], target[:, 1:2], cfg["contour_dice_weight"],
                                                      weight)
    return loss


def dice_iou(pred, gt):
    """Per-image Dice and IoU of boolean masks; both empty counts as a perfect 1."""
    inter = np.logical_and(pred, gt).sum()
    ps, gs = pred.sum(), gt.sum()
    union = ps + gs - inter
    return (2 * inter / (ps + gs) if ps + gs else 1.0), (inter / union if union else 1.0)


def predict_masks(net, items, device, depth, threshold=0.0):
    """Whole-image masks (channel 0 > threshold): fully convolutional, zero-padded to a multiple of 2^depth."""
    net.eval()
    masks = []
    with torch.no_grad():
        for _, x, _ in items:
            t = E.pad_to_multiple(torch.from_numpy(x)[None, None].to(device), 2 ** depth)
            masks.append(net(t)[0, 0, :x.shape[0], :x.shape[1]].cpu().numpy() > threshold)
    return masks


def evaluate(net, items, device, depth, threshold=0.0):
    """Mean Dice / IoU over whole images."""
    scores = [dice_iou(p, m > 0) for p, (_, _, m) in zip(predict_masks(net, items, device, depth, threshold), items)]
    return float(np.mean([d for d, _ in scores])), float(np.mean([i for _, i in scores]))


def evaluate_instances(net, items, labels, device, depth, method, thresholds):
    """Mean DSB average precision over whole images of the model's split at each seed threshold, and of plain
    connected components: ({threshold: mAP}, components mAP)."""
    net.eval()
    split, comps = {t: [] for t in thresholds}, []
    with torch.no_grad():
        for id_, x, _ in items:
            t = E.pad_to_multiple(torch.from_numpy(x)[None, None].to(device), 2 ** depth)
            logits = net(t)[0, :, :x.shape[0], :x.shape[1]].cpu().numpy()
            for th in thresholds:
                split[th].append(I.dsb_average_precision(I.split(method, logits[0], logits[1], th), labels[id_]))
            comps.append(I.dsb_average_precision(I.components(logits[0] > 0), labels[id_]))
    return {th: float(np.mean(v)) for th, v in split.items()}, float(np.mean(comps))


def build_net(cfg, device):
    """A fresh UNet with BN, or (init_onnx) the BN-free weights of an exported model to fine-tune."""
    if cfg["init_onnx"]:
        return M.load_folded_onnx(os.path.join(ROOT, cfg["init_onnx"]), cfg["out_channels"]).to(device)
    return M.UNet(cfg["depth"], cfg["base_channels"], cfg["convs_per_stage"], cfg["activation"], cfg["pool"],
                  True, cfg["a_init"], cfg["b_init"], cfg["out_channels"]).to(device)


def training_items(cfg, ds):
    """Train items with their targets: the mask, or for the instance-aware model mask and boundary band or core (and
    the touching zone, with touch_weight)."""
    if cfg["out_channels"] == 1:
        return ds.items["train"]
    second = (D.boundary_band if cfg["second_channel"] == "boundary"
              else lambda labels: D.nucleus_core(labels, cfg["core_erosion"]))

    def targets(m, labels):
        extra = [D.touching_zone(labels, cfg["core_erosion"] + 1)] if cfg["touch_weight"] > 0 else []
        return np.stack([m, second(labels)] + extra)
    return [(id_, x, targets(m, ds.labels[id_])) for id_, x, m in ds.items["train"]]


def plot_curves(rows, path, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    ax[0].plot([r["step"] for r in rows], [r["train_loss"] for r in rows])
    ax[0].set(xlabel="step", ylabel="train loss (BCE + soft Dice)", title=title)
    ax[1].plot([r["step"] for r in rows], [r["val_dice"] for r in rows], label="Dice")
    ax[1].plot([r["step"] for r in rows], [r["val_iou"] for r in rows], label="IoU")
    ax[1].set(xlabel="step", ylabel="validation (whole images)")
    ax[1].legend()
    for a in ax:
        a.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def train(cfg, ds, device, out_dir):
    seed_everything(cfg["seed"], device)
    net = build_net(cfg, device)
    # head_lr_mult: a head channel added to a fine-tuned model starts from scratch and needs a larger step
    head = list(net.head.parameters())
    body = [p for p in net.parameters() if all(p is not h for h in head)]
    opt = torch.optim.Adam([{"params": body}, {"params": head, "lr": cfg["lr"] * cfg["head_lr_mult"]}],
                           lr=cfg["lr"], weight_decay=cfg["weight_decay"])

    def lr_at(step):  # linear warm-up, then cosine decay to lr_min_frac * lr
        if step < cfg["warmup"]:
            return (step + 1) / cfg["warmup"]
        f = (step - cfg["warmup"]) / max(1, cfg["steps"] - cfg["warmup"])
        return cfg["lr_min_frac"] + (1 - cfg["lr_min_frac"]) * 0.5 * (1 + np.cos(np.pi * f))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    sampler = D.CropSampler(training_items(cfg, ds), cfg["crop"], cfg["seed"], clip=cfg["clip"])
    rows, best, best_state, best_row, stale, losses, frozen_seen = [], -1.0, None, None, 0, [], False
    skipped = bad_run = 0
    t0 = time.time()
    # the last freeze_bn_frac of the steps train with frozen BN; only checkpoints from that phase are kept
    freeze_from = int(cfg["steps"] * (1 - cfg["freeze_bn_frac"])) if cfg["freeze_bn_frac"] > 0 else 0
    for step in range(1, cfg["steps"] + 1):
        net.train()
        set_bn_frozen(net, 0 < freeze_from < step)
        xb, mb = sampler.batch(cfg["batch"])
        xb, mb = torch.from_numpy(xb).to(device), torch.from_numpy(mb).to(device)
        rec = [] if cfg["range_weight"] > 0 else None
        loss = total_loss(net(xb, rec), mb, cfg)
        if rec is not None:
            loss = loss + cfg["range_weight"] * range_penalty(rec, cfg["range_bound"])
        opt.zero_grad()
        if not torch.isfinite(loss):  # an outlier crop overflowed the polynomial activations: skip the batch
            skipped, bad_run = skipped + 1, bad_run + 1
            if bad_run > 20:
                raise RuntimeError(f"step {step}: loss not finite for {bad_run} steps (activations diverged); "
                                   "raise range_weight or lower lr")
            sched.step()
            continue
        bad_run = 0
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), cfg["grad_clip"])
        opt.step()
        sched.step()
        losses.append(loss.item())
        if step % cfg["eval_every"] == 0 or step == cfg["steps"]:
            vd, vi = evaluate(net, ds.items["val"], device, cfg["depth"])
            rows.append(dict(step=step, train_loss=float(np.mean(losses)) if losses else float("nan"), val_dice=vd, val_iou=vi,
                             lr=opt.param_groups[0]["lr"], seconds=round(time.time() - t0, 1)))
            if cfg["out_channels"] == 2:  # the split at the middle seed threshold, to follow the second channel
                rows[-1]["val_map"] = evaluate_instances(net, ds.items["val"], ds.labels, device, cfg["depth"],
                                                         INSTANCE_METHOD[cfg["second_channel"]], [0.5])[0][0.5]
            losses = []
            print(json.dumps(rows[-1]), flush=True)
            if 0 < freeze_from < step and not frozen_seen:
                best, frozen_seen = -1.0, True
            if vd > best or cfg["select"] == "last":
                best, stale, best_row = vd, 0, rows[-1]
                best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
            else:
                stale += 1
                if stale >= cfg["patience"] and step > freeze_from:
                    print(f"early stop at step {step}: no better validation Dice for {stale} evaluations")
                    break
    seconds = time.time() - t0
    net.load_state_dict(best_state)
    with open(os.path.join(out_dir, "log.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    plot_curves(rows, os.path.join(out_dir, "curves.png"), cfg["name"])
    info = dict(seconds=round(seconds, 1), steps_run=rows[-1]["step"], best_step=best_row["step"], skipped_steps=skipped,
                val_dice=best_row["val_dice"], val_iou=best_row["val_iou"], device=str(device), torch=torch.__version__)
    torch.save({"config": cfg, "info": info, "state_dict": net.state_dict()}, os.path.join(out_dir, "best.pt"))
    return net, info


def load_checkpoint(path, device):
    ckpt = torch.load(path, map_location=device)
    cfg = dict(DEFAULTS) | ckpt["config"]  # a run saved before a key existed gets its default
    net = build_net(cfg, device)
    net.load_state_dict(ckpt["state_dict"])
    return cfg, net.eval(), ckpt["info"]


def pick_fixture_crop(items, size=32):
    """A size x size crop of the first test image, where the mask covers closest to 30 % (deterministic)."""
    _, x, m = items[0]
    best, pos = None, (0, 0)
    for r in range(0, x.shape[0] - size + 1, size // 2):
        for c in range(0, x.shape[1] - size + 1, size // 2):
            score = abs(m[r:r + size, c:c + size].mean() - 0.3)
            if best is None or score < best:
                best, pos = score, (r, c)
    r, c = pos
    return x[r:r + size, c:c + size]


def export_all(net, cfg, ds, device, info, models_dir, fixture_dir):
    name = cfg["name"]
    folded = M.fold_batchnorm(net.eval())
    with torch.no_grad():  # folding is exact up to float32 rounding
        probe = torch.from_numpy(pick_fixture_crop(ds.items["test"]))[None, None].to(device)
        fold_err = float((net(probe) - folded.to(device)(probe)).abs().max())
    os.makedirs(models_dir, exist_ok=True)
    onnx_path = os.path.join(models_dir, name + ".onnx")
    ops = E.export_onnx(folded, onnx_path)
    range_items = ds.items["train"][:cfg["range_images"]] if cfg["range_images"] else ds.items["train"]
    ranges, worst = E.activation_ranges(folded, range_items, device, cfg["depth"])
    info["largest_activation_images"] = worst
    info["ranges_within_limit"] = worst[0][1] <= cfg["range_limit"]
    if not info["ranges_within_limit"]:  # unusable under CKKS for such inputs; see docs/MODEL.md
        print(f"WARNING: activation magnitude {worst[0][1]:.3g} > range_limit {cfg['range_limit']:g} on train image "
              f"{worst[0][0]} ({worst[0][2]}); try another seed or a larger range_weight", flush=True)
    sidecar = {
        "name": name, "format_version": 1,
        "architecture": {"depth": cfg["depth"], "base_channels": cfg["base_channels"],
                         "convs_per_stage": cfg["convs_per_stage"], "activation": cfg["activation"],
                         "pool": cfg["pool"], "concat_order": "upsampled_decoder, encoder_skip",
                         "out_channels": cfg["out_channels"]},
        "tile": cfg["crop"],
        "normalization": {"grayscale": "mean_rgb", "invert_if_mean_above": 0.5, "method": "zscore_per_image",
                          "min_std": cfg["min_std"], "clip": cfg["clip"]},
        "threshold_logit": 0.0,
        **({"output": OUTPUT_KIND[cfg["second_channel"]], "output_channels": 2,
            "channels": ["nucleus", cfg["second_channel"]],
            "instances": {"method": INSTANCE_METHOD[cfg["second_channel"]],
                          ("seed_below" if cfg["second_channel"] == "boundary" else "seed_above"): info["seed_threshold"],
                          "min_area": 10}}
           if cfg["out_channels"] == 2 else {}),
        "levels": M.multiplicative_levels(cfg["depth"], cfg["convs_per_stage"]),
        "activation_ranges": ranges,
        "metrics": {k: info[k] for k in ("test_dice", "test_iou", "val_dice", "val_iou", "test_volume_dice",
                                         "val_map_by_seed_threshold", "seed_threshold", "test_map_split",
                                         "test_map_components") if k in info} | {
            "split": ("train/mri.py: ch2 template slices (every tenth position validation), test the second subject"
                      if cfg["dataset"] == "mri" else
                      "sorted ids: index % 10 == 8 validation, == 9 test, else train") + "; mean over whole images",
            "test_images": len(ds.items["test"])},
        "training": {k: cfg[k] for k in ("steps", "batch", "crop", "lr", "seed", "grad_clip", "dice_weight",
                                         "a_init", "b_init", "range_weight", "range_bound", "freeze_bn_frac",
                                         "out_channels", "second_channel", "core_erosion", "touch_weight", "contour_weight",
                                         "contour_dice_weight", "head_lr_mult", "init_onnx",
                                         "dataset")}
                    | {k: info[k] for k in ("seconds", "steps_run", "best_step", "device", "torch")}
                    | {"ranges_over": f"{len(range_items)} whole train images, BN-folded float32 model",
                       "ranges_within_limit": info["ranges_within_limit"], "range_limit": cfg["range_limit"],
                       "bn_fold_max_abs_error": fold_err, "onnx_ops": ops},
    }
    with open(os.path.join(models_dir, name + ".json"), "w") as f:
        json.dump(sidecar, f, indent=1)
    if fixture_dir:
        os.makedirs(fixture_dir, exist_ok=True)
        fx = E.make_fixture(folded, name, pick_fixture_crop(ds.items["test"]))
        with open(os.path.join(fixture_dir, name + "_fixture.json"), "w") as f:
            json.dump(fx, f, separators=(",", ":"))
    return sidecar


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default=os.path.join(ROOT, "train", "configs", "unet_he.json"))
    ap.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                    help="override config entries (with --from-checkpoint: name and seed_thresholds only)")
    ap.add_argument("--data", default=os.path.join(ROOT, "..", "shared", "data", "dsb2018"),
                    help="DSB-layout folder (images/, masks/) or a .npz packed by train/data.py")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--out", help="run folder (default train/runs/<name>)")
    ap.add_argument("--models-dir", default=os.path.join(ROOT, "models"))
    ap.add_argument("--fixture-dir", default=os.path.join(ROOT, "tests", "data"))
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--from-checkpoint", metavar="BEST_PT", help="skip training: evaluate and export a saved run")
    ap.add_argument("--eval-data", nargs="*", default=[], help="extra DSB-layout folders to evaluate (all images)")
    a = ap.parse_args()

    device = torch.device(a.device)
    if a.from_checkpoint:
        cfg, net, info = load_checkpoint(a.from_checkpoint, device)
        for k, v in load_config("", a.set).items():  # only what does not change the trained network
            if k in ("name", "seed_thresholds") and any(kv.startswith(k + "=") for kv in a.set):
                cfg[k] = v
    else:
        cfg = load_config(a.config, a.set)
    torch.set_num_threads(cfg["threads"])  # also with cuda: the crop sampler and evaluation run on the CPU
    out_dir = a.out or os.path.join(ROOT, "train", "runs", cfg["name"])
    os.makedirs(out_dir, exist_ok=True)
    if cfg["dataset"] == "mri":
        import mri  # brain extraction: Debian's mricron-data and insighttoolkit5-examples (train/mri.py)
        ds = mri.MriDataset(cfg["clip"], cfg["min_std"])
    else:
        ds = D.Dataset(a.data, cfg["clip"], cfg["min_std"], with_labels=cfg["out_channels"] == 2)
    print(f"{cfg['name']}: train {len(ds.items['train'])}, val {len(ds.items['val'])}, "
          f"test {len(ds.items['test'])} images; levels {M.multiplicative_levels(cfg['depth'], cfg['convs_per_stage'])}",
          flush=True)
    if not a.from_checkpoint:
        net, info = train(cfg, ds, device, out_dir)
    info["test_dice"], info["test_iou"] = evaluate(net, ds.items["test"], device, cfg["depth"])
    if cfg["dataset"] == "mri":
        info["test_volume_dice"] = mri.volume_dice(predict_masks(net, ds.items["test"], device, cfg["depth"]),
                                                   ds.items["test"])
    if cfg["out_channels"] == 2:  # the seed threshold is chosen on the validation split, then scored on the test split
        method = INSTANCE_METHOD[cfg["second_channel"]]
        by_threshold, _ = evaluate_instances(net, ds.items["val"], ds.labels, device, cfg["depth"], method,
                                             cfg["seed_thresholds"])
        info["val_map_by_seed_threshold"] = {str(t): m for t, m in by_threshold.items()}
        info["seed_threshold"] = max(by_threshold, key=by_threshold.get)
        test_map, info["test_map_components"] = evaluate_instances(
            net, ds.items["test"], ds.labels, device, cfg["depth"], method, [info["seed_threshold"]])
        info["test_map_split"] = test_map[info["seed_threshold"]]
    for d in a.eval_data:
        info.setdefault("extra_eval", {})[d] = evaluate(net, D.Dataset(d, cfg["clip"], cfg["min_std"]).all_items(),
                                                        device, cfg["depth"])
    print(json.dumps(info), flush=True)
    if not a.no_export:
        info["onnx_ops"] = export_all(net, cfg, ds, device, info, a.models_dir, a.fixture_dir)["training"]["onnx_ops"]
    summary = {"config": cfg, **info}
    with open(os.path.join(out_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""PyTorch (1.13, CPU) yardstick for `gist train-ctr` throughput: the same CTR model as src/core/ctr/model.ts.

An item is its ID embedding plus its category embedding (a sum, as model.ts). DIN target attention scores each
history position with an MLP on (h, t, h-t, h*t); like model.ts the first layer is h@Wh + t@Wt + (h*t)@Wp (+ side@Ws),
the same function class as Linear(4d, A) on the concat (the h-t block folds into Wh and Wt), softmax over the real
positions (-1e9 at padding), weighted sum. GIST adds the searched source items through a second attention unit,
SimScore bin embeddings beside every history / searched item (inside the attention MLP and pooled into the tower),
and the SimDist histograms (2*M2 features) projected and added to the target. Tower 200-80 (ReLU) -> 1 logit,
BCE with logits, Adam; embedding tables are nn.Embedding(sparse=True) trained with SparseAdam.

Batches come from `--data PREFIX` (PREFIX.json + PREFIX.bin written by bench/ctr.ts: the exact batches our side
trains on) or, without it, from a seeded numpy generator with the same shapes and id distributions.

  /usr/bin/python3 bench/torch_ctr.py --config din_small --warmup 3 --steps 20     -> one JSON line
  /usr/bin/python3 bench/torch_ctr.py --data /tmp/x/gist --serve                   -> reads `run W M [THREADS]`
                                                                                     lines and `quit` from stdin
JSON: {samples_per_s, steps, threads, batch, phase_ms: {forward, backward, optimizer}, ...}
"""
import argparse
import ctypes
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

MASK_NEG = -1e9

CONFIGS = {
    # DIN small: embedding 18, attention MLP 64, tower 200-80, batch 1024, 100 history
    "din_small": dict(gist=False),
    # GIST: + 100 searched source items (second attention unit) + ASI simscore+simdist
    "gist": dict(gist=True),
}
BASE = dict(d=18, A=64, tower=[200, 80], B=1024, L=100, K=100, num_items=100_000, num_categories=1000,
            m1=20, m2=10, S=8, lr=0.005)


def glorot(*shape):
    fan_out = shape[-1]
    fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else fan_out
    lim = math.sqrt(6.0 / (fan_in + fan_out))
    return nn.Parameter(torch.empty(*shape).uniform_(-lim, lim))


class Attention(nn.Module):
    """DIN MLP scorer on (h, t, h-t, h*t) [+ side], softmax over real positions, weighted sums."""

    def __init__(self, d, A, S, form):
        super().__init__()
        self.form = form
        if form == "split":
            self.wh, self.wt, self.wp = glorot(d, A), glorot(d, A), glorot(d, A)
        else:  # the textbook concat form, Linear(4d, A)
            self.w1 = glorot(4 * d, A)
        self.b1 = nn.Parameter(torch.zeros(A))
        self.w2 = glorot(A, 1)
        self.ws = glorot(S, A) if S > 0 else None

    def forward(self, h, t, bias, side):
        B, L, d = h.shape
        t3 = t.unsqueeze(1)  # [B, 1, d]
        if self.form == "split":
            pre = torch.matmul(h, self.wh) + torch.matmul(h * t3, self.wp)  # [B, L, A]
            pre = pre + (torch.matmul(t, self.wt) + self.b1).unsqueeze(1)
        else:
            te = t3.expand(B, L, d)
            pre = torch.matmul(torch.cat([h, te, h - te, h * te], dim=2), self.w1) + self.b1
        if side is not None:
            pre = pre + torch.matmul(side, self.ws)
        scores = torch.matmul(F.relu(pre), self.w2).squeeze(2) + bias  # [B, L]
        w = torch.softmax(scores, dim=1).unsqueeze(1)  # [B, 1, L]
        pooled = torch.bmm(w, h).squeeze(1)  # [B, d]
        pooled_side = torch.bmm(w, side).squeeze(1) if side is not None else None
        return pooled, pooled_side


class CtrModel(nn.Module):
    def __init__(self, c, gist, form):
        super().__init__()
        d, A, S = c["d"], c["A"], c["S"]
        self.gist = gist
        self.item_pad = c["num_items"]
        self.cat_pad = c["num_categories"] + 1  # rows 0..C-1 categories, C unknown, C+1 padding
        self.sim_pad = c["m1"] + 1  # rows 0..M1-1 bins, M1 "no score", M1+1 padding
        self.item = nn.Embedding(c["num_items"] + 1, d, sparse=True, padding_idx=self.item_pad)
        self.category = nn.Embedding(c["num_categories"] + 2, d, sparse=True, padding_idx=self.cat_pad)
        for e in (self.item, self.category):
            with torch.no_grad():
                e.weight.uniform_(-0.05, 0.05)
                e.weight[e.padding_idx].zero_()
        side = S if gist else 0
        self.att_hist = Attention(d, A, side, form)
        width = 2 * d + side
        if gist:
            self.simscore = nn.Embedding(c["m1"] + 2, S, sparse=True, padding_idx=self.sim_pad)
            with torch.no_grad():
                self.simscore.weight.uniform_(-0.05, 0.05)
                self.simscore.weight[self.sim_pad].zero_()
            self.att_search = Attention(d, A, S, form)
            self.simdist = glorot(2 * c["m2"], d)
            width += d + S
        layers, prev = [], width
        for w in c["tower"]:
            layers += [nn.Linear(prev, w), nn.ReLU()]
            prev = w
        layers.append(nn.Linear(prev, 1))
        self.tower = nn.Sequential(*layers)

    def sparse_parameters(self):
        ps = [self.item.weight, self.category.weight]
        if self.gist:
            ps.append(self.simscore.weight)
        return ps

    def forward(self, b):
        B, L = b["hist_items"].shape
        # One lookup per table (target, history, searched items together), as gist's gatherMany.
        ids = [b["target"], b["hist_items"].reshape(-1)]
        cats = [b["target_cat"], b["hist_cat"].reshape(-1)]
        if self.gist:
            K = b["search_items"].shape[1]
            ids.append(b["search_items"].reshape(-1))
            cats.append(b["search_cat"].reshape(-1))
        emb = self.item(torch.cat(ids)) + self.category(torch.cat(cats))
        target = emb[:B]
        hist = emb[B:B + B * L].view(B, L, -1)
        if not self.gist:
            pooled, _ = self.att_hist(hist, target, b["hist_bias"], None)
            x = torch.cat([target, pooled], dim=1)
        else:
            search = emb[B + B * L:].view(B, K, -1)
            target = target + torch.matmul(b["simdist"], self.simdist)
            side = self.simscore(torch.cat([b["hist_bins"].reshape(-1), b["search_bins"].reshape(-1)]))
            hist_side = side[:B * L].view(B, L, -1)
            search_side = side[B * L:].view(B, K, -1)
            ph, phs = self.att_hist(hist, target, b["hist_bias"], hist_side)
            ps, pss = self.att_search(search, target, b["search_bias"], search_side)
            x = torch.cat([target, ph, phs, ps, pss], dim=1)
        return self.tower(x).squeeze(1)


def to_torch(c, raw, gist):
    """numpy arrays (ids with -1 padding) -> the tensors the model reads (padding -> padding rows)."""
    def ids(a, pad):
        a = a.astype(np.int64)
        return torch.from_numpy(np.where(a < 0, pad, a))

    b = {
        "target": ids(raw["target"], c["num_items"]),
        "target_cat": ids(raw["target_cat"], c["num_categories"] + 1),
        "hist_items": ids(raw["hist_items"], c["num_items"]),
        "hist_cat": ids(raw["hist_cat"], c["num_categories"] + 1),
        "hist_bias": torch.from_numpy(((1.0 - raw["hist_mask"]) * MASK_NEG).astype(np.float32)),
        "labels": torch.from_numpy(raw["labels"].astype(np.float32)),
    }
    if gist:
        b["search_items"] = ids(raw["search_items"], c["num_items"])
        b["search_cat"] = ids(raw["search_cat"], c["num_categories"] + 1)
        b["search_bias"] = torch.from_numpy(((1.0 - raw["search_mask"]) * MASK_NEG).astype(np.float32))
        b["hist_bins"] = ids(raw["hist_bins"], c["m1"] + 1)
        b["search_bins"] = ids(raw["search_bins"], c["m1"] + 1)
        b["simdist"] = torch.from_numpy(raw["simdist"].astype(np.float32))
    return b


def read_dump(prefix):
    """PREFIX.json (config + per-batch array directory) and PREFIX.bin (little-endian arrays) from bench/ctr.ts."""
    with open(prefix + ".json") as f:
        head = json.load(f)
    blob = np.fromfile(prefix + ".bin", dtype=np.uint8)
    batches = []
    for entry in head["batches"]:
        raw = {}
        for name, (dtype, offset, count, shape) in entry.items():
            raw[name] = np.frombuffer(blob, dtype=np.dtype(dtype), count=count, offset=offset).reshape(shape)
        batches.append(raw)
    return head["config"], head["gist"], batches


def zipf_ids(rng, n, size, perm, base):
    """Zipf(1)-like ids: log-uniform ranks, scattered over [base, base+n) by a fixed permutation."""
    r = np.floor(np.exp(rng.random(size) * math.log(n + 1))).astype(np.int64) - 1
    return perm[np.clip(r, 0, n - 1)] + base


def synth_batches(c, gist, pool, seed):
    """Same shapes and distributions as bench/ctr.ts's synthetic data (not the same draws)."""
    rng = np.random.default_rng(seed)
    N, C, B, L, K = c["num_items"], c["num_categories"], c["B"], c["L"], c["K"]
    half = N // 2  # 0..half-1 source items, half..N-1 target items
    perm_src, perm_tgt = rng.permutation(half), rng.permutation(N - half)
    category = rng.integers(0, C, N)
    category[rng.random(N) < 0.02] = -1
    out = []
    for _ in range(pool):
        lens = np.where(rng.random(B) < 0.7, L, rng.integers(5, L, B))
        lens[0] = L
        mask = (np.arange(L)[None, :] < lens[:, None]).astype(np.float32)
        hist = np.where(mask > 0, zipf_ids(rng, N - half, (B, L), perm_tgt, half), -1)
        target = zipf_ids(rng, N - half, B, perm_tgt, half)
        cat = lambda a: np.where(a < 0, -1, np.where(category[np.maximum(a, 0)] >= 0, category[np.maximum(a, 0)], C))
        raw = {"target": target, "target_cat": cat(target), "hist_items": hist, "hist_cat": cat(hist),
               "hist_mask": mask, "labels": (rng.random(B) < 0.3).astype(np.float32)}
        if gist:
            search = zipf_ids(rng, half, (B, K), perm_src, 0)
            smask = np.ones((B, K), np.float32)
            raw.update(search_items=search, search_cat=cat(search), search_mask=smask,
                       hist_bins=np.where(mask > 0, rng.integers(0, c["m1"] + 1, (B, L)), -1),
                       search_bins=rng.integers(0, c["m1"], (B, K)),
                       simdist=np.log1p(rng.integers(0, 30, (B, 2 * c["m2"]))).astype(np.float32))
        out.append(raw)
    return out


class Bench:
    def __init__(self, c, gist, raw_batches, form, seed):
        torch.manual_seed(seed)
        self.c, self.gist = c, gist
        self.batches = [to_torch(c, r, gist) for r in raw_batches]
        self.model = CtrModel(c, gist, form)
        sparse = self.model.sparse_parameters()
        sparse_ids = {id(p) for p in sparse}
        dense = [p for p in self.model.parameters() if id(p) not in sparse_ids]
        self.opt_sparse = torch.optim.SparseAdam(sparse, lr=c["lr"], eps=1e-7)
        self.opt_dense = torch.optim.Adam(dense, lr=c["lr"], eps=1e-7)
        self.i = 0

    def step(self, phases):
        b = self.batches[self.i % len(self.batches)]
        self.i += 1
        t0 = time.perf_counter()
        logits = self.model(b)
        loss = F.binary_cross_entropy_with_logits(logits, b["labels"])
        t1 = time.perf_counter()
        self.opt_sparse.zero_grad(set_to_none=True)
        self.opt_dense.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        self.opt_sparse.step()
        self.opt_dense.step()
        t3 = time.perf_counter()
        phases[0] += t1 - t0
        phases[1] += t2 - t1
        phases[2] += t3 - t2
        return float(loss), len(b["labels"])

    def run(self, warmup, steps):
        scratch = [0.0, 0.0, 0.0]
        for _ in range(warmup):
            self.step(scratch)
        phases = [0.0, 0.0, 0.0]
        samples = 0
        loss = float("nan")
        c0 = time.process_time()
        t0 = time.perf_counter()
        for _ in range(steps):
            loss, n = self.step(phases)
            samples += n
        secs = time.perf_counter() - t0
        cpu = time.process_time() - c0
        return {
            "samples_per_s": samples / secs if secs > 0 else None,
            "steps": steps,
            "warmup": warmup,
            "seconds": secs,
            "threads": torch.get_num_threads(),
            "batch": self.c["B"],
            "loss": loss,
            # CPU seconds per wall second per thread: near 1 on a quiet machine, lower when others share the cores
            "cpu_util": cpu / secs / torch.get_num_threads() if secs > 0 else None,
            "phase_ms": {k: 1000 * v / max(1, steps) for k, v in zip(("forward", "backward", "optimizer"), phases)},
        }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), default="din_small")
    ap.add_argument("--data", help="PREFIX of PREFIX.json/.bin written by bench/ctr.ts")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--pool", type=int, default=8, help="distinct synthetic batches (without --data)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--form", choices=["split", "concat"], default="split",
                    help="attention MLP first layer: gist's split form or the textbook concat")
    ap.add_argument("--malloc", choices=["default", "tuned"], default="default",
                    help="tuned: glibc keeps freed tensor memory instead of unmapping it (see tune_malloc)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--serve", action="store_true", help="read `run WARMUP STEPS` / `quit` lines from stdin")
    ap.add_argument("--check", metavar="MODEL_DIR", help="load gist's initial weights (saveWeights) and print the losses of --steps training steps")
    a = ap.parse_args()
    malloc = "tuned" if a.malloc == "tuned" and tune_malloc() else "default"
    torch.set_num_threads(a.threads)
    if a.data:
        c, gist, raw = read_dump(a.data)
    else:
        c, gist = dict(BASE), CONFIGS[a.config]["gist"]
        raw = synth_batches(c, gist, a.pool, a.seed)
    bench = Bench(c, gist, raw, a.form, a.seed)
    info = {"torch": torch.__version__, "blas": blas_name(), "form": a.form, "malloc": malloc, "openblas_threads": openblas_threads(), "config": "gist" if gist else "din_small"}
    if a.check:
        print(json.dumps({**check(bench, a.check, a.steps), **info}), flush=True)
        return
    if not a.serve:
        print(json.dumps({**bench.run(a.warmup, a.steps), **info}), flush=True)
        return
    print(json.dumps({"ready": True, **info}), flush=True)
    for line in sys.stdin:
        parts = line.split()
        if not parts or parts[0] == "quit":
            break
        if parts[0] == "run":
            if len(parts) > 3:
                torch.set_num_threads(int(parts[3]))
            print(json.dumps({**bench.run(int(parts[1]), int(parts[2])), **info}), flush=True)


def tune_malloc():
    """Keep freed tensor memory in glibc's heap instead of unmapping it after every op.

    By default glibc serves blocks of more than a few MB with mmap and unmaps them on free, so every large
    activation is faulted in afresh; on these VMs a page fault costs ~20 us (a [1024,100,64] float tensor is
    ~6,400 pages). Setting the mmap threshold to its 32 MB maximum and never trimming makes glibc recycle
    the memory, as jemalloc/tcmalloc would. Returns whether mallopt succeeded.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3
        ok = libc.mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024) == 1
        ok = libc.mallopt(M_TRIM_THRESHOLD, 1 << 30) == 1 and ok
        ok = libc.mallopt(M_TOP_PAD, 64 * 1024 * 1024) == 1 and ok
        return ok
    except OSError:
        return False


def load_gist_weights(bench, model_dir):
    """Copy a gist CtrModel's weights (saveWeights: weights.json + weights.bin) into the torch model."""
    with open(model_dir + "/weights.json") as f:
        manifest = json.load(f)
    blob = np.fromfile(model_dir + "/weights.bin", dtype=np.uint8)
    w = {}
    for e in manifest["weights"]:
        dt = np.float32 if e["dtype"] == "float32" else np.int32
        w[e["name"]] = torch.from_numpy(np.frombuffer(blob, dtype=dt, count=e["byteLength"] // 4, offset=e["offset"]).reshape(e["shape"]).copy())
    m = bench.model
    with torch.no_grad():
        m.item.weight[:-1] = w["item/table"]
        m.category.weight[:-1] = w["category/table"]
        units = [("att_hist", m.att_hist)] + ([("att_search", m.att_search)] if m.gist else [])
        for prefix, unit in units:
            for p in ("wh", "wt", "wp", "b1", "w2") + (("ws",) if unit.ws is not None else ()):
                getattr(unit, p).copy_(w["ctr/%s/%s" % (prefix, p)])
        blocks = ["target", "hist"] + (["hist_side", "search", "search_side"] if m.gist else [])
        if m.gist:
            m.simscore.weight[:-1] = w["simscore/table"]
            m.simdist.copy_(w["ctr/simdist/w"])
        linears = [l for l in m.tower if isinstance(l, nn.Linear)]
        linears[0].weight.copy_(torch.cat([w["ctr/tower/in_" + b] for b in blocks], 0).t())
        linears[0].bias.copy_(w["ctr/tower/b0"])
        for i, lin in enumerate(linears[1:-1], start=1):
            lin.weight.copy_(w["ctr/tower/w%d" % i].t())
            lin.bias.copy_(w["ctr/tower/b%d" % i])
        linears[-1].weight.copy_(w["ctr/tower/out_w"].t())
        linears[-1].bias.copy_(w["ctr/tower/out_b"])


def check(bench, model_dir, steps):
    """Losses of batches 0..steps-1 with one training step after each (each loss is taken before its step)."""
    load_gist_weights(bench, model_dir)
    bench.i = 0
    losses = []
    for _ in range(steps):
        loss, _ = bench.step([0.0, 0.0, 0.0])
        losses.append(loss)
    return {"losses": losses}


def openblas_threads():
    """OpenBLAS's own thread pool size (the pthread build runs matmuls on it whatever torch's thread count)."""
    try:
        return int(ctypes.CDLL("libblas.so.3").openblas_get_num_threads())
    except (OSError, AttributeError):
        return None


def blas_name():
    """The BLAS library actually loaded (Debian picks it through the libblas.so.3 alternative)."""
    torch.matmul(torch.ones(64, 64), torch.ones(64, 64))
    try:
        with open("/proc/self/maps") as f:
            libs = {line.split()[-1] for line in f if "blas" in line.lower() and "/" in line}
    except OSError:
        return "unknown"
    names = sorted({lib.rsplit("/", 1)[-1] for lib in libs})
    return ",".join(names) if names else "unknown"


if __name__ == "__main__":
    main()

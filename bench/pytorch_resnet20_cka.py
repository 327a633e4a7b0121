"""PyTorch baseline for RepSim's all-layer ResNet-20 minibatch CKA heatmap (bench/resnet20-heatmap.bench.ts).

The heatmap is computed the way the fastest PyTorch CKA library does it (`pytorch-cka`,
github.com/ryusudol/pytorch-cka: forward hooks on the compared modules, a linear gram per layer
with `torch.mm`, the unbiased HSIC₁ of every layer pair from one `torch.einsum('aij,bij->ab')`
plus the row-sum terms of Song et al. 2012), on the same network RepSim builds and the same
layers RepSim compares:

    HSIC₁(K, L) = [tr(K̃L̃) + 1ᵀK̃1·1ᵀL̃1 / ((n−1)(n−2)) − 2·1ᵀK̃L̃1 / (n−2)] / (n(n−3)),
    K̃ = K with its diagonal zeroed; per batch of n = 256 consecutive images, one pass,
    CKA = Σ_b w_b·HSIC₁(K_b, L_b) / √(Σ_b w_b·HSIC₁(K_b, K_b) · Σ_b w_b·HSIC₁(L_b, L_b)),

as RepSim's schedule.ts and accumulator.ts: w_b = 1 for full batches; examples left over after
the full batches form a last batch of m rows (HSIC₁ over m, weight m/256) when m ≥ 4, and are
left out when fewer (10,000 images: 39 batches of 256 and one of 16).

Precision, as RepSim: the library grams *uncentred* float32 features and keeps its HSIC sums in
float32. On ReLU/Add layers (large common mean) the three terms above then cancel and its CKA is
off by up to 0.33 from a float64 reference (shared/recipes/onnxruntime/README.md). The timed
baseline therefore centres every layer's features before the gram (x − mean over the batch,
which U-centring makes exact), computes the gram and the all-pairs einsum in float32 as the
library does, and takes the row sums and the accumulation over batches in float64. That costs
one memory-bound pass per layer (the centring) and nothing measurable else. `--uncentred` runs
the library's exact variant (no centring, float32 sums) for comparison. (On synthetic layers of
512 examples, 64–4,096 features, offsets up to 40, against a float64 NumPy reference: centred
3.6e-7, uncentred 0.069.) The grams' diagonals are zeroed in place before the einsum, as the
library's single-pair `hsic` does; its `hsic_outer` instead subtracts the diagonal products
afterwards, the same value with one more float32 cancellation.

BLAS: Debian's python3-torch runs torch.mm on the system's libblas.so.3. With the reference
BLAS (the default alternative) that is about 6 GFLOP/s on 2 cores; `apt-get install
libopenblas0-openmp` switches it to OpenBLAS (≈ 200 GFLOP/s here). The JSON names the library.

The network (src/engine/models/resnetCifar.ts, cifarLayers.ts), NCHW:
    stem:   conv 3×3 (16, bias) → BN → ReLU                                  [stem/conv, stem/bn, stem/out]
    3 stages × 3 basic blocks (16, 32, 64 channels):
            conv 3×3 (bias; stride 2 entering stages 2, 3) → BN → ReLU → conv 3×3 (bias) → BN,
            shortcut identity, or 1×1 stride-2 conv with bias and no BN entering stages 2, 3,
            add → ReLU                      [conv1, bn1, relu1, conv2, (shortcut), bn2, add, out]
    head:   global average pool [pool] → dense → softmax (the output layer: not compared)
BN: ε 1e-3, momentum 0.99 (Keras), evaluated in inference mode as RepSim does. Kernels: He
normal truncated at 2σ (Keras `he_normal`), biases 0. `selectLayers(model, 'all')` gives
3 + 9·7 + 2 + 1 = 69 layers per model, and so do the hooks here, in the same order. Layer
shapes and FLOPs are identical; only 'same' padding of the stride-2 3×3 convs differs (TF pads
0 before / 1 after, PyTorch 1 / 1), which changes no shape and no cost.

Subcommands (each prints one JSON object on its last stdout line; progress goes to stderr):

    run --images N [--batch-size 256] [--threads 2] [--seed-a 0] [--seed-b 1] [--data-seed 4]
        [--uncentred] [--out FILE] [--retry-until EPOCH] [--max-retries 2]
            times the whole heatmap of two differently seeded ResNet-20s over N seeded random
            images (uniform in [−1, 1]); model building and data generation are untimed; no
            warm-up batch. --out writes the CKA matrix and the layer names as JSON.
    cka --a A0.npy,A1.npy,… --b B0.npy,… --batch-size N [--uncentred]
            the same estimator (the same functions) on given activations [examples, …], untimed
            (test/unit/bench-pytorch.test.ts checks it against RepSim's ckaMatrix)
    layers  the hooked layer names and shapes of the ResNet-20
"""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn

from cka_common import BackgroundLoad, wait_for_quiet

BN_EPSILON = 1e-3
BN_MOMENTUM = 0.01  # PyTorch's momentum is 1 − Keras' 0.99
RATE_SIZE = 1024
GRAM_RATE_SHAPE = (256, 4096)


# ---------------------------------------------------------------------------------------------
# The network


def he_normal_(weight):
    """Keras `he_normal`: a normal of σ = √(2/fan_in)/0.8796 truncated at ±2σ (std √(2/fan_in))."""
    fan_in = weight[0].numel()
    std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    nn.init.trunc_normal_(weight, mean=0.0, std=std, a=-2 * std, b=2 * std)


def conv(cin, cout, kernel, stride):
    layer = nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=True)
    he_normal_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


def batch_norm(channels):
    return nn.BatchNorm2d(channels, eps=BN_EPSILON, momentum=BN_MOMENTUM)


class Add(nn.Module):
    """The residual add as a module of its own, so that a hook sees its output (RepSim's …/add)."""

    def forward(self, a, b):
        return a + b


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = conv(cin, cout, 3, stride)
        self.bn1 = batch_norm(cout)
        self.relu1 = nn.ReLU()  # never in place: hooks keep the tensors they saw
        self.conv2 = conv(cout, cout, 3, 1)
        self.shortcut = conv(cin, cout, 1, stride) if stride != 1 else None
        self.bn2 = batch_norm(cout)
        self.add = Add()
        self.out = nn.ReLU()

    def forward(self, x):
        r = self.relu1(self.bn1(self.conv1(x)))
        r = self.conv2(r)
        s = self.shortcut(x) if self.shortcut is not None else x  # RepSim's order: conv2, shortcut, bn2
        return self.out(self.add(s, self.bn2(r)))

    def hidden(self):
        names = ['conv1', 'bn1', 'relu1', 'conv2'] + (['shortcut'] if self.shortcut is not None else []) + ['bn2', 'add', 'out']
        return [(name, getattr(self, name)) for name in names]


class ResNetCifar(nn.Module):
    """RepSim's `resnet-20` (depth 6n + 2 with n = 3 blocks per stage, width multiplier 1)."""

    def __init__(self, depth=20, num_classes=10):
        super().__init__()
        blocks = (depth - 2) // 6
        self.stem_conv = conv(3, 16, 3, 1)
        self.stem_bn = batch_norm(16)
        self.stem_out = nn.ReLU()
        stages, cin = [], 16
        for stage in range(3):
            cout = 16 * 2**stage
            stages.append(nn.ModuleList([BasicBlock(cin if b == 0 else cout, cout, 2 if stage > 0 and b == 0 else 1) for b in range(blocks)]))
            cin = cout
        self.stages = nn.ModuleList(stages)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cin, num_classes)
        he_normal_(self.classifier.weight)
        nn.init.zeros_(self.classifier.bias)

    def forward(self, x):
        x = self.stem_out(self.stem_bn(self.stem_conv(x)))
        for stage in self.stages:
            for block in stage:
                x = block(x)
        return torch.softmax(self.classifier(self.pool(x).flatten(1)), dim=1)

    def hidden_layers(self):
        """(RepSim layer name, module) of every hidden layer, in RepSim's forward order."""
        layers = [('stem/conv', self.stem_conv), ('stem/bn', self.stem_bn), ('stem/out', self.stem_out)]
        for s, stage in enumerate(self.stages):
            for b, block in enumerate(stage):
                layers += [(f'stage{s + 1}/block{b + 1}/{name}', module) for name, module in block.hidden()]
        return layers + [('pool', self.pool)]


def build_model(seed):
    torch.manual_seed(seed)
    return ResNetCifar().eval()


class Hooks:
    """Forward hooks on the hidden layers: each keeps its layer's output of the current batch."""

    def __init__(self, model):
        self.layers = model.hidden_layers()
        self.names = [name for name, _ in self.layers]
        self.outputs = []
        self.seen = []
        self.handles = [module.register_forward_hook(self._hook(name)) for name, module in self.layers]

    def _hook(self, name):
        def hook(module, inputs, output):
            self.outputs.append(output)
            self.seen.append(name)
        return hook

    def take(self):
        """The outputs of the last forward pass, in hook order (checked against RepSim's order)."""
        if self.seen != self.names:
            raise SystemExit(f'hooks fired in another order than the layer list: {self.seen[:5]} … vs {self.names[:5]} …')
        outputs, self.outputs, self.seen = self.outputs, [], []
        return outputs


def forward_flops_per_image(model):
    """2·(output positions)·k²·(in)·(out) per conv, 2·(in)·(out) per dense: as the RepSim bench counts."""
    flops = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Conv2d):
            kh, kw = module.kernel_size
            flops.append(2 * output.shape[2] * output.shape[3] * kh * kw * module.in_channels * module.out_channels)
        else:
            flops.append(2 * module.in_features * module.out_features)

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        model(torch.zeros(1, 3, 32, 32))
    for h in handles:
        h.remove()
    return sum(flops)


# ---------------------------------------------------------------------------------------------
# The estimator (shared by `run` and `cka`)


def layer_grams(outputs, n, centred=True, out=None):
    """(L, n, n) float32: torch.mm(x, xᵀ) of every layer's output flattened to [n, features];
    with `centred`, each feature's batch mean is subtracted first (as RepSim's K = Xc·Xcᵀ)."""
    grams = out if out is not None else torch.empty(len(outputs), n, n)
    for i, output in enumerate(outputs):
        x = output.reshape(n, -1)
        if centred:
            x = x - x.mean(dim=0, keepdim=True)
        torch.mm(x, x.T, out=grams[i])
    return grams


def hsic_all_pairs(grams_a, grams_b, centred=True):
    """HSIC₁ of every layer pair (LA × LB) and of every layer with itself, from float32 grams.

    The grams' diagonals are zeroed in place (K̃). The einsum over all pairs runs in float32 as
    in the library; the row-sum terms and the result are float64 when `centred` (the library's
    float32 otherwise)."""
    n = grams_a.shape[1]
    sum_dtype = torch.float64 if centred else torch.float32
    for grams in (grams_a, grams_b):
        grams.diagonal(dim1=-2, dim2=-1).zero_()
    trace_ab = torch.einsum('aij,bij->ab', grams_a, grams_b).to(sum_dtype)
    trace_aa = (grams_a * grams_a).sum(dim=(-2, -1), dtype=sum_dtype)
    trace_bb = (grams_b * grams_b).sum(dim=(-2, -1), dtype=sum_dtype)
    col_a = grams_a.sum(dim=-2, dtype=sum_dtype)  # (LA, n): K̃ is symmetric, so column = row sums
    col_b = grams_b.sum(dim=-2, dtype=sum_dtype)
    sum_a, sum_b = col_a.sum(dim=-1), col_b.sum(dim=-1)
    c2, c3, norm = (n - 1) * (n - 2), 2.0 / (n - 2), n * (n - 3)
    cross = (trace_ab + torch.outer(sum_a, sum_b) / c2 - c3 * (col_a @ col_b.T)) / norm
    self_a = (trace_aa + sum_a * sum_a / c2 - c3 * (col_a * col_a).sum(dim=-1)) / norm
    self_b = (trace_bb + sum_b * sum_b / c2 - c3 * (col_b * col_b).sum(dim=-1)) / norm
    return cross, self_a, self_b


class Accumulator:
    """Σ over batches of w·HSIC₁(K, L), w·HSIC₁(K, K), w·HSIC₁(L, L); CKA from the sums (RepSim's accumulator.ts)."""

    def __init__(self, la, lb, centred=True):
        dtype = torch.float64 if centred else torch.float32
        self.cross = torch.zeros(la, lb, dtype=dtype)
        self.self_a = torch.zeros(la, dtype=dtype)
        self.self_b = torch.zeros(lb, dtype=dtype)
        self.batches = 0

    def add(self, cross, self_a, self_b, weight=1.0):
        self.cross += weight * cross
        self.self_a += weight * self_a
        self.self_b += weight * self_b
        self.batches += 1

    def cka(self):
        """LA × LB list of lists; None where a layer's self-HSIC sum is not positive (as RepSim)."""
        a, b, cross = self.self_a.double(), self.self_b.double(), self.cross.double()
        matrix = cross / torch.sqrt(torch.clamp(a[:, None] * b[None, :], min=0.0))
        valid = (a[:, None] > 0) & (b[None, :] > 0)
        return [[float(v) if ok else None for v, ok in zip(row, oks)] for row, oks in zip(matrix.tolist(), valid.tolist())]


MIN_BATCH_ROWS = 4  # HSIC₁ divides by n(n−3)


def batch_plan(examples, batch_size):
    """[(start, end, weight)]: consecutive full batches, then the leftover rows as a batch of their
    own with weight rows/batch_size when there are at least 4 of them (RepSim's schedule.ts)."""
    plan = [(b * batch_size, (b + 1) * batch_size, 1.0) for b in range(examples // batch_size)]
    left = examples % batch_size
    if left >= MIN_BATCH_ROWS:
        plan.append((examples - left, examples, left / batch_size))
    return plan


def minibatch_cka_from_arrays(layers_a, layers_b, batch_size, centred=True):
    """The CKA matrix of given activations (float32 tensors [examples, …]), consecutive batches, one pass."""
    examples = layers_a[0].shape[0]
    acc = Accumulator(len(layers_a), len(layers_b), centred)
    for start, end, weight in batch_plan(examples, batch_size):
        grams_a = layer_grams([layer[start:end] for layer in layers_a], end - start, centred)
        grams_b = layer_grams([layer[start:end] for layer in layers_b], end - start, centred)
        acc.add(*hsic_all_pairs(grams_a, grams_b, centred), weight=weight)
    return acc


# ---------------------------------------------------------------------------------------------
# Measurements (the conventions of bench/reference_minibatch_cka.py)


def matmul_rate(size=RATE_SIZE, min_seconds=0.5):
    """FLOP/s of a float32 torch.mm, size³ (2·size³ FLOPs), the best of repeated runs."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    out = torch.empty(size, size)
    torch.mm(a, b, out=out)  # warm-up: threads, pages
    best, reps, start = math.inf, 0, time.perf_counter()
    while reps < 5 or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        torch.mm(a, b, out=out)
        best = min(best, time.perf_counter() - t)
        reps += 1
    return {'shape': [size, size, size], 'seconds': best, 'flopsPerSecond': 2 * size**3 / best}


def gram_rate(shape=GRAM_RATE_SHAPE, min_seconds=0.3):
    """FLOP/s of torch.mm(x, xᵀ) for x of `shape` (2·n²·d counted), the best of repeated runs."""
    rows, cols = shape
    x = torch.randn(rows, cols)
    out = torch.empty(rows, rows)
    torch.mm(x, x.T, out=out)
    best, reps, start = math.inf, 0, time.perf_counter()
    while reps < 5 or time.perf_counter() - start < min_seconds:
        t = time.perf_counter()
        torch.mm(x, x.T, out=out)
        best = min(best, time.perf_counter() - t)
        reps += 1
    return {'shape': [rows, cols], 'seconds': best, 'flopsPerSecond': 2 * rows * rows * cols / best}


def blas_library():
    """The BLAS that torch.mm calls here (Debian's torch links the libblas.so.3 alternative)."""
    try:
        with open('/proc/self/maps') as maps:
            paths = {line.split()[-1] for line in maps if '/' in line}
    except OSError:
        return 'unknown'
    for path in sorted(paths):
        if 'openblas' in path or 'mkl' in path or 'blis' in path:
            return path
    blas = sorted(p for p in paths if 'libblas' in p)
    return f'{blas[0]} (reference BLAS: torch.mm is slow; apt-get install libopenblas0-openmp)' if blas else 'unknown'


def peak_rss_bytes():
    """This process's peak RSS: VmHWM, not getrusage's ru_maxrss, which Linux carries over
    exec from the parent (a Node process that spawned this script with gigabytes resident)."""
    try:
        with open('/proc/self/status') as status:
            for line in status:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def log(message):
    print(message, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Commands


def heatmap(model_a, model_b, images, batch_size, centred):
    """One timed all-layer heatmap: per batch, forward A → grams A, forward B → grams B, HSIC."""
    hooks_a, hooks_b = Hooks(model_a), Hooks(model_b)
    la, lb = len(hooks_a.names), len(hooks_b.names)
    grams_a, grams_b = torch.empty(la, batch_size, batch_size), torch.empty(lb, batch_size, batch_size)
    acc = Accumulator(la, lb, centred)
    timings = {'forwardSeconds': 0.0, 'gramSeconds': 0.0, 'hsicSeconds': 0.0, 'batchSeconds': []}
    try:
        with torch.no_grad():
            for start, end, weight in batch_plan(images.shape[0], batch_size):
                t0 = time.perf_counter()
                x, rows = images[start:end], end - start
                grams = []
                for model, hooks, buffer in ((model_a, hooks_a, grams_a), (model_b, hooks_b, grams_b)):
                    t = time.perf_counter()
                    model(x)
                    outputs = hooks.take()
                    t1 = time.perf_counter()
                    grams.append(layer_grams(outputs, rows, centred, out=buffer if rows == batch_size else None))
                    del outputs
                    timings['forwardSeconds'] += t1 - t
                    timings['gramSeconds'] += time.perf_counter() - t1
                t = time.perf_counter()
                acc.add(*hsic_all_pairs(grams[0], grams[1], centred), weight=weight)
                timings['hsicSeconds'] += time.perf_counter() - t
                timings['batchSeconds'].append(time.perf_counter() - t0)
    finally:
        for handle in hooks_a.handles + hooks_b.handles:
            handle.remove()
    return acc, hooks_a.names, hooks_b.names, timings


def layer_widths(model):
    hooks = Hooks(model)
    with torch.no_grad():
        model(torch.zeros(2, 3, 32, 32))
    outputs = hooks.take()
    for h in hooks.handles:
        h.remove()
    return [(name, list(o.shape[1:])) for name, o in zip(hooks.names, outputs)]


def command_run(args):
    torch.set_num_threads(args.threads)
    centred = not args.uncentred
    model_a, model_b = build_model(args.seed_a), build_model(args.seed_b)
    generator = torch.Generator().manual_seed(args.data_seed)
    images = torch.rand(args.images, 3, 32, 32, generator=generator) * 2 - 1
    batch_size = args.batch_size
    plan = batch_plan(args.images, batch_size)
    batches = len(plan)
    widths_a = [math.prod(shape) for _, shape in layer_widths(model_a)]
    widths_b = [math.prod(shape) for _, shape in layer_widths(model_b)]
    rows = [end - start for start, end, _ in plan]
    squares = sum(m * m for m in rows)
    flops = {
        'forwardPerImage': forward_flops_per_image(model_a),
        'forward': (forward_flops_per_image(model_a) + forward_flops_per_image(model_b)) * sum(rows),
        'grams': 2 * squares * (sum(widths_a) + sum(widths_b)),
        'hsic': 2 * squares * (len(widths_a) * len(widths_b) + len(widths_a) + len(widths_b)),
    }
    flops['total'] = flops['forward'] + flops['grams'] + flops['hsic']
    log(f'pytorch: {args.images} images, {batches} batches ({", ".join(sorted({str(m) for m in rows}, key=int))} rows), {len(widths_a)} × {len(widths_b)} layers, '
        f'{"centred" if centred else "uncentred (library-exact)"}, {args.threads} threads, BLAS {blas_library()}')

    attempts = []
    while True:
        waits = [wait_for_quiet(args.quiet_wait / 3)]
        rate, rate_gram = matmul_rate(), gram_rate()
        waits.append(wait_for_quiet(args.quiet_wait))
        load = BackgroundLoad()
        start = time.perf_counter()
        acc, names_a, names_b, timings = heatmap(model_a, model_b, images, batch_size, centred)
        seconds = time.perf_counter() - start
        background = load.cores()
        attempts.append({'seconds': seconds, 'backgroundCores': background, 'timings': timings, 'rate': rate, 'gramRate': rate_gram, 'waits': waits, 'acc': acc})
        log(f'pytorch: {seconds:.2f} s (forward {timings["forwardSeconds"]:.2f} s, grams {timings["gramSeconds"]:.2f} s, '
            f'HSIC {timings["hsicSeconds"]:.2f} s); other processes {background if background is None else round(background, 2)} cores')
        disturbed = background is not None and background > args.contended_cores
        if not disturbed or len(attempts) > args.max_retries or time.time() + seconds > args.retry_until:
            break
    kept = min(attempts, key=lambda a: a['backgroundCores'] or 0.0)
    cka = kept['acc'].cka()
    values = [v for row in cka for v in row if v is not None]
    if args.out:
        with open(args.out, 'w') as handle:
            json.dump({'layersA': names_a, 'layersB': names_b, 'batches': kept['acc'].batches, 'centred': centred, 'cka': cka}, handle)
    print(json.dumps({
        'images': args.images,
        'batchSize': batch_size,
        'batches': batches,
        'imagesUsed': sum(rows),
        'layersA': len(names_a),
        'layersB': len(names_b),
        'seconds': kept['seconds'],
        'forwardSeconds': kept['timings']['forwardSeconds'],
        'gramSeconds': kept['timings']['gramSeconds'],
        'hsicSeconds': kept['timings']['hsicSeconds'],
        'batchSeconds': kept['timings']['batchSeconds'],
        'torchVersion': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': blas_library(),
        'centred': centred,
        'matmulRate': kept['rate'],
        'gramRate': kept['gramRate'],
        'flops': flops,
        'ckaRange': [min(values), max(values)] if values else None,
        'backgroundCores': kept['backgroundCores'],
        'quietWaitSeconds': sum(w for w, _ in kept['waits']),
        'startedBusy': any(gave_up for _, gave_up in kept['waits']),
        'attempts': [{'seconds': a['seconds'], 'backgroundCores': a['backgroundCores']} for a in attempts],
        'peakRssBytes': peak_rss_bytes(),
    }))


def command_cka(args):
    import numpy as np  # a dependency of Debian's python3-torch

    torch.set_num_threads(args.threads)
    load = lambda paths: [torch.from_numpy(np.ascontiguousarray(np.load(p), dtype=np.float32)) for p in paths.split(',')]
    layers_a, layers_b = load(args.a), load(args.b)
    acc = minibatch_cka_from_arrays(layers_a, layers_b, args.batch_size, not args.uncentred)
    print(json.dumps({'batches': acc.batches, 'cka': acc.cka()}))


def command_layers(args):
    model = build_model(0)
    layers = layer_widths(model)
    print(json.dumps({'count': len(layers), 'layers': [{'name': name, 'shape': shape} for name, shape in layers], 'forwardFlopsPerImage': forward_flops_per_image(model)}))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    run = commands.add_parser('run')
    run.add_argument('--images', type=int, required=True)
    run.add_argument('--batch-size', type=int, default=256)
    run.add_argument('--threads', type=int, default=2)
    run.add_argument('--seed-a', type=int, default=0)
    run.add_argument('--seed-b', type=int, default=1)
    run.add_argument('--data-seed', type=int, default=4)
    run.add_argument('--uncentred', action='store_true', help="the library's exact variant: uncentred features, float32 sums")
    run.add_argument('--out', help='write the CKA matrix and layer names here (JSON)')
    run.add_argument('--quiet-wait', type=float, default=15.0, help='seconds to wait at most for idle cores')
    run.add_argument('--contended-cores', type=float, default=0.25)
    run.add_argument('--max-retries', type=int, default=2)
    run.add_argument('--retry-until', type=float, default=0.0, help='epoch seconds after which a disturbed run is not repeated')
    run.set_defaults(handler=command_run)
    cka = commands.add_parser('cka')
    cka.add_argument('--a', required=True, help='comma-separated .npy files, one per layer of model A')
    cka.add_argument('--b', required=True)
    cka.add_argument('--batch-size', type=int, required=True)
    cka.add_argument('--threads', type=int, default=1)
    cka.add_argument('--uncentred', action='store_true')
    cka.set_defaults(handler=command_cka)
    layers = commands.add_parser('layers')
    layers.set_defaults(handler=command_layers)
    args = parser.parse_args(argv)
    if args.command == 'run' and args.images < args.batch_size:
        parser.error(f'--images {args.images}: fewer than one batch of {args.batch_size}')
    args.handler(args)


if __name__ == '__main__':
    main(sys.argv[1:])

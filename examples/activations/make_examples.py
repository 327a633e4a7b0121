"""Example activations for `repsim cka` / `repsim match`: two small ReLU networks that share
an architecture but not a seed, run on the same 1,024 inputs. Each .npz holds one array per
hidden layer, in order, examples on the first axis. Run: python3 make_examples.py
"""
import numpy as np

INPUTS = 1024
WIDTHS = [64, 64, 48, 32, 16]


def network_activations(x, seed):
    rng = np.random.default_rng(seed)
    layers = {}
    h = x
    for i, width in enumerate(WIDTHS, start=1):
        w = rng.standard_normal((h.shape[1], width)) * np.sqrt(2.0 / h.shape[1])  # He init
        h = np.maximum(h @ w + 0.1, 0)
        layers[f'dense{i}/relu'] = h.astype(np.float32)
    return layers


def main():
    x = np.random.default_rng(2026).standard_normal((INPUTS, 32))
    np.savez_compressed('relu_net_seed0.npz', **network_activations(x, 0))
    np.savez_compressed('relu_net_seed1.npz', **network_activations(x, 1))


if __name__ == '__main__':
    main()

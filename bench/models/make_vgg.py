"""Makes the VGG-style benchmark models vgg_32 and vgg_wide_32 (ONNX + data.json).

Run with Debian's python3 (python3-torch, python3-onnx, python3-sklearn):
    /usr/bin/python3 bench/models/make_vgg.py
Deterministic: fixed seeds, one CPU thread, deterministic algorithms.
"""
import json
import os
import sys
import random

import numpy as np
import onnx
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from torch import nn

OUT = os.path.dirname(os.path.abspath(__file__))
N_CALIBRATION = 32
N_TEST = 20
# (name, conv channels (a, b, c), epochs, input side)
MODELS = [
    ('vgg_32', (16, 32, 32), 10, 32),
    # The first block narrowed to 14 channels: about 0.9M constraints, inside a 2^20 domain.
    ('vgg_narrow_32', (14, 32, 32), 10, 32),
    ('vgg_wide_32', (54, 108, 108), 6, 32),
    # vgg_narrow_32 on 64x64 inputs: about 3.7M constraints with short linear forms, a 2^22 domain.
    ('vgg_narrow_64', (14, 32, 32), 10, 64),
]


def seed(s):
    random.seed(s)
    np.random.seed(s)
    torch.manual_seed(s)


def digits(size):
    """scikit-learn's 8x8 digits, pixels / 16, upsampled bilinearly to size x size; 75/25 split, random_state=0."""
    d = load_digits()
    x = torch.tensor(d.images / 16.0, dtype=torch.float32).unsqueeze(1)
    x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False).clamp(0, 1)
    y = torch.tensor(d.target, dtype=torch.long)
    idx_train, idx_test = train_test_split(np.arange(len(y)), test_size=0.25, random_state=0)
    return x[idx_train], y[idx_train], x[idx_test], y[idx_test]


def vgg(a, b, c, size):
    """conv3x3 a, ReLU, conv3x3 a, ReLU, pool, conv3x3 b, ReLU, pool, conv3x3 c, ReLU, pool, (size/8)^2 c -> 64 -> 10."""
    return nn.Sequential(
        nn.Conv2d(1, a, 3, padding=1), nn.ReLU(),
        nn.Conv2d(a, a, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(a, b, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(b, c, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(c * (size // 8) ** 2, 64), nn.ReLU(),
        nn.Linear(64, 10),
    )


def train(model, x, y, epochs):
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    gen = torch.Generator().manual_seed(1)
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(y), generator=gen)
        total = 0.0
        for i in range(0, len(y), 32):
            j = perm[i:i + 32]
            opt.zero_grad()
            loss = F.cross_entropy(model(x[j]), y[j])
            loss.backward()
            opt.step()
            total += loss.item() * len(j)
        print(f'  epoch {epoch + 1}: loss {total / len(y):.4f}', flush=True)
    model.eval()


def accuracy(model, x, y):
    with torch.no_grad():
        return int((model(x).argmax(1) == y).sum()) / len(y)


def make(name, channels, epochs, size):
    x_train, y_train, x_test, y_test = digits(size)
    seed(0)
    model = vgg(*channels, size)
    print(f'{name}: channels {channels}, {sum(p.numel() for p in model.parameters())} parameters', flush=True)
    train(model, x_train, y_train, epochs)
    acc = accuracy(model, x_test, y_test)
    print(f'  test accuracy {acc:.4f} ({len(y_test)} cases)', flush=True)

    onnx_path = os.path.join(OUT, f'{name}.onnx')
    dummy = torch.zeros(1, 1, size, size)
    torch.onnx.export(model, dummy, onnx_path, opset_version=13, input_names=['input'],
                      output_names=['output'], do_constant_folding=True)
    onnx.checker.check_model(onnx.load(onnx_path), full_check=True)

    with torch.no_grad():
        test = [{'input': x_test[i:i + 1].tolist(), 'label': int(y_test[i]),
                 'output': model(x_test[i:i + 1]).tolist()} for i in range(N_TEST)]
    data_json = {
        'model': f'{name}.onnx',
        'input_shape': [1, 1, size, size],
        'task': 'classification',
        'float_metric': {'accuracy': acc},
        'calibration': [x_train[i:i + 1].tolist() for i in range(N_CALIBRATION)],
        'test': test,
    }
    with open(os.path.join(OUT, f'{name}.data.json'), 'w') as f:
        json.dump(data_json, f)


def main():
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    wanted = sys.argv[1:]  # model names; all when none are given
    for name, channels, epochs, size in MODELS:
        if not wanted or name in wanted:
            make(name, channels, epochs, size)


if __name__ == '__main__':
    main()

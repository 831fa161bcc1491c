"""The model of train.py: an MLP over 128 features (the width of the probe, models/probe.npy).

Its modules have the names and widths of the layers of the example TF.js MLP (models/README.md:
128 -> hidden1 (64) -> hidden2 (64) -> hidden3 (64) -> output), so the workspace's baseline
(memlens.baseline, models/shortcut-baseline) is a reference of the same architecture: MemLens
reads each layer of a model against the layer of that name in its baseline.
"""
import torch
from torch import nn


class Mlp(nn.Module):
    """128 features -> three hidden layers of 64 ReLU units -> 4 class logits."""

    def __init__(self):
        super().__init__()
        self.hidden1 = nn.Linear(128, 64)
        self.hidden2 = nn.Linear(64, 64)
        self.hidden3 = nn.Linear(64, 64)
        self.output = nn.Linear(64, 4)

    def forward(self, x):
        x = torch.relu(self.hidden1(x))
        x = torch.relu(self.hidden2(x))
        x = torch.relu(self.hidden3(x))
        return self.output(x)


def make_mlp(seed=0):
    """An Mlp whose initial weights depend on the seed only."""
    torch.manual_seed(seed)
    return Mlp()

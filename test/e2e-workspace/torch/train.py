"""Trains the MLP of nets.py on a synthetic 4-class task over 128 features and saves its
weights (a state_dict) to mlp_state.pt, next to this script.

    python train.py

Deterministic: the data, the initial weights and the batch order come from fixed seeds.
"""
import torch
from torch import nn

from nets import make_mlp

FEATURES = 128
CLASSES = 4
EXAMPLES = 2000
EPOCHS = 5
BATCH = 64


def synthetic_task(n, seed):
    """n Gaussian inputs, labelled by the argmax of a fixed random linear teacher."""
    inputs = torch.randn(n, FEATURES, generator=torch.Generator().manual_seed(seed))
    teacher = torch.randn(FEATURES, CLASSES, generator=torch.Generator().manual_seed(1234))
    return inputs, (inputs @ teacher).argmax(dim=1)


def train_epoch(model, optimizer, inputs, labels, generator):
    model.train()
    loss_fn = nn.CrossEntropyLoss()
    order = torch.randperm(len(inputs), generator=generator)
    total = 0.0
    for start in range(0, len(inputs), BATCH):
        batch = order[start : start + BATCH]
        optimizer.zero_grad()
        loss = loss_fn(model(inputs[batch]), labels[batch])
        loss.backward()
        optimizer.step()
        total += loss.item() * len(batch)
    return total / len(inputs)


def accuracy(model, inputs, labels):
    model.eval()
    with torch.no_grad():
        return (model(inputs).argmax(dim=1) == labels).float().mean().item()


def main():
    torch.use_deterministic_algorithms(True)
    inputs, labels = synthetic_task(EXAMPLES, seed=1)
    model = make_mlp(seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    shuffle = torch.Generator().manual_seed(2)
    for epoch in range(1, EPOCHS + 1):
        loss = train_epoch(model, optimizer, inputs, labels, shuffle)
        print(f"epoch {epoch}: loss {loss:.3f}, accuracy {accuracy(model, inputs, labels):.3f}")
    torch.save(model.state_dict(), "mlp_state.pt")


if __name__ == "__main__":
    main()

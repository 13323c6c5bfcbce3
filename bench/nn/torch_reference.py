"""PyTorch reference for bench/nn/run.sh: the same task and recipe as gossip-learner's
default `train` (GRU hidden 128 over one-hot characters, linear layer to 18 labels, Adam
lr 3e-3, batch 32, cross-entropy, gradient-norm clipping at 5, one thread), timed over
whole epochs of data/names. Prints the validation accuracy per epoch, then
`torch_samples_per_s N` (wall clock) and `torch_samples_per_cpu_s N` (process CPU time,
which other jobs on a shared machine disturb less).

Usage: /usr/bin/python3 bench/nn/torch_reference.py DATA_DIR [EPOCHS]
"""
import os
import random
import sys
import time
import unicodedata

import torch

ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ .,;'-"
MAX_LEN = 20


def fold(name):
    decomposed = unicodedata.normalize("NFD", name.replace("ß", "s").replace("ł", "l").replace("Ł", "L"))
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")


def encode(name):
    return [ALPHABET.find(c) if c in ALPHABET else len(ALPHABET) for c in fold(name)[:MAX_LEN]] or [len(ALPHABET)]


def load(folder):
    """Names as one-hot tensors [length, symbols], encoded once, outside the timed loop."""
    labels = sorted(f[:-4] for f in os.listdir(folder) if f.endswith(".txt"))
    eye = torch.eye(len(ALPHABET) + 1)
    data = []
    for k, label in enumerate(labels):
        with open(os.path.join(folder, label + ".txt"), encoding="utf-8") as f:
            data += [(eye[encode(line.strip())], k) for line in f if line.strip()]
    return labels, data


class Classifier(torch.nn.Module):
    def __init__(self, symbols, hidden, labels):
        super().__init__()
        self.gru = torch.nn.GRU(symbols, hidden, batch_first=True)
        self.out = torch.nn.Linear(hidden, labels)

    def forward(self, seqs):
        lengths = torch.tensor([len(s) for s in seqs])
        padded = torch.nn.utils.rnn.pad_sequence(seqs, batch_first=True)
        packed = torch.nn.utils.rnn.pack_padded_sequence(padded, lengths, batch_first=True, enforce_sorted=False)
        _, h = self.gru(packed)
        return self.out(h[-1])


def main():
    torch.set_num_threads(1)
    torch.manual_seed(1)
    random.seed(1)
    folder = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    labels, data = load(folder)
    random.shuffle(data)
    n_val = len(data) // 10
    val, train = data[:n_val], data[n_val:]
    model = Classifier(len(ALPHABET) + 1, 128, len(labels))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    seconds = cpu_seconds = 0.0
    for epoch in range(epochs):
        random.shuffle(train)
        start, cpu_start = time.perf_counter(), time.process_time()
        for i in range(0, len(train), 32):
            batch = train[i:i + 32]
            opt.zero_grad()
            loss = loss_fn(model([s for s, _ in batch]), torch.tensor([k for _, k in batch]))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
        seconds += time.perf_counter() - start
        cpu_seconds += time.process_time() - cpu_start
        with torch.no_grad():
            correct = sum(int(model([s for s, _ in val[i:i + 256]]).argmax(1).eq(
                torch.tensor([k for _, k in val[i:i + 256]])).sum()) for i in range(0, len(val), 256))
        print(f"torch epoch {epoch + 1}: val acc {correct / len(val):.4f}", flush=True)
    print(f"torch_samples_per_s {len(train) * epochs / seconds:.0f}")
    print(f"torch_samples_per_cpu_s {len(train) * epochs / cpu_seconds:.0f}")


if __name__ == "__main__":
    main()

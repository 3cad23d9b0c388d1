#!/usr/bin/python3
"""An independent NumPy reference of the SymLA policy's forward pass (main/engine/rl/symla.ts), written from the
equations of that file's header, vectorised over connections; test/unit/symla-peer.test.ts checks ours against it.

Per slot, layer sizes n_0 = observation size (+ 1 for the bias input), n_1.. = hidden, n_L = actions; per layer l
one cell shared by its n_l x n_l+1 connections, state h, c [n_l, n_l+1, S]. Per environment step and tick, for
l = 0..L-1, every connection (i, j) steps on u = [fwd_l[i], bwd_l[j], r, d]:
    z = u Wx + h Wh + b, gates i f g o, c' = s(f) c + s(i) tanh(g), h' = s(o) tanh(c')
    fwd_l+1[j] = mean_i h'_ij F,   bwd_l-1[i] = mean_j h'_ij B (l > 0)
and the logits are channel 0 of fwd_L after the last tick; the probabilities their softmax.

Usage: symla_ref.py case.json  ->  JSON on stdout: {"probs": [[[p per action] per slot] per step]}.
The case: {"model": {stateSize, messageSize, hidden, ticks, biasInput},
           "params": {name: {"shape": [...], "values": [flat]}},
           "slots": [{"observationSize": O, "actions": A}],
           "steps": [{"begin": bool, "obs": [[x per own input] per slot], "prevActions": [a per slot],
                      "prevRewards": [r per slot], "dones": [d per slot], "acted": [bool per slot]}]}
"""
import json
import sys

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def load_params(raw, layers):
    """Per layer: wx [2M+2, 4S], wh [S, 4S], b [4S], f [S, M], bw [S, M], float32 values in float64."""

    def get(name):
        p = raw[name]
        return np.asarray(p["values"], dtype=np.float32).reshape(p["shape"]).astype(np.float64)

    return [{part: get(f"symla/l{l}/{part}") for part in ("wx", "wh", "b", "f", "bw")} for l in range(layers)]


class Slot:
    """One lifetime of one slot's network: every connection's h and c, and the messages between layers."""

    def __init__(self, model, observation_size, actions):
        S, M = model["stateSize"], model["messageSize"]
        self.model = model
        self.sizes = [observation_size + (1 if model["biasInput"] else 0), *model["hidden"], actions]
        L = len(self.sizes) - 1
        self.h = [np.zeros((self.sizes[l], self.sizes[l + 1], S)) for l in range(L)]
        self.c = [np.zeros((self.sizes[l], self.sizes[l + 1], S)) for l in range(L)]
        self.fwd = [np.zeros((n, M)) for n in self.sizes]
        # bwd[l]: the backward messages into layer l's outputs, [n_l+1, M].
        self.bwd = [np.zeros((n, M)) for n in self.sizes[1:]]

    def step(self, cells, x, prev_action, r, d, acted):
        S, M = self.model["stateSize"], self.model["messageSize"]
        sizes = self.sizes
        L = len(sizes) - 1
        inputs = np.asarray(x, dtype=np.float64)
        if self.model["biasInput"]:
            inputs = np.append(inputs, 1.0)
        assert inputs.shape == (sizes[0],)
        self.fwd[0] = np.zeros((sizes[0], M))
        self.fwd[0][:, 0] = inputs
        self.bwd[L - 1] = np.zeros((sizes[L], M))
        if acted:
            self.bwd[L - 1][:, 0] = np.eye(sizes[L])[int(prev_action)]
        for _ in range(self.model["ticks"]):
            for l in range(L):
                w = cells[l]
                n0, n1 = sizes[l], sizes[l + 1]
                u = np.concatenate(
                    [
                        np.broadcast_to(self.fwd[l][:, None, :], (n0, n1, M)),
                        np.broadcast_to(self.bwd[l][None, :, :], (n0, n1, M)),
                        np.full((n0, n1, 1), r),
                        np.full((n0, n1, 1), d),
                    ],
                    axis=2,
                )
                z = np.einsum("ijk,kg->ijg", u, w["wx"]) + np.einsum("ijs,sg->ijg", self.h[l], w["wh"]) + w["b"]
                zi, zf, zg, zo = np.split(z, 4, axis=2)
                c = sigmoid(zf) * self.c[l] + sigmoid(zi) * np.tanh(zg)
                h = sigmoid(zo) * np.tanh(c)
                self.h[l], self.c[l] = h, c
                self.fwd[l + 1] = np.einsum("ijs,sm->jm", h, w["f"]) / n0
                if l > 0:
                    self.bwd[l - 1] = np.einsum("ijs,sm->im", h, w["bw"]) / n1
        logits = self.fwd[L][:, 0]
        e = np.exp(logits - logits.max())
        return e / e.sum()


def run(case):
    model = case["model"]
    cells = load_params(case["params"], len(model["hidden"]) + 1)
    slots = None
    out = []
    for step in case["steps"]:
        if step["begin"] or slots is None:
            slots = [Slot(model, s["observationSize"], s["actions"]) for s in case["slots"]]
        out.append(
            [
                slot.step(cells, step["obs"][k], step["prevActions"][k], step["prevRewards"][k], step["dones"][k],
                          step["acted"][k]).tolist()
                for k, slot in enumerate(slots)
            ]
        )
    return {"probs": out}


if __name__ == "__main__":
    with open(sys.argv[1]) as f:
        print(json.dumps(run(json.load(f))))

#!/usr/bin/python3
"""The NumPy peer of `npm run bench -- --es` (bench/es.ts): one generation of OpenAI-ES on Bernoulli bandits,
written the way one vectorises it in NumPy: every member of the population and every lifetime of the generation
stepped together, the members' perturbed weights stacked on a leading axis [P, ...] and multiplied by stacked
matmuls. A generation does what metalab's (main/engine/rl/es.ts) does: antithetic noise, the perturbed weights,
P members x B bandits x K pulls of forward-only lifetimes (softmax sampling, Bernoulli payouts), centred ranks, the
gradient estimate and an Adam step. As there, every member meets the same bandits, payout draws and action draws
(common random numbers); the draws themselves come from NumPy's generator, so fitnesses are not ours bit for bit.

SymLA (the equations of main/engine/rl/symla.ts's header, as test/peer/symla_ref.py writes them for one slot):
layer sizes n_0 = observation size (+ 1 for the bias input), n_1.. = hidden, n_L = arms; per layer l one cell shared
by its n_l x n_l+1 connections, state h, c [P, B, n_l, n_l+1, S]. Per pull and tick, for l = 0..L-1, every
connection (i, j) steps on u = [fwd_l[i], bwd_l[j], r, d]:
    z = u Wx + h Wh + b, gates i f g o, c' = s(f) c + s(i) tanh(g), h' = s(o) tanh(c')
    fwd_l+1[j] = mean_i h'_ij F,   bwd_l-1[i] = mean_j h'_ij B (l > 0)
the logits are channel 0 of fwd_L after the last tick. u Wx is taken apart as ours takes it: the fwd rows per
input i, the bwd rows per output j, the reward and done rows per lifetime.

LSTM (RL²-style, main/engine/rl/fastForward.ts's lstmStep and networks.ts's input): per pull the input
[observation, previous action one-hot over the padded arm count, previous reward, done, remaining fraction of the
lifetime], z = x W_x + h W_h + b, gates i f g o, and a head [H, A + 1] (logits of the padded arms, then the value);
arms the bandit lacks get no probability.

Float64 throughout, as ours computes (its weights are float32 values, its states float64).

Usage (one JSON object on stdin, one on stdout):
  symla_es.py info     -> versions and the BLAS this process loaded
  symla_es.py bench    {"cases": [case], "generations": g, "warmup": w, "seed": k}
                       -> {"results": [{"key", "wall": [s per generation], "cpu": [s], "meanReward": r}]}
  A case: {"key", "kind": "symla" | "lstm", "model": the run spec's model, "params": [{"name", "shape",
  "values"}] (the initial weights, in the learner's order), "population", "batch", "pulls", "arms", "actions"
  (the padded action count), "observationSize", "sigma", "learningRate", "adamEpsilon"}.
Run with Debian's /usr/bin/python3 (python3-numpy), OMP_NUM_THREADS=1 and OPENBLAS_NUM_THREADS=1.
"""
import json
import os
import platform
import sys
import time

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def blas_library():
    """The BLAS shared objects this process loaded."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            parts = line.split()
            name = os.path.basename(parts[-1]).lower() if len(parts) >= 6 else ""
            if "blas" in name or "mkl" in name:
                libs.add(os.path.realpath(parts[-1]))
    return sorted(libs)


def sample(logits, u):
    """Actions [P, B] from softmax(logits [P, B, A]) by inverse transform with u [B] (shared by the members)."""
    e = np.exp(logits - logits.max(axis=2, keepdims=True))
    cumulative = np.cumsum(e, axis=2)
    below = cumulative < (u[None, :] * cumulative[:, :, -1])[:, :, None]
    return np.minimum(below.sum(axis=2), logits.shape[2] - 1)


def symla_rollouts(case, w, probs, rng):
    """Total reward [P, B] of every member's lifetimes. w: per layer, each part stacked over members [P, ...]."""
    model = case["model"]
    S, M, ticks = model["stateSize"], model["messageSize"], model["ticks"]
    P = w[0]["wx"].shape[0]
    B, A = probs.shape
    G = 4 * S
    sizes = [case["observationSize"] + (1 if model["biasInput"] else 0), *model["hidden"], A]
    L = len(sizes) - 1
    # Per layer: the Wx rows of the forward messages, of the backward ones, of r and d; F and B side by side.
    cells = [
        {
            "wf": lw["wx"][:, :M],
            "wb": lw["wx"][:, M : 2 * M],
            "wr": lw["wx"][:, 2 * M][:, None, :],
            "wd": lw["wx"][:, 2 * M + 1][:, None, :],
            "b": lw["b"][:, None, :],
            "wh": lw["wh"],
            "out": np.concatenate([lw["f"], lw["bw"]], axis=2),
        }
        for lw in w
    ]
    h = [np.zeros((P, B, sizes[l], sizes[l + 1], S)) for l in range(L)]
    c = [np.zeros((P, B, sizes[l], sizes[l + 1], S)) for l in range(L)]
    fwd = [np.zeros((P, B, n, M)) for n in sizes]
    bwd = [np.zeros((P, B, n, M)) for n in sizes[1:]]
    # The observation (a bandit's constant 0), then the bias input.
    fwd[0][:, :, :, 0] = [0.0] * case["observationSize"] + ([1.0] if model["biasInput"] else [])
    r = np.zeros((P, B))
    d = np.ones((P, B))  # every pull is an episode: done at every step, the first included
    total = np.zeros((P, B))
    arms = np.arange(A)
    actions = None
    for _ in range(case["pulls"]):
        bwd[L - 1][:] = 0
        if actions is not None:
            bwd[L - 1][:, :, :, 0] = actions[:, :, None] == arms
        for _ in range(ticks):
            for l in range(L):
                cell = cells[l]
                n0, n1 = sizes[l], sizes[l + 1]
                q = cell["b"] + r[:, :, None] * cell["wr"] + d[:, :, None] * cell["wd"]  # [P, B, G]
                pf = np.matmul(fwd[l].reshape(P, B * n0, M), cell["wf"]).reshape(P, B, n0, 1, G)
                pb = np.matmul(bwd[l].reshape(P, B * n1, M), cell["wb"]).reshape(P, B, 1, n1, G)
                z = np.matmul(h[l].reshape(P, B * n0 * n1, S), cell["wh"]).reshape(P, B, n0, n1, G)
                z += q[:, :, None, None, :] + pf + pb
                zi, zf, zg, zo = np.split(z, 4, axis=4)
                c[l] = sigmoid(zf) * c[l] + sigmoid(zi) * np.tanh(zg)
                h[l] = sigmoid(zo) * np.tanh(c[l])
                msgs = np.matmul(h[l].reshape(P, B * n0 * n1, S), cell["out"]).reshape(P, B, n0, n1, 2 * M)
                fwd[l + 1] = msgs[..., :M].sum(axis=2) / n0
                if l > 0:
                    bwd[l - 1] = msgs[..., M:].sum(axis=3) / n1
        actions = sample(fwd[L][:, :, :, 0], rng.random(B))
        paid = rng.random(B)
        r = (paid[None, :] < np.take_along_axis(np.broadcast_to(probs, (P, B, A)), actions[:, :, None], 2)[..., 0])
        r = r.astype(np.float64)
        total += r
    return total


def lstm_rollouts(case, w, probs, rng):
    """The same for the RL²-style LSTM: w = [W [P, I + H, 4H], b [P, 4H], head W [P, H, A + 1], head b]."""
    W, b, hw, hb = w
    P = W.shape[0]
    B, arms = probs.shape
    A = case["actions"]
    H = W.shape[2] // 4
    O = case["observationSize"]
    I = W.shape[1] - H
    K = case["pulls"]
    wx, wh = W[:, :I], W[:, I:]
    h = np.zeros((P, B, H))
    c = np.zeros((P, B, H))
    x = np.zeros((P, B, I))  # the observation (a bandit's constant 0) stays 0
    x[:, :, O + A + 1] = 1  # done: every pull is an episode
    padded = np.full(A, 0.0)
    padded[arms:] = -np.inf
    total = np.zeros((P, B))
    actions = None
    for t in range(K):
        x[:, :, O : O + A] = 0
        if actions is not None:
            np.put_along_axis(x[:, :, O : O + A], actions[:, :, None], 1.0, axis=2)
        x[:, :, O + A + 2] = (K - t) / K
        z = np.matmul(x, wx) + np.matmul(h, wh) + b[:, None, :]
        c = sigmoid(z[..., H : 2 * H]) * c + sigmoid(z[..., :H]) * np.tanh(z[..., 2 * H : 3 * H])
        h = sigmoid(z[..., 3 * H :]) * np.tanh(c)
        out = np.matmul(h, hw) + hb[:, None, :]
        actions = sample(out[..., :A] + padded, rng.random(B))
        paid = rng.random(B)
        won = paid[None, :] < np.take_along_axis(np.broadcast_to(probs, (P, B, arms)), actions[:, :, None], 2)[..., 0]
        x[:, :, O + A] = won
        total += won
    return total


def centred_ranks(fitness):
    ranks = np.empty(len(fitness))
    ranks[np.argsort(fitness, kind="stable")] = np.arange(len(fitness)) / max(1, len(fitness) - 1) - 0.5
    return ranks


class Learner:
    """theta (flat), Adam's moments, and one generation at a time."""

    def __init__(self, case, seed):
        self.case = case
        self.shapes = [tuple(p["shape"]) for p in case["params"]]
        self.names = [p["name"] for p in case["params"]]
        self.theta = np.concatenate([np.asarray(p["values"], dtype=np.float32) for p in case["params"]]).astype(
            np.float64
        )
        self.m = np.zeros_like(self.theta)
        self.v = np.zeros_like(self.theta)
        self.t = 0
        self.rng = np.random.default_rng(seed)

    def unflatten(self, members):
        """[P, D] -> per parameter [P, *shape], in the learner's order."""
        out, at = [], 0
        for shape in self.shapes:
            size = int(np.prod(shape))
            out.append(members[:, at : at + size].reshape(members.shape[0], *shape))
            at += size
        return out

    def generation(self):
        case, rng = self.case, self.rng
        pairs = max(1, case["population"] // 2)
        sigma = case["sigma"]
        eps = rng.standard_normal((pairs, self.theta.size))
        # Member 2p tries theta + sigma eps_p, member 2p + 1 theta - sigma eps_p.
        members = self.theta + sigma * np.stack([eps, -eps], axis=1).reshape(2 * pairs, -1)
        params = self.unflatten(members)
        probs = rng.random((case["batch"], case["arms"]))  # this generation's bandits
        if case["kind"] == "symla":
            layers = len(case["model"]["hidden"]) + 1
            by_name = dict(zip(self.names, params))
            w = [{part: by_name[f"symla/l{l}/{part}"] for part in ("wx", "wh", "b", "f", "bw")} for l in range(layers)]
            total = symla_rollouts(case, w, probs, rng)
        else:
            total = lstm_rollouts(case, params, probs, rng)
        fitness = total.mean(axis=1)
        ranks = centred_ranks(fitness)
        grad = -((ranks[0::2] - ranks[1::2]) @ eps) / (2 * pairs * sigma)  # Adam descends
        self.t += 1
        self.m = 0.9 * self.m + 0.1 * grad
        self.v = 0.999 * self.v + 0.001 * grad * grad
        m_hat = self.m / (1 - 0.9**self.t)
        v_hat = self.v / (1 - 0.999**self.t)
        self.theta -= case["learningRate"] * m_hat / (np.sqrt(v_hat) + case["adamEpsilon"])
        return float(total.mean() / case["pulls"])


def bench(req):
    results = []
    for k, case in enumerate(req["cases"]):
        learner = Learner(case, req.get("seed", 0) + k)
        for _ in range(req.get("warmup", 1)):
            learner.generation()
        wall, cpu, rewards = [], [], []
        for _ in range(req["generations"]):
            t, p = time.perf_counter(), time.process_time()
            rewards.append(learner.generation())
            cpu.append(time.process_time() - p)
            wall.append(time.perf_counter() - t)
        results.append({"key": case["key"], "wall": wall, "cpu": cpu, "meanReward": float(np.mean(rewards))})
    return {"results": results}


def info():
    return {
        "numpy": np.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "blas": blas_library(),
    }


if __name__ == "__main__":
    command = sys.argv[1] if len(sys.argv) > 1 else ""
    if command == "info":
        print(json.dumps(info()))
    elif command == "bench":
        print(json.dumps(bench(json.load(sys.stdin))))
    else:
        sys.exit(f"usage: {sys.argv[0]} info | bench  (a JSON request on stdin)")

#!/usr/bin/python3
"""The PyTorch peer of MetaGenRL's learned objective and its meta-gradient (bench/metagenrl.ts and
test/unit/metagenrl-peer.test.ts drive it).

The same maths as main/engine/rl/metagenrl/objective.ts and metaGradient.ts, written the way a PyTorch user writes
it: the meta-gradient by autograd through the inner step (create_graph=True), i.e. PyTorch's exact second-order
gradient. The TypeScript side exports the architecture, the initial weights by our names (layout [fanIn, fanOut]),
the minibatches of sub-trajectories (time-major: row t * B + b is step t of sub-trajectory b) and their target
noise (bench/results/export/<name>/meta.json + data.bin, little-endian float32).

Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
  {"cmd": "info"}                          -> versions, threads
  {"cmd": "load", "dir": ...}              -> reads the export, builds the agent at its initial weights (float32)
  {"cmd": "check", "dtype": "float64"}     -> on minibatch 0 from the initial weights, nothing updated: the objective's
                                              per-step output and loss for the policy's actions, grad_phi L, the
                                              meta-gradient of -J (by our names), J, the alignment, and a central
                                              difference of J along two directions of alpha (the peer's own check)
  {"cmd": "losses", "steps": N, "dtype": ...} -> N full updates from the initial weights, each one's losses
  {"cmd": "time", "steps": k}              -> k more full updates (float32), each timed: total and parts (ms)
  {"cmd": "quit"}
Run with Debian's python3-torch (/usr/bin/python3) and OPENBLAS_NUM_THREADS=1 (the harness sets it).
"""
import time

import torch

import protocol

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

LN_EPS = 1e-5
FORGET_BIAS = 1.0
DTYPES = {"float32": torch.float32, "float64": torch.float64}


# ----------------------------------------------------------------------------------------------- networks


def dense_names(prefix, count):
    return [f"{prefix}.layer{i}" for i in range(count)]


def actor_forward(phi, obs):
    """tanh(MLP(obs)), ReLU hidden layers; phi = [w0, b0, w1, b1, ...] with w [fanIn, fanOut]."""
    h = obs
    for i in range(0, len(phi), 2):
        z = torch.addmm(phi[i + 1], h, phi[i])
        h = torch.relu(z) if i + 2 < len(phi) else torch.tanh(z)
    return h


def critic_forward(theta, obs, actions):
    """Q(s, a): ReLU MLP on [s, a], linear output."""
    h = torch.cat([obs, actions], 1)
    for i in range(0, len(theta), 2):
        h = torch.addmm(theta[i + 1], h, theta[i])
        if i + 2 < len(theta):
            h = torch.relu(h)
    return h


def masked_mean(x, mask):
    return (x * mask).sum() / mask.sum().clamp(min=1)


class Objective:
    """L_alpha as objective.ts builds it, a function of its parameters alpha (a dict by our names)."""

    def __init__(self, arch):
        self.arch = arch
        depth = arch["depth"]
        self.action = dense_names("objective.action", depth)
        self.value = dense_names("objective.value", depth) if arch["inputs"] else []
        self.head = dense_names("objective.head", depth)

    def names(self):
        def layer(name, norm):
            return [f"{name}.w", f"{name}.b", *([f"{name}.ln.g", f"{name}.ln.b"] if norm else [])]

        depth = self.arch["depth"]
        return [
            *[n for name in self.action for n in layer(name, True)],
            *[n for name in self.value for n in layer(name, False)],
            "objective.lstm.w",
            "objective.lstm.b",
            *[n for i, name in enumerate(self.head) for n in layer(name, i < depth - 1)],
        ]

    @staticmethod
    def hidden(alpha, x, layers, norm):
        """Affine, ReLU on the first half of the units and square on the rest, LayerNorm where `norm`."""
        for name in layers:
            z = torch.addmm(alpha[f"{name}.b"], x, alpha[f"{name}.w"])
            half = z.shape[1] // 2
            x = torch.cat([torch.relu(z[:, :half]), z[:, half:] ** 2], 1)
            if norm:
                x = torch.nn.functional.layer_norm(
                    x, (x.shape[1],), alpha[f"{name}.ln.g"], alpha[f"{name}.ln.b"], eps=LN_EPS
                )
        return x

    @staticmethod
    def linear(alpha, x, name):
        return torch.addmm(alpha[f"{name}.b"], x, alpha[f"{name}.w"])

    def backward_lstm(self, alpha, x, mask, B, T):
        """The LSTM from step T-1 down to 0, gates [i, f, g, o], state held at 0 on padding."""
        H = self.arch["lstm"]
        w = alpha["objective.lstm.w"]
        forget = torch.zeros(4 * H, dtype=x.dtype)
        forget[H : 2 * H] = FORGET_BIAS
        b = alpha["objective.lstm.b"] + forget
        h = torch.zeros(B, H, dtype=x.dtype)
        c = torch.zeros(B, H, dtype=x.dtype)
        outs = [None] * T
        for t in reversed(range(T)):
            m = mask[t * B : (t + 1) * B]
            z = torch.addmm(b, torch.cat([x[t * B : (t + 1) * B], h], 1), w)
            i, f, g, o = z.chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c) * m
            c = c * m
            outs[t] = h
        return torch.cat(outs, 0)

    def per_step(self, alpha, batch, policy_actions, value_inputs):
        """[T * B, 1]: the objective at every step for the policy's actions."""
        rows, A = policy_actions.shape
        pairs = torch.stack([batch["actions"].reshape(-1), policy_actions.reshape(-1)], 1)
        features = self.hidden(alpha, pairs, self.action, True).reshape(rows, A, -1).mean(1)
        if value_inputs is not None:
            v = self.linear(alpha, self.hidden(alpha, value_inputs, self.value[:-1], False), self.value[-1])
            features = torch.cat([features, v], 1)
        hs = self.backward_lstm(alpha, features, batch["mask"], batch["B"], batch["T"])
        out = self.linear(alpha, self.hidden(alpha, hs, self.head[:-1], True), self.head[-1])
        s = self.arch["errorScale"]
        return s * torch.tanh(out / s)

    def loss(self, alpha, batch, policy_actions, value_inputs):
        return masked_mean(self.per_step(alpha, batch, policy_actions, value_inputs), batch["mask"])


# ----------------------------------------------------------------------------------------------- data


def sub_batch(batch, start, stop):
    """Sub-trajectories [start, stop) of a time-major minibatch (what the objective reads of it)."""
    B, T = batch["B"], batch["T"]
    out = {"B": stop - start, "T": T}
    for k in ("obs", "actions", "rewards", "nextObs", "dones", "mask"):
        out[k] = batch[k].reshape(T, B, -1)[:, start:stop].reshape(T * (stop - start), -1)
    return out


def normaliser(columns, valid):
    """z-normalised over the valid steps (population variance + 1e-8); a constant normalises to 0."""
    x = torch.cat([c[valid] for c in columns])
    mean = x.mean() if len(x) else torch.zeros((), dtype=x.dtype)
    var = ((x - mean) ** 2).mean() if len(x) else torch.zeros((), dtype=x.dtype)
    return lambda c: (c - mean) / torch.sqrt(var + 1e-8)


def value_inputs(batch, values, next_values, inputs):
    """The value branch's inputs, as valueInputs in objective.ts: 0 on padding; None when the objective reads none."""
    if not inputs:
        return None
    B, T = batch["B"], batch["T"]
    mask = batch["mask"]
    valid = mask[:, 0] > 0
    reward = normaliser([batch["rewards"]], valid)
    value = normaliser([values, next_values], valid)
    columns = {
        "reward": lambda: reward(batch["rewards"]),
        "time": lambda: (torch.arange(T * B, dtype=mask.dtype) // B / T).reshape(-1, 1),
        "nextValue": lambda: value(next_values) * (1 - batch["dones"]),
        "value": lambda: value(values),
    }
    return torch.cat([columns[k]() for k in inputs], 1) * mask


class Agent:
    """One MetaGenRL agent (TD3's actor and twin critics with targets) and the objective, in one dtype."""

    def __init__(self, meta, params, batches, dtype):
        self.meta = meta
        self.objective = Objective(meta["objective"])
        depth = len(meta["hidden"]) + 1

        def names(prefix):
            return [f"{name}.{k}" for name in dense_names(prefix, depth) for k in "wb"]

        def net(prefix, trained=True):
            return [params[n].to(dtype).requires_grad_(trained) for n in names(prefix)]

        self.phi_names = names("actor")
        self.phi = net("actor")
        self.critics = [net("critic1"), net("critic2")]
        self.phi_target = net("target.actor", False)
        self.critic_targets = [net("target.critic1", False), net("target.critic2", False)]
        self.alpha = {n: params[n].to(dtype).requires_grad_() for n in self.objective.names()}
        self.batches = [self.to_batch(b, dtype) for b in batches]
        lr, eps = meta["learningRate"], meta["adamEpsilon"]
        self.critic_opt = torch.optim.Adam([*self.critics[0], *self.critics[1]], lr=lr, eps=eps, foreach=True)
        self.actor_opt = torch.optim.Adam(self.phi, lr=lr, eps=eps, foreach=True)
        self.meta_opt = torch.optim.Adam(
            list(self.alpha.values()), lr=meta["metaLearningRate"], eps=meta["metaAdamEpsilon"], foreach=True
        )
        self.step_index = 0

    def to_batch(self, b, dtype):
        return {"B": self.meta["batch"], "T": self.meta["length"], **{k: v.to(dtype) for k, v in b.items()}}

    def value_inputs(self, batch):
        """The critic's Q1(s, pi(s)) and Q1(s', pi(s')) (data: no gradient), through value_inputs."""
        with torch.no_grad():

            def q(obs):
                return critic_forward(self.critics[0], obs, actor_forward(self.phi, obs))

            return value_inputs(batch, q(batch["obs"]), q(batch["nextObs"]), self.meta["objective"]["inputs"])

    def policy_loss(self, batch, alpha):
        return self.objective.loss(alpha, batch, actor_forward(self.phi, batch["obs"]), self.value_inputs(batch))

    def meta_gradient(self, batch):
        """d(-J)/d alpha through phi' = phi - eta grad_phi L_alpha(phi) (half batch), J = mean Q1(s, pi_phi'(s));
        also J and the alignment cos(grad_phi L, -grad_phi' J)."""
        half = sub_batch(batch, 0, max(1, batch["B"] // 2))
        inner = torch.autograd.grad(self.policy_loss(half, self.alpha), self.phi, create_graph=True)
        phi_after = [p - self.meta["innerLearningRate"] * g for p, g in zip(self.phi, inner)]
        q = critic_forward(self.critics[0], batch["obs"], actor_forward(phi_after, batch["obs"]))
        j = masked_mean(q, batch["mask"])
        alpha = list(self.alpha.values())
        grads = torch.autograd.grad(-j, [*alpha, *phi_after])
        meta, minus_v = grads[: len(alpha)], grads[len(alpha) :]
        g = torch.cat([x.reshape(-1) for x in inner]).detach()
        mv = torch.cat([x.reshape(-1) for x in minus_v])
        alignment = (g @ mv) / (g.norm() * mv.norm() + 1e-30)
        return list(meta), j.detach(), alignment

    def check(self):
        b = self.batches[0]
        actions = actor_forward(self.phi, b["obs"])
        vin = self.value_inputs(b)
        out = self.objective.per_step(self.alpha, b, actions, vin)
        loss = masked_mean(out, b["mask"])
        grad_l = torch.autograd.grad(loss, self.phi)
        meta, j, alignment = self.meta_gradient(b)
        return {
            "perStep": out.detach().reshape(-1).tolist(),
            "loss": loss.item(),
            "policyGrads": {n: g.reshape(-1).tolist() for n, g in zip(self.phi_names, grad_l)},
            "metaGrads": {n: g.reshape(-1).tolist() for n, g in zip(self.alpha, meta)},
            "j": j.item(),
            "alignment": alignment.item(),
            "finiteDifference": self.finite_difference(meta),
        }

    def finite_difference(self, meta, eps=1e-6):
        """The meta-gradient's directional derivative against (J(alpha - eps d) - J(alpha + eps d)) / (2 eps), along
        the meta-gradient itself and along a random direction: the peer's second-order autograd checked on its own
        (meaningful in float64). Returns [autograd, central difference] per direction."""
        gen = torch.Generator().manual_seed(0)
        flat = torch.cat([g.reshape(-1) for g in meta])
        random = torch.randn(flat.shape, generator=gen, dtype=flat.dtype)
        out = []
        for d in (flat / flat.norm(), random / random.norm()):
            parts = torch.split(d, [a.numel() for a in self.alpha.values()])

            def j_at(sign):
                saved = {n: a.detach().clone() for n, a in self.alpha.items()}
                with torch.no_grad():
                    for a, p in zip(self.alpha.values(), parts):
                        a.add_(sign * eps * p.reshape(a.shape))
                j = self.meta_gradient(self.batches[0])[1].item()
                with torch.no_grad():
                    for n, a in self.alpha.items():
                        a.copy_(saved[n])
                return j

            out.append([(flat @ d).item(), (j_at(-1) - j_at(1)) / (2 * eps)])
        return out

    def critic_loss(self, batch):
        """TD3's critic loss on the minibatch's valid steps (the noise is given for those)."""
        valid = batch["mask"][:, 0] > 0
        b = {k: batch[k][valid] for k in ("obs", "actions", "rewards", "nextObs", "dones")}
        with torch.no_grad():
            next_actions = (actor_forward(self.phi_target, b["nextObs"]) + batch["noise"]).clamp(-1, 1)
            q = torch.min(*[critic_forward(t, b["nextObs"], next_actions) for t in self.critic_targets])
            y = b["rewards"] + (1 - b["dones"]) * self.meta["discount"] * q
        return sum(((critic_forward(c, b["obs"], b["actions"]) - y) ** 2).mean() for c in self.critics)

    def average_targets(self):
        polyak = self.meta["polyak"]
        targets = [*self.phi_target, *self.critic_targets[0], *self.critic_targets[1]]
        with torch.no_grad():
            torch._foreach_mul_(targets, polyak)
            torch._foreach_add_(targets, [*self.phi, *self.critics[0], *self.critics[1]], alpha=1 - polyak)

    def update(self):
        """One full update: the critics' TD3 step, the actor's step on L_alpha and the targets' Polyak averaging, the
        objective's meta-step. Returns the losses and each part's time (ms)."""
        b = self.batches[self.step_index % len(self.batches)]
        self.step_index += 1
        t0 = time.perf_counter()
        critic = self.critic_loss(b)
        self.critic_opt.zero_grad(set_to_none=True)
        critic.backward()
        self.critic_opt.step()
        t1 = time.perf_counter()
        actor = self.policy_loss(b, {n: a.detach() for n, a in self.alpha.items()})
        for p, g in zip(self.phi, torch.autograd.grad(actor, self.phi)):
            p.grad = g
        clip_norm(self.phi, self.meta["actorGradClip"])
        self.actor_opt.step()
        self.average_targets()
        t2 = time.perf_counter()
        meta, j, alignment = self.meta_gradient(b)
        for a, g in zip(self.alpha.values(), meta):
            a.grad = g
        clip_norm(list(self.alpha.values()), self.meta["metaGradClip"])
        self.meta_opt.step()
        t3 = time.perf_counter()
        losses = {
            "criticLoss": critic.item(),
            "actorLoss": actor.item(),
            "metaLoss": -j.item(),
            "alignment": alignment.item(),
        }
        return losses, [(t1 - t0) * 1000, (t2 - t1) * 1000, (t3 - t2) * 1000]


def clip_norm(params, clip):
    """Global-norm clipping as our Adam: scale by clip / norm only when norm > clip."""
    if clip is None:
        return
    grads = [p.grad for p in params]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()
    if norm > clip:
        torch._foreach_mul_(grads, clip / norm)


def main():
    export, agent = None, None

    def build(dtype="float32"):
        meta, take = export
        params = {e["name"]: take(e) for e in meta["params"]}
        batches = [{k: take(e) for k, e in b.items()} for b in meta["batches"]]
        return Agent(meta, params, batches, DTYPES[dtype])

    def time_updates(steps):
        totals, parts = [], []
        for _ in range(steps):
            _, p = agent.update()
            totals.append(sum(p))
            parts.append(p)
        return {"ms": totals, "parts": parts}

    def handle(req):
        nonlocal export, agent
        cmd = req["cmd"]
        if cmd == "info":
            return protocol.info()
        if cmd == "load":
            export = protocol.read_export(req["dir"])
            agent = build()
            return {"ok": True}
        if cmd == "check":
            return build(req.get("dtype", "float64")).check()
        if cmd == "losses":
            fresh = build(req.get("dtype", "float64"))
            return {"steps": [fresh.update()[0] for _ in range(req["steps"])]}
        if cmd == "time":
            return time_updates(req["steps"])
        return protocol.unknown(req)

    protocol.serve(handle)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The PyTorch peer of metalab's RL learners (bench/rl.ts and test/unit/rl-peer.test.ts drive it).

TD3's update and PPO's clipped loss written the way a PyTorch user writes them (Stable-Baselines3's formulas),
on one thread. The TypeScript side exports the initial weights by name, the minibatches and, for TD3, the target
policy smoothing noise of every minibatch (bench/results/export/<name>/meta.json + data.bin, little-endian
float32), so both sides compute from the same numbers.

Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
  {"cmd": "info"}                  -> versions, threads
  {"cmd": "load", "dir": ...}      -> builds the learner of the export (kind td3 or ppo) at its initial weights
  {"cmd": "grads"}                 -> losses and gradients (by our parameter names, our [fanIn, fanOut] layout) on
                                      minibatch 0 from the initial weights, nothing updated
  {"cmd": "losses", "steps": N}    -> N updates from the initial weights on minibatches 0..N-1, each one's losses
  {"cmd": "time", "steps": k}      -> k more updates (cycling over the minibatches), each timed (ms)
  {"cmd": "quit"}
Run with Debian's python3-torch (/usr/bin/python3) and OPENBLAS_NUM_THREADS=1 (the harness sets it).
"""
import copy

import torch
import torch.nn.functional as F
from torch import nn

import protocol

torch.set_num_threads(1)
torch.set_num_interop_threads(1)


def read_export(directory):
    meta, take = protocol.read_export(directory)
    params = {e["name"]: take(e) for e in meta["params"]}
    batches = [{k: take(e) for k, e in b.items()} for b in meta["batches"]]
    return meta, params, batches


def mlp(widths, out_activation=None):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i < len(widths) - 2:
            layers.append(nn.ReLU())
    if out_activation is not None:
        layers.append(out_activation)
    return nn.Sequential(*layers)


def linears(net):
    return [m for m in net if isinstance(m, nn.Linear)]


def load_weights(net, params, prefix):
    """Our layer i is `<prefix>.layer<i>.w` [fanIn, fanOut] and `.b`; nn.Linear keeps [fanOut, fanIn]."""
    with torch.no_grad():
        for i, lin in enumerate(linears(net)):
            lin.weight.copy_(params[f"{prefix}.layer{i}.w"].t())
            lin.bias.copy_(params[f"{prefix}.layer{i}.b"])


def named_grads(net, prefix):
    out = {}
    for i, lin in enumerate(linears(net)):
        out[f"{prefix}.layer{i}.w"] = lin.weight.grad.t().reshape(-1).tolist()
        out[f"{prefix}.layer{i}.b"] = lin.bias.grad.reshape(-1).tolist()
    return out


def clip_norm(params, clip):
    """Global-norm clipping exactly as ours: scale by clip / norm only when norm > clip."""
    if clip is None:
        return
    grads = [p.grad for p in params]
    norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()
    if norm > clip:
        torch._foreach_mul_(grads, clip / norm)


class Td3:
    """TD3 as Stable-Baselines3 writes its train step: twin critics in one module, one optimiser each for the
    actor and the critics, targets updated by Polyak averaging after each delayed actor step."""

    def __init__(self, meta, params, batches):
        obs, act, hidden = meta["obsSize"], meta["actionSize"], meta["hidden"]
        self.meta, self.batches = meta, batches
        self.actor = mlp([obs, *hidden, act], nn.Tanh())
        self.q1 = mlp([obs + act, *hidden, 1])
        self.q2 = mlp([obs + act, *hidden, 1])
        load_weights(self.actor, params, "actor")
        load_weights(self.q1, params, "critic1")
        load_weights(self.q2, params, "critic2")
        self.actor_target = copy.deepcopy(self.actor)
        self.q1_target, self.q2_target = copy.deepcopy(self.q1), copy.deepcopy(self.q2)
        load_weights(self.actor_target, params, "target.actor")
        load_weights(self.q1_target, params, "target.critic1")
        load_weights(self.q2_target, params, "target.critic2")
        self.critic_params = [*self.q1.parameters(), *self.q2.parameters()]
        lr, eps = meta["learningRate"], meta["adamEpsilon"]
        self.actor_opt = torch.optim.Adam(self.actor.parameters(), lr=lr, eps=eps, foreach=True)
        self.critic_opt = torch.optim.Adam(self.critic_params, lr=lr, eps=eps, foreach=True)
        self.online = [*self.actor.parameters(), *self.critic_params]
        self.targets = [*self.actor_target.parameters(), *self.q1_target.parameters(), *self.q2_target.parameters()]
        self.step_index = 0

    def critic_loss(self, b):
        with torch.no_grad():
            next_actions = (self.actor_target(b["nextObs"]) + b["noise"]).clamp(-1, 1)
            sa = torch.cat([b["nextObs"], next_actions], 1)
            q = torch.min(self.q1_target(sa), self.q2_target(sa))
            y = b["rewards"] + (1 - b["dones"]) * self.meta["discount"] * q
        sa = torch.cat([b["obs"], b["actions"]], 1)
        return F.mse_loss(self.q1(sa), y) + F.mse_loss(self.q2(sa), y)

    def actor_loss(self, b):
        return -self.q1(torch.cat([b["obs"], self.actor(b["obs"])], 1)).mean()

    def grads(self):
        b = self.batches[0]
        critic = self.critic_loss(b)
        critic.backward()
        critic_grads = {**named_grads(self.q1, "critic1"), **named_grads(self.q2, "critic2")}
        actor = self.actor_loss(b)
        actor.backward()
        return {
            "criticLoss": critic.item(),
            "actorLoss": actor.item(),
            "criticGrads": critic_grads,
            "actorGrads": named_grads(self.actor, "actor"),
        }

    def step(self):
        b = self.batches[self.step_index % len(self.batches)]
        critic = self.critic_loss(b)
        self.critic_opt.zero_grad(set_to_none=True)
        critic.backward()
        clip_norm(self.critic_params, self.meta["gradClip"])
        self.critic_opt.step()
        self.step_index += 1
        if self.step_index % self.meta["policyDelay"] != 0:
            return {"criticLoss": critic.item(), "actorLoss": None}
        actor = self.actor_loss(b)
        self.actor_opt.zero_grad(set_to_none=True)
        actor.backward()
        clip_norm(list(self.actor.parameters()), self.meta["gradClip"])
        self.actor_opt.step()
        polyak = self.meta["polyak"]
        with torch.no_grad():
            torch._foreach_mul_(self.targets, polyak)
            torch._foreach_add_(self.targets, self.online, alpha=1 - polyak)
        return {"criticLoss": critic.item(), "actorLoss": actor.item()}


class Ppo:
    """PPO's clipped loss as Stable-Baselines3 writes it: -min(ratio A, clip(ratio) A), value MSE to the returns
    (unclipped), minus the entropy bonus; an MLP policy with separate value network (tanh hidden layers are not
    used here: ReLU, as ours), Categorical or diagonal Gaussian actions with a state-independent log std."""

    def __init__(self, meta, params, batches):
        self.meta, self.batches = meta, batches
        obs, hidden, outputs = meta["obsSize"], meta["hidden"], meta["policyOutputs"]
        self.pi = mlp([obs, *hidden, outputs])
        self.v = mlp([obs, *hidden, 1])
        load_weights(self.pi, params, meta["policyName"])
        load_weights(self.v, params, meta["valueName"])
        self.log_std = nn.Parameter(params[meta["logStdName"]].clone()) if meta["gaussian"] else None
        self.params = [*self.pi.parameters(), *self.v.parameters()]
        if self.log_std is not None:
            self.params.append(self.log_std)
        self.opt = torch.optim.Adam(self.params, lr=meta["learningRate"], eps=meta["adamEpsilon"], foreach=True)
        self.step_index = 0

    def distribution(self, obs):
        out = self.pi(obs)
        if self.log_std is None:
            return torch.distributions.Categorical(logits=out)
        return torch.distributions.Normal(out, self.log_std.exp().expand_as(out))

    def loss(self, b):
        m = self.meta
        dist = self.distribution(b["obs"])
        if self.log_std is None:
            log_prob, entropy = dist.log_prob(b["actions"].reshape(-1).long()), dist.entropy()
        else:
            log_prob, entropy = dist.log_prob(b["actions"]).sum(1), dist.entropy().sum(1)
        advantages = b["advantages"]
        if m["normalizeAdvantages"]:
            advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        ratio = torch.exp(log_prob - b["logProbs"])
        clipped = torch.clamp(ratio, 1 - m["clip"], 1 + m["clip"])
        policy = -torch.min(ratio * advantages, clipped * advantages).mean()
        value = F.mse_loss(self.v(b["obs"]).reshape(-1), b["returns"])
        ent = entropy.mean()
        total = policy + m["valueCoef"] * value - m["entropyCoef"] * ent
        with torch.no_grad():
            log_ratio = log_prob - b["logProbs"]
            approx_kl = ((ratio - 1) - log_ratio).mean().item()
            clip_fraction = (torch.abs(ratio - 1) > m["clip"]).float().mean().item()
        parts = {"policyLoss": policy.item(), "valueLoss": value.item(), "entropy": ent.item()}
        return total, {**parts, "approxKl": approx_kl, "clipFraction": clip_fraction}

    def grads(self):
        total, parts = self.loss(self.batches[0])
        total.backward()
        grads = {**named_grads(self.pi, self.meta["policyName"]), **named_grads(self.v, self.meta["valueName"])}
        if self.log_std is not None:
            grads[self.meta["logStdName"]] = self.log_std.grad.reshape(-1).tolist()
        return {"loss": total.item(), **parts, "grads": grads}

    def step(self):
        total, parts = self.loss(self.batches[self.step_index % len(self.batches)])
        self.opt.zero_grad(set_to_none=True)
        total.backward()
        clip_norm(self.params, self.meta["gradClip"])
        self.opt.step()
        self.step_index += 1
        return {"loss": total.item(), **parts}


LEARNERS = {"td3": Td3, "ppo": Ppo}


def main():
    learner, export = None, None

    def handle(req):
        nonlocal learner, export
        cmd = req["cmd"]
        if cmd == "info":
            return protocol.info()
        if cmd == "load":
            export = read_export(req["dir"])
            learner = LEARNERS[export[0]["kind"]](*export)
            return {"ok": True}
        if cmd == "grads":
            learner = LEARNERS[export[0]["kind"]](*export)
            return learner.grads()
        if cmd == "losses":
            learner = LEARNERS[export[0]["kind"]](*export)
            return {"steps": [learner.step() for _ in range(req["steps"])]}
        if cmd == "time":
            return protocol.timed(learner.step, req["steps"])
        return protocol.unknown(req)

    protocol.serve(handle)


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""The PyTorch peer of metalab's benchmark (bench/main.ts drives it).

The same models and training step as main/engine, written the way a PyTorch user would write them, on one
thread. Everything model-specific is read from an export the TypeScript side writes (bench/results/export/
<config>/): the spec, the initial weights by name, fixed non-trained tensors (VSML's initial cells), the
batches and the learning rate of every step. So both sides start from the same weights and see the same batches.

Protocol: one JSON object per line on stdin, one JSON reply per line on stdout.
  {"cmd": "info"}                          -> versions, BLAS library, threads
  {"cmd": "peak", "n": 1024, "reps": 10}   -> fp32 matmul GFLOP/s (median)
  {"cmd": "load", "dir": ...}              -> builds the model from the export, at its initial weights
  {"cmd": "losses", "steps": N}            -> N training steps from the initial weights on batches 0..N-1
  {"cmd": "time", "steps": k}              -> k more steps (cycling over the batches), each timed (ms)
  {"cmd": "quit"}
Run with Debian's python3-torch (/usr/bin/python3) and OPENBLAS_NUM_THREADS=1 (the harness sets it).
"""
import math
import os
import time

import torch
import torch.nn.functional as F

import protocol

torch.set_num_threads(1)
torch.set_num_interop_threads(1)

LN_EPS = 1e-5
MASKED = -1e9


def blas_library():
    """The BLAS shared object this process actually loaded (torch links the generic libblas.so.3)."""
    libs = set()
    with open("/proc/self/maps") as maps:
        for line in maps:
            path = line.split()[-1] if len(line.split()) >= 6 else ""
            name = os.path.basename(path).lower()
            if "blas" in name or "mkl" in name:
                libs.add(os.path.realpath(path))
    return sorted(libs)


def blas_threads():
    try:
        import ctypes

        for lib in blas_library():
            if "openblas" in lib:
                return ctypes.CDLL(lib).openblas_get_num_threads()
    except Exception:  # noqa: BLE001 - only informative
        pass
    return None


# ----------------------------------------------------------------------------------------------- models


class Transformer(torch.nn.Module):
    """Causal pre-LayerNorm decoder as in main/engine/models/transformer.ts (nanoGPT-style, ReLU MLP)."""

    def __init__(self, spec, shape, w):
        super().__init__()
        m = spec["model"]
        self.d, self.heads, self.layers = m["dModel"], m["heads"], m["layers"]
        self.seq_len = shape["seqLen"]
        P = torch.nn.Parameter
        # Our weights are [fanIn, fanOut]; stored here as nn.Linear does, [fanOut, fanIn].
        lin = lambda name: (P(w[name + ".w"].t().contiguous()), P(w[name + ".b"]))  # noqa: E731
        self.embed_w, self.embed_b = lin("embed")
        self.position = P(w["position"])
        self.blocks = []
        for i in range(self.layers):
            b = {}
            for part, name in [("ln1", "ln1"), ("ln2", "ln2")]:
                b[part] = (P(w[f"block{i}.{name}.g"]), P(w[f"block{i}.{name}.b"]))
            b["qkv"] = lin(f"block{i}.attn.qkv")
            b["proj"] = lin(f"block{i}.attn.proj")
            b["fc"] = lin(f"block{i}.mlp.fc")
            b["out"] = lin(f"block{i}.mlp.proj")
            self.blocks.append(b)
            for part, ps in b.items():
                for j, p in enumerate(ps):
                    self.register_parameter(f"block{i}_{part}_{j}", p)
        self.lnf = (P(w["lnf.g"]), P(w["lnf.b"]))
        self.head_w, self.head_b = lin("head")
        self.register_parameter("lnf_g", self.lnf[0])
        self.register_parameter("lnf_b", self.lnf[1])
        T = self.seq_len
        self.register_buffer("mask", torch.triu(torch.full((T, T), MASKED), diagonal=1))

    def forward(self, x):
        B, T, _ = x.shape
        d, H = self.d, self.heads
        hs = d // H
        x = F.linear(x, self.embed_w, self.embed_b) + self.position[:T]
        for b in self.blocks:
            h = F.layer_norm(x, (d,), *b["ln1"], eps=LN_EPS)
            q, k, v = F.linear(h, *b["qkv"]).split(d, dim=2)
            q, k, v = (t.view(B, T, H, hs).transpose(1, 2) for t in (q, k, v))
            att = torch.softmax((q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(hs)) + self.mask[:T, :T], dim=-1)
            y = (att @ v).transpose(1, 2).reshape(B, T, d)
            x = x + F.linear(y, *b["proj"])
            h = F.layer_norm(x, (d,), *b["ln2"], eps=LN_EPS)
            x = x + F.linear(torch.relu(F.linear(h, *b["fc"])), *b["out"])
        return F.linear(F.layer_norm(x, (d,), *self.lnf, eps=LN_EPS), self.head_w, self.head_b)


class Lstm(torch.nn.Module):
    """Stacked LSTM + linear head at every position, as main/engine/models/lstm.ts, on torch.nn.LSTM."""

    def __init__(self, spec, shape, w):
        super().__init__()
        m = spec["model"]
        H, L = m["hidden"], m["layers"]
        self.lstm = torch.nn.LSTM(shape["inputDim"], H, num_layers=L, batch_first=True)
        with torch.no_grad():
            for i in range(L):
                # [fanIn + H, 4H]: rows for the input, then h; gate columns i, f, g, o (torch's order)
                W = w[f"layer{i}.w"]
                fan_in = W.shape[0] - H
                getattr(self.lstm, f"weight_ih_l{i}").copy_(W[:fan_in].t())
                getattr(self.lstm, f"weight_hh_l{i}").copy_(W[fan_in:].t())
                getattr(self.lstm, f"bias_ih_l{i}").copy_(w[f"layer{i}.b"])
                # Ours has one bias; torch's second bias stays 0 and is not trained (see trained_parameters).
                getattr(self.lstm, f"bias_hh_l{i}").zero_()
                getattr(self.lstm, f"bias_hh_l{i}").requires_grad_(False)
        self.head_w = torch.nn.Parameter(w["head.w"].t().contiguous())
        self.head_b = torch.nn.Parameter(w["head.b"])

    def forward(self, x):
        y, _ = self.lstm(x)
        return F.linear(y, self.head_w, self.head_b)


class Vsml(torch.nn.Module):
    """VSML as main/engine/models/vsml.ts: every weight of a dense network is a tiny LSTM sharing one set of
    parameters. Here cells are the leading axes ([N, A, B, S]) and the four gates are one matMul, as one would
    write it in PyTorch."""

    def __init__(self, spec, shape, w, constants):
        super().__init__()
        m = spec["model"]
        self.S, self.M, self.ticks = m["stateSize"], m["messageSize"], m["ticks"]
        self.outputs = shape["outputDim"]
        self.feedback = shape["feedback"]
        self.inputs0 = shape["inputDim"] - self.feedback
        self.classification = shape["outputDim"] > 1
        self.widths = [self.inputs0, *m["hidden"], self.outputs]
        S, M = self.S, self.M
        P = torch.nn.Parameter
        self.lstm_w = P(w["lstm.w"])  # [4S gates (i, f, g, o), M forward + M backward + S recurrent]
        self.lstm_b = P(w["lstm.b"])
        self.fwd_w, self.fwd_b = P(w["fwd.w"]), P(w["fwd.b"])  # [M, S], [M]
        if "bwd.w" in w:
            self.bwd_w, self.bwd_b = P(w["bwd.w"]), P(w["bwd.b"])
        for l in range(len(self.widths) - 1):
            A, B = self.widths[l], self.widths[l + 1]
            cell = constants[f"layer{l}.initialCell"].reshape(S, A, B).permute(1, 2, 0).contiguous()  # [A, B, S]
            self.register_buffer(f"c0_{l}", cell)

    def forward(self, x):
        N, T, _ = x.shape
        S, M = self.S, self.M
        Wf, Wb, U = self.lstm_w[:, :M], self.lstm_w[:, M : 2 * M], self.lstm_w[:, 2 * M :]
        layers = len(self.widths) - 1
        last = layers - 1
        h = [x.new_zeros(N, self.widths[l], self.widths[l + 1], S) for l in range(layers)]
        c = [getattr(self, f"c0_{l}").expand(N, -1, -1, -1) for l in range(layers)]
        sent = [None] + [x.new_zeros(N, self.widths[l], M) for l in range(1, layers)]
        prediction = None
        predictions = []
        for i in range(T):
            token = x[:, i]
            target = token[:, self.inputs0 :] if self.feedback > 0 else None
            forward = F.pad(token[:, : self.inputs0].unsqueeze(2), (0, M - 1))  # [N, A, M], channel 0 = x_a
            new_sent = [None] * layers
            output = None
            for l in range(layers):
                B = self.widths[l + 1]
                if l < last:
                    backward = sent[l + 1]
                elif prediction is None or target is None:
                    backward = x.new_zeros(N, B, M)
                else:
                    error = (torch.softmax(prediction, -1) if self.classification else prediction) - target
                    backward = F.pad(torch.stack([error, target], 2), (0, M - 2))  # [N, B, M]
                # z: [N, A, B, 4S]
                z = F.linear(forward, Wf).unsqueeze(2) + F.linear(backward, Wb, self.lstm_b).unsqueeze(1)
                hl, cl = h[l], c[l]
                for _ in range(self.ticks):
                    gi, gf, gg, go = (F.linear(hl, U) + z).chunk(4, dim=3)
                    cl = torch.sigmoid(gf) * cl + torch.sigmoid(gi) * torch.tanh(gg / 2)
                    hl = torch.sigmoid(go) * torch.tanh(cl)
                h[l], c[l] = hl, cl
                forward = F.linear(hl.mean(1), self.fwd_w, self.fwd_b)  # [N, B, M]
                if l > 0:
                    new_sent[l] = F.linear(hl.mean(2), self.bwd_w, self.bwd_b)  # [N, A, M]
                if l == last:
                    output = forward[:, :, 1]
            sent = new_sent
            prediction = output
            predictions.append(output)
        return torch.stack(predictions, 1)


# ----------------------------------------------------------------------------------------------- training


class Run:
    def __init__(self, directory):
        self.meta, take = protocol.read_export(directory)
        self.initial = {e["name"]: take(e) for e in self.meta["params"]}
        self.constants = {e["name"]: take(e) for e in self.meta.get("constants", [])}
        self.batches = [(take(b["inputs"]), take(b["targets"])) for b in self.meta["batches"]]
        self.lrs = self.meta["learningRates"]
        self.step_index = 0
        self.build()

    def build(self):
        spec, shape = self.meta["spec"], self.meta["shape"]
        kind = spec["model"]["kind"]
        w = {k: v.clone() for k, v in self.initial.items()}
        if kind == "transformer":
            self.model = Transformer(spec, shape, w)
        elif kind == "lstm":
            self.model = Lstm(spec, shape, w)
        elif kind == "vsml":
            self.model = Vsml(spec, shape, w, self.constants)
        else:
            raise ValueError(f"no peer for model {kind}")
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        t = spec["training"]
        self.clip = t["gradClip"]
        # Our Adam: m, v with betas (0.9, 0.999); update lr * m_hat / (sqrt(v_hat) + eps), which is torch's formula.
        self.opt = torch.optim.Adam(
            self.params, lr=t["learningRate"], betas=(0.9, 0.999), eps=t["adamEpsilon"], foreach=True
        )
        self.objective = self.meta["objective"]
        self.step_index = 0

    def step(self, k):
        inputs, targets = self.batches[k % len(self.batches)]
        out = self.model(inputs)
        if self.objective == "regression":
            loss = torch.mean((out.reshape(targets.shape) - targets) ** 2)
        else:
            loss = F.cross_entropy(out.reshape(-1, out.shape[-1]), targets.reshape(-1).long())
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        # Global-norm clipping exactly as ours: scale by clip / norm only when norm > clip.
        grads = [p.grad for p in self.params]
        norm = torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(g) for g in grads])).item()
        if self.clip is not None and norm > self.clip:
            torch._foreach_mul_(grads, self.clip / norm)
        for group in self.opt.param_groups:
            group["lr"] = self.lrs[self.step_index % len(self.lrs)]
        self.opt.step()
        self.step_index += 1
        return loss.item(), norm


def peak(n, reps):
    """fp32 matmul peak: the fastest of `reps` n x n products (noise from other processes does not lower it)."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def main():
    run = None

    def handle(req):
        nonlocal run
        cmd = req["cmd"]
        if cmd == "info":
            config_words = torch.__config__.show().replace(",", " ").split()
            return {
                **protocol.info(),
                "blas": blas_library(),
                "blasThreads": blas_threads(),
                "blasInfo": next((p.split("=")[1] for p in config_words if p.startswith("BLAS_INFO=")), None),
            }
        if cmd == "peak":
            return {"gflops": peak(req.get("n", 1024), req.get("reps", 10))}
        if cmd == "load":
            run = Run(req["dir"])
            return {"params": sum(p.numel() for p in run.params)}
        if cmd == "losses":
            run.build()
            losses, norms = [], []
            for k in range(req["steps"]):
                loss, norm = run.step(k)
                losses.append(loss)
                norms.append(norm)
            return {"losses": losses, "gradNorms": norms}
        if cmd == "time":
            return protocol.timed(lambda: run.step(run.step_index), req["steps"])
        return protocol.unknown(req)

    protocol.serve(handle)


if __name__ == "__main__":
    main()

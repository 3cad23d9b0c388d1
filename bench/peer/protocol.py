"""What the PyTorch peers (peer.py, rl.py) share: the loop that answers the harness (bench/torchPeer.ts), one JSON
request per line on stdin and one JSON reply per line on stdout, their common replies, and the export they read.
"""
import json
import math
import os
import platform
import sys
import time
import traceback

import torch


def serve(handle):
    """Replies to every request with handle(request) until {"cmd": "quit"}; an exception is replied as an error."""
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        if req["cmd"] == "quit":
            print(json.dumps({"ok": True}), flush=True)
            return
        try:
            reply = handle(req)
        except Exception as err:  # noqa: BLE001 - reported to the harness
            reply = {"error": f"{type(err).__name__}: {err}", "trace": traceback.format_exc()}
        print(json.dumps(reply), flush=True)


def unknown(req):
    return {"error": f"unknown command {req['cmd']}"}


def info():
    """Versions and threads (the harness prints them with its results)."""
    return {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "executable": sys.executable,
        "threads": torch.get_num_threads(),
    }


def timed(step, steps):
    """`steps` calls of step(), each timed: the reply to {"cmd": "time"}."""
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    return {"ms": times}


def read_export(directory):
    """meta.json, and take(entry): the tensor at an entry's offset and shape in data.bin (little-endian float32)."""
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    with open(os.path.join(directory, "data.bin"), "rb") as f:
        blob = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)

    def take(e):
        return blob[e["offset"] : e["offset"] + int(math.prod(e["shape"]))].reshape(e["shape"]).clone()

    return meta, take

#!/usr/bin/python3
"""The NumPy peer of metalab's environments (bench/envs.ts times it; test/unit/envs.test.ts checks against it).

Gymnasium's classic-control dynamics, metalab's continuous-force CartPole and point-mass reach task, and a Bernoulli
bandit, written the way one vectorises them in NumPy: arrays of N states stepped together, auto-reset where an
episode ended, terminated and truncated apart, the final observation kept. The equations and constants are
Gymnasium 1.x's (gymnasium/envs/classic_control), re-written here for arrays, and for point-mass those of
main/engine/envs/pointMass.ts; the state is float64 and observations float32, as there.

Usage (one JSON object on stdin, one on stdout):
  envs.py info                -> versions
  envs.py trajectory          {"env", "states": [[...] per instance], "actions": [[...] per step]}
                              (a step's actions: one per instance, or for point-mass [ax, ay] of each in turn)
                              -> {"obs", "rewards", "terminated"} per step, stepping without any reset
  envs.py bench               {"envs": [...], "batches": [1, 256], "seconds": s, "seed": k}
                              -> steps per second of each (env, batch) under random actions
Run with Debian's /usr/bin/python3 (python3-numpy).
"""
import json
import platform
import sys
import time

import numpy as np


class Env:
    """N instances of one environment: subclasses define reset_states, dynamics and observe."""

    obs_size = 0
    limit = 0
    action_size = 1

    def __init__(self, n, rng):
        self.n = n
        self.rng = rng
        self.t = np.zeros(n, dtype=np.int64)
        self.state = self.reset_states(n)

    def reset(self):
        self.state = self.reset_states(self.n)
        self.t[:] = 0
        return self.observe()

    def step(self, actions):
        reward, terminated = self.dynamics(actions)
        self.t += 1
        truncated = ~terminated & (self.t >= self.limit)
        done = terminated | truncated
        final_obs = np.zeros((self.n, self.obs_size), dtype=np.float32)
        if done.any():
            final_obs[done] = self.observe()[done]
            self.state[done] = self.reset_states(int(done.sum()))
            self.t[done] = 0
        return self.observe(), reward.astype(np.float32), terminated, truncated, final_obs


class CartPole(Env):
    obs_size, limit, actions = 4, 500, 2
    gravity, masscart, masspole, length, force_mag, tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
    theta_threshold = 12 * 2 * np.pi / 360

    def reset_states(self, k):
        return self.rng.uniform(-0.05, 0.05, size=(k, 4))

    def dynamics(self, action):
        x, x_dot, theta, theta_dot = self.state.T
        total_mass = self.masspole + self.masscart
        polemass_length = self.masspole * self.length
        force = self.force_mag * self.push(action)
        cos, sin = np.cos(theta), np.sin(theta)
        temp = (force + polemass_length * np.square(theta_dot) * sin) / total_mass
        theta_acc = (self.gravity * sin - cos * temp) / (
            self.length * (4.0 / 3.0 - self.masspole * np.square(cos) / total_mass)
        )
        x_acc = temp - polemass_length * theta_acc * cos / total_mass
        x = x + self.tau * x_dot
        theta = theta + self.tau * theta_dot
        self.state = np.stack([x, x_dot + self.tau * x_acc, theta, theta_dot + self.tau * theta_acc], axis=1)
        terminated = (np.abs(x) > 2.4) | (np.abs(theta) > self.theta_threshold)
        return np.ones(self.n), terminated

    def push(self, action):
        return np.where(action == 1, 1.0, -1.0)

    def observe(self):
        return self.state.astype(np.float32)


class CartPoleContinuous(CartPole):
    """CartPole-v1 pushed by force_mag * clip(a, -1, 1)."""

    actions = None

    def push(self, action):
        return np.clip(action, -1.0, 1.0)


class Acrobot(Env):
    obs_size, limit, actions = 6, 500, 3
    dt = 0.2
    l1, m1, m2, lc1, lc2, moi, g = 1.0, 1.0, 1.0, 0.5, 0.5, 1.0, 9.8
    max_vel_1, max_vel_2 = 4 * np.pi, 9 * np.pi
    torques = np.array([-1.0, 0.0, 1.0])

    def reset_states(self, k):
        return self.rng.uniform(-0.1, 0.1, size=(k, 4)).astype(np.float32).astype(np.float64)

    def derivs(self, s, a):
        l1, m1, m2, lc1, lc2, moi, g = self.l1, self.m1, self.m2, self.lc1, self.lc2, self.moi, self.g
        theta1, theta2, dtheta1, dtheta2 = s.T
        d1 = m1 * lc1**2 + m2 * (l1**2 + lc2**2 + 2 * l1 * lc2 * np.cos(theta2)) + moi + moi
        d2 = m2 * (lc2**2 + l1 * lc2 * np.cos(theta2)) + moi
        phi2 = m2 * lc2 * g * np.cos(theta1 + theta2 - np.pi / 2.0)
        phi1 = (
            -m2 * l1 * lc2 * dtheta2**2 * np.sin(theta2)
            - 2 * m2 * l1 * lc2 * dtheta2 * dtheta1 * np.sin(theta2)
            + (m1 * lc1 + m2 * l1) * g * np.cos(theta1 - np.pi / 2)
            + phi2
        )
        ddtheta2 = (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * np.sin(theta2) - phi2) / (
            m2 * lc2**2 + moi - d2**2 / d1
        )
        ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
        return np.stack([dtheta1, dtheta2, ddtheta1, ddtheta2], axis=1)

    def dynamics(self, action):
        a = self.torques[action.astype(np.int64)]
        s, dt = self.state, self.dt
        k1 = self.derivs(s, a)
        k2 = self.derivs(s + dt / 2.0 * k1, a)
        k3 = self.derivs(s + dt / 2.0 * k2, a)
        k4 = self.derivs(s + dt * k3, a)
        ns = s + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
        for j in (0, 1):  # Gymnasium's wrap(): whole turns subtracted or added until within [-pi, pi]
            while (ns[:, j] > np.pi).any():
                ns[:, j] = np.where(ns[:, j] > np.pi, ns[:, j] - 2 * np.pi, ns[:, j])
            while (ns[:, j] < -np.pi).any():
                ns[:, j] = np.where(ns[:, j] < -np.pi, ns[:, j] + 2 * np.pi, ns[:, j])
        ns[:, 2] = np.clip(ns[:, 2], -self.max_vel_1, self.max_vel_1)
        ns[:, 3] = np.clip(ns[:, 3], -self.max_vel_2, self.max_vel_2)
        self.state = ns
        terminated = -np.cos(ns[:, 0]) - np.cos(ns[:, 1] + ns[:, 0]) > 1.0
        return np.where(terminated, 0.0, -1.0), terminated

    def observe(self):
        s = self.state
        return np.stack(
            [np.cos(s[:, 0]), np.sin(s[:, 0]), np.cos(s[:, 1]), np.sin(s[:, 1]), s[:, 2], s[:, 3]], axis=1
        ).astype(np.float32)


class MountainCar(Env):
    obs_size, limit, actions = 2, 200, 3
    force, gravity, goal = 0.001, 0.0025, 0.5

    def reset_states(self, k):
        return np.stack([self.rng.uniform(-0.6, -0.4, size=k), np.zeros(k)], axis=1)

    def push(self, action):
        return (action - 1) * self.force

    def move(self, action):
        position, velocity = self.state.T
        velocity = velocity + (self.push(action) + np.cos(3 * position) * (-self.gravity))
        velocity = np.clip(velocity, -0.07, 0.07)
        position = np.clip(position + velocity, -1.2, 0.6)
        velocity = np.where((position == -1.2) & (velocity < 0), 0.0, velocity)
        self.state = np.stack([position, velocity], axis=1)
        return (position >= self.goal) & (velocity >= 0)

    def dynamics(self, action):
        return -np.ones(self.n), self.move(action)

    def observe(self):
        return self.state.astype(np.float32)


class MountainCarContinuous(MountainCar):
    limit, actions = 999, None
    power, goal = 0.0015, 0.45

    def push(self, action):
        return np.clip(action, -1.0, 1.0) * self.power

    def dynamics(self, action):
        terminated = self.move(action)
        # Gymnasium keeps this car's state in float32 between steps.
        self.state = self.state.astype(np.float32).astype(np.float64)
        return np.where(terminated, 100.0, 0.0) - np.clip(action, -1.0, 1.0) ** 2 * 0.1, terminated


class Pendulum(Env):
    obs_size, limit, actions = 3, 200, None
    g, m, l, dt, max_speed, max_torque = 10.0, 1.0, 1.0, 0.05, 8, 2.0

    def reset_states(self, k):
        return self.rng.uniform([-np.pi, -1.0], [np.pi, 1.0], size=(k, 2))

    def dynamics(self, action):
        th, thdot = self.state.T
        u = np.clip(action, -self.max_torque, self.max_torque)
        costs = (((th + np.pi) % (2 * np.pi)) - np.pi) ** 2 + 0.1 * thdot**2 + 0.001 * u**2
        g, m, l, dt = self.g, self.m, self.l, self.dt
        newthdot = thdot + (3 * g / (2 * l) * np.sin(th) + 3.0 / (m * l**2) * u) * dt
        newthdot = np.clip(newthdot, -self.max_speed, self.max_speed)
        self.state = np.stack([th + newthdot * dt, newthdot], axis=1)
        return -costs, np.zeros(self.n, dtype=bool)

    def observe(self):
        th, thdot = self.state.T
        return np.stack([np.cos(th), np.sin(th), thdot], axis=1).astype(np.float32)


class PointMass(Env):
    """A mass in the unit square pushed toward a goal: v' = v + dt (a - c v) / m, p' = clip(p + dt v', 0, 1) with v'
    zeroed where a wall stops it; reward -||p' - g|| - 0.01 ||a||^2; state [px, py, vx, vy, gx, gy]."""

    obs_size, limit, actions, action_size = 6, 100, None, 2
    mass, damping, dt, effort_cost = 1.0, 0.5, 0.1, 0.01

    def reset_states(self, k):
        p = self.rng.uniform(0.1, 0.9, size=(k, 2))
        g = self.rng.uniform(0.1, 0.9, size=(k, 2))
        return np.concatenate([p, np.zeros((k, 2)), g], axis=1)

    def dynamics(self, action):
        a = np.clip(action, -1.0, 1.0)
        p, v, g = self.state[:, 0:2], self.state[:, 2:4], self.state[:, 4:6]
        v = v + self.dt * (a - self.damping * v) / self.mass
        p = p + self.dt * v
        wall = (p < 0.0) | (p > 1.0)
        p = np.clip(p, 0.0, 1.0)
        v = np.where(wall, 0.0, v)
        self.state = np.concatenate([p, v, g], axis=1)
        reward = -np.sqrt(np.sum((p - g) ** 2, axis=1)) - self.effort_cost * np.sum(a**2, axis=1)
        return reward, np.zeros(self.n, dtype=bool)

    def observe(self):
        s = self.state
        return np.concatenate([s[:, 0:4], s[:, 4:6] - s[:, 0:2]], axis=1).astype(np.float32)


class BernoulliBandit(Env):
    """K arms paying 1 with probabilities p ~ U(0, 1) per instance; one pull is one episode."""

    obs_size, limit, actions = 1, 1, 5

    def __init__(self, n, rng):
        super().__init__(n, rng)
        self.p = rng.uniform(0.0, 1.0, size=(n, self.actions))
        self.rows = np.arange(n)

    def reset_states(self, k):
        return np.zeros((k, 0))

    def dynamics(self, action):
        paid = self.rng.random(self.n) < self.p[self.rows, action.astype(np.int64)]
        return paid.astype(np.float64), np.ones(self.n, dtype=bool)

    def observe(self):
        return np.zeros((self.n, 1), dtype=np.float32)


ENVS = {
    "CartPole-v1": CartPole,
    "Acrobot-v1": Acrobot,
    "MountainCar-v0": MountainCar,
    "MountainCarContinuous-v0": MountainCarContinuous,
    "Pendulum-v1": Pendulum,
    "CartPoleContinuous": CartPoleContinuous,
    "point-mass": PointMass,
    "bernoulli-bandit": BernoulliBandit,
}

BOX_BOUNDS = {"MountainCarContinuous-v0": 1.0, "Pendulum-v1": 2.0, "CartPoleContinuous": 1.0, "point-mass": 1.0}


def trajectory(req):
    """Steps the given initial states through the given actions, without resetting (compare until an end)."""
    states = np.array(req["states"], dtype=np.float64)
    env = ENVS[req["env"]](len(states), np.random.default_rng(0))
    env.state = states
    out = {"obs": [], "rewards": [], "terminated": []}
    for row in req["actions"]:
        reward, terminated = env.dynamics(as_actions(req["env"], row))
        out["obs"].append(env.observe().astype(np.float64).tolist())
        out["rewards"].append(reward.astype(np.float32).astype(np.float64).tolist())
        out["terminated"].append(terminated.astype(int).tolist())
    return out


def as_actions(name, values):
    """Discrete indices as integers; continuous actions as the float32 a policy emits, computed on in float64
    (as Gymnasium's scalar arithmetic does under NumPy 1.x)."""
    if name in BOX_BOUNDS:
        actions = np.asarray(values, dtype=np.float32).astype(np.float64)
        size = ENVS[name].action_size
        return actions if size == 1 else actions.reshape(actions.shape[:-1] + (-1, size))
    return np.asarray(values).astype(np.int64)


def random_actions(name, rng, rows, n):
    if name in BOX_BOUNDS:
        b = BOX_BOUNDS[name]
        return as_actions(name, rng.uniform(-b, b, size=(rows, n * ENVS[name].action_size)))
    return rng.integers(0, ENVS[name].actions, size=(rows, n))


def bench(req):
    results = []
    for name in req["envs"]:
        for n in req["batches"]:
            rng = np.random.default_rng(req["seed"])
            env = ENVS[name](n, rng)
            env.reset()
            pool = random_actions(name, rng, 1024, n)
            for t in range(200):
                env.step(pool[t % 1024])
            steps, t0 = 0, time.perf_counter()
            while True:
                for _ in range(100):
                    env.step(pool[steps % 1024])
                    steps += 1
                elapsed = time.perf_counter() - t0
                if elapsed >= req["seconds"]:
                    break
            results.append({"env": name, "batch": n, "stepsPerSec": steps * n / elapsed, "steps": steps})
    return {"results": results}


def main():
    cmd = sys.argv[1] if len(sys.argv) > 1 else "info"
    if cmd == "info":
        reply = {"numpy": np.__version__, "python": platform.python_version(), "executable": sys.executable}
    else:
        reply = {"trajectory": trajectory, "bench": bench}[cmd](json.load(sys.stdin))
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    main()

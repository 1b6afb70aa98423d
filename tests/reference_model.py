"""A plain scalar implementation of the model, the test oracle (MODEL.md §8, invariant 8).

:func:`reference_evaluate` computes every metric of MODEL.md §9 for ONE sample of a
:class:`~simulator.model.inputs.ModelInputs`, with nothing but ``math`` and loops,
written straight from the equations of MODEL.md §2-§5 so that it can be read against
the page line by line. It is deliberately independent of the vectorized model in
``simulator.model``: the property test ``tests/property/test_oracle.py`` checks that
the two agree.

Index conventions (MODEL.md §1, §4, §5):

- ``k = 0..T`` are the output years, ``k = 0`` the base year.
- Vintages ``v`` run from ``-(V - 1)`` (the first initial vintage) to ``T``; initial
  vintage ``v <= 0`` is column ``v + V - 1`` of ``fleet.initial_vintages``.
- The chip paths have ``V - 1 + T + 1`` columns starting at vintage ``-(V - 1)``, so
  the chip parameter of year ``v`` is column ``v + V - 1``.
"""

from __future__ import annotations

import math

from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model.inputs import ModelInputs

Y = SECONDS_PER_YEAR
"""Seconds per year ``Y`` (MODEL.md §1)."""


def reference_evaluate(inputs: ModelInputs, sample: int) -> dict[str, list[float]]:
    """Evaluate MODEL.md §2-§5 for one sample; return the §9 metrics over ``k = 0..T``."""
    i = sample
    T = len(inputs.years) - 1
    V = inputs.n_vintages
    segments = inputs.segments
    shocks = inputs.shocks
    fleet = inputs.fleet
    chips = inputs.chips

    # ---- §3 utilization paths u_kind(k) -------------------------------------------------
    def u(kind: str, k: int) -> float:
        if kind == "training":
            return float(inputs.utilization_training[i, k])
        return float(inputs.utilization_inference[i, k])

    # ---- §4 survival: S(a) = exp(-(a / lambda)^kappa), lambda = L / (ln 2)^(1/kappa) -----
    L = float(fleet.median_life[i])
    kappa = float(fleet.shape[i])
    lam = L / math.pow(math.log(2.0), 1.0 / kappa)

    def S(a: int) -> float:
        return math.exp(-math.pow(a / lam, kappa))

    # ---- §4 initial vintages and the base-year fleet K_0 = sum_{v<=0} Q_v S(-v) ----------
    # Q[v] for v = -(V-1)..T, stored in a dict keyed by the vintage index v.
    Q: dict[int, float] = {}
    for j in range(V):
        v = j - (V - 1)
        Q[v] = float(fleet.initial_vintages[i, j])
    K_0 = 0.0
    for v in range(-(V - 1), 1):
        K_0 += Q[v] * S(-v)

    # ---- §2 base-year compute: C_s(0) = share_s K_0 u_kind(s)(0) F_ref Y ----------------
    C0 = [seg.share * K_0 * u(seg.kind, 0) * F_REF * Y for seg in segments]

    # ---- §2 baseline: B_s(k) = C_s(0) prod_{j=1..k} g_s(j) -------------------------------
    B: list[list[float]] = []
    for s, seg in enumerate(segments):
        path = [C0[s]]
        for k in range(1, T + 1):
            path.append(path[k - 1] * float(seg.growth[i, k]))
        B.append(path)

    # ---- §2 efficiency multipliers X_m(k) of each shock ----------------------------------
    def X(m: int, k: int) -> float:
        shock = shocks[m]
        k_m = shock.onset
        if k < k_m:
            return 1.0  # before onset: f_m(k) = 0 (level) or X_m(k) = 1 (trend)
        if shock.type == "level":
            M = float(shock.magnitude[i])
            c = float(shock.ceiling[i])
            d = float(shock.delay[i])
            w = float(shock.width[i])
            # logistic adoption f_m(k) = c / (1 + exp(-(k - k_m - d) / w))
            f = c / (1.0 + math.exp(-(k - k_m - d) / w))
            # harmonic mix of adopters and non-adopters: X = 1 / ((1 - f) + f / M)
            return 1.0 / ((1.0 - f) + f / M)
        # trend: X_m(k) = r^(k - k_m)
        r = float(shock.magnitude[i])
        return math.pow(r, k - k_m)

    # ---- §2 Jevons response: eps_s(tau) = eps_long + (eps_short - eps_long) exp(-tau/a) -
    def eps(s: int, tau: int) -> float:
        seg = segments[s]
        e_short = float(seg.elasticity_short[i])
        e_long = float(seg.elasticity_long[i])
        a = float(seg.adjustment[i])
        return e_long + (e_short - e_long) * math.exp(-tau / a)

    # ---- §2 physical compute: C_s(k) = B_s(k) prod_{m ∋ s} X_m(k)^(pi_s eps_s(k-k_m) - 1)
    C: list[list[float]] = []
    for s, seg in enumerate(segments):
        pi = float(seg.pass_through[i])
        path = []
        for k in range(T + 1):
            value = B[s][k]
            for m, shock in enumerate(shocks):
                if s not in shock.segments:
                    continue
                if k < shock.onset:
                    continue  # X_m(k) = 1 before onset: the factor is 1
                value *= math.pow(X(m, k), pi * eps(s, k - shock.onset) - 1.0)
            path.append(value)
        C.append(path)

    # ---- §9 compute metrics: segments sum to kinds, kinds to the total -------------------
    compute_training = [0.0] * (T + 1)
    compute_inference = [0.0] * (T + 1)
    for s, seg in enumerate(segments):
        for k in range(T + 1):
            if seg.kind == "training":
                compute_training[k] += C[s][k]
            else:
                compute_inference[k] += C[s][k]
    compute_total = [compute_training[k] + compute_inference[k] for k in range(T + 1)]
    inference_share = [compute_inference[k] / compute_total[k] for k in range(T + 1)]

    # ---- §3 required capacity: K_kind(k) = sum_{s in kind} C_s(k) / (u_kind(k) F_ref Y) --
    K = []
    for k in range(T + 1):
        K_training = compute_training[k] / (u("training", k) * F_REF * Y)
        K_inference = compute_inference[k] / (u("inference", k) * F_REF * Y)
        K.append(K_training + K_inference)

    # ---- §4 fleet stock-flow -----------------------------------------------------------
    # Base year observed: I(0) = K_0, Q_0 = base-year vintage, idle(0) = unmet(0) = 0.
    installed = [K_0]
    idle = [0.0]
    unmet = [0.0]
    for k in range(1, T + 1):
        # O(k) = sum_{v<k} Q_v S(k - v)
        O = 0.0
        for v in range(-(V - 1), k):
            O += Q[v] * S(k - v)
        D = max(K[k] - O, 0.0)
        Q_max = math.inf if fleet.supply_cap is None else float(fleet.supply_cap[i, k])
        Q[k] = min(D, Q_max)
        installed.append(O + Q[k])
        idle.append(max(O - K[k], 0.0))
        unmet.append(D - Q[k])
    shipments = [Q[k] for k in range(T + 1)]

    # ---- §5 chips, HBM, money and power ------------------------------------------------
    def chip(path_name: str, v: int) -> float:
        return float(getattr(chips, path_name)[i, v + V - 1])

    # units(v) = Q_v / p(v), for every vintage v = -(V-1)..T
    units: dict[int, float] = {}
    for v in range(-(V - 1), T + 1):
        units[v] = Q[v] / chip("h100e_per_unit", v)

    shipments_units = []
    hbm_gb = []
    accelerator_revenue = []
    hbm_revenue = []
    datacenter_capex = []
    installed_units = []
    power_w = []
    energy_j = []
    for k in range(T + 1):
        hbm = units[k] * chip("hbm_per_unit", k)  # hbm(k) = units(k) h(k)
        accel = units[k] * chip("price", k)  # accel_revenue(k) = units(k) price(k)
        shipments_units.append(units[k])
        hbm_gb.append(hbm)
        accelerator_revenue.append(accel)
        hbm_revenue.append(hbm * chip("hbm_price", k))  # hbm_revenue(k) = hbm(k) q(k)
        datacenter_capex.append(accel / chip("capex_share", k))  # dc_capex = accel / sigma
        # installed_units(k) = sum_{v<=k} units(v) S(k - v)
        n_units = 0.0
        # power(k) = sum_{v<=k} units(v) S(k - v) w(v) load(k) PUE(k)
        power = 0.0
        for v in range(-(V - 1), k + 1):
            n_units += units[v] * S(k - v)
            power += (
                units[v] * S(k - v) * chip("system_power", v) * chip("load", k) * chip("pue", k)
            )
        installed_units.append(n_units)
        power_w.append(power)
        energy_j.append(power * Y)  # energy(k) = power(k) Y

    # ---- §9 output names ---------------------------------------------------------------
    out: dict[str, list[float]] = {
        "compute_training": compute_training,
        "compute_inference": compute_inference,
        "compute_total": compute_total,
    }
    for s, seg in enumerate(segments):
        out[f"compute.{seg.name}"] = C[s]
    out.update(
        {
            "inference_share": inference_share,
            "capacity_required": K,
            "installed_h100e": installed,
            "idle_h100e": idle,
            "unmet_h100e": unmet,
            "shipments_h100e": shipments,
            "shipments_units": shipments_units,
            "installed_units": installed_units,
            "hbm_gb": hbm_gb,
            "accelerator_revenue": accelerator_revenue,
            "hbm_revenue": hbm_revenue,
            "datacenter_capex": datacenter_capex,
            "power_w": power_w,
            "energy_j": energy_j,
        }
    )
    return out

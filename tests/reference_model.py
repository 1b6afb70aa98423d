"""A plain scalar implementation of the model, the test oracle (MODEL.md §8, invariant 8).

:func:`reference_evaluate` computes every metric of MODEL.md §9 for ONE sample of a
:class:`~simulator.model.inputs.ModelInputs`, with nothing but ``math`` and loops,
written straight from the equations of MODEL.md (version 2) §2-§5 so that it can be
read against the page line by line: the per-increment elasticity clock (§2), the order
lead ``phi`` and the power cap (§4), and ``idle``/``unmet`` comparing the installed
fleet with demand (§4). It is deliberately independent of the vectorized model in
``simulator.model``: the property test ``tests/property/test_oracle.py`` checks that
the two agree.

Index conventions (MODEL.md §1, §4, §5):

- ``k = 0..T`` are the output years, ``k = 0`` the base year.
- Vintages ``v`` run from ``-(V - 1)`` (the first initial vintage) to ``T``; initial
  vintage ``v <= 0`` is column ``v + V - 1`` of ``fleet.initial_vintages``.
- The chip paths have ``V - 1 + T + 1`` columns starting at vintage ``-(V - 1)``, so
  the chip parameter of year ``v`` is column ``v + V - 1``.

Version-2 fleet inputs (the contract with ``simulator.model.inputs.FleetInputs``):
``order_lead`` (shape ``(n,)``, ``phi`` in [0, 1]; None means 0) and ``power_cap``
(shape ``(n, T + 1)`` [W], column 0 ignored; None means no cap);
:func:`with_fleet_v2` sets them on a copy of any ``FleetInputs``.

The counterfactual is evaluated by passing the same inputs with ``shocks=()``: then
``K = K^B`` and the order forecast is ``K^B`` exactly (MODEL.md §4).
"""

from __future__ import annotations

import dataclasses
import math

from simulator._typing import Array
from simulator.constants import F_REF, SECONDS_PER_YEAR
from simulator.model.inputs import FleetInputs, ModelInputs

Y = SECONDS_PER_YEAR
"""Seconds per year ``Y`` (MODEL.md §1)."""


def with_fleet_v2(
    fleet: FleetInputs, *, order_lead: Array | None, power_cap: Array | None
) -> FleetInputs:
    """``fleet`` with the version-2 fields ``order_lead`` and ``power_cap`` set.

    Parameters
    ----------
    fleet : FleetInputs
        Any fleet inputs.
    order_lead : array, shape (n,), or None
        Order lead ``phi`` in [0, 1]; None means 0. [-]
    power_cap : array, shape (n, T + 1), or None
        Cap ``P_max(k)`` on the installed fleet's average power draw; column 0 is
        ignored; None means no cap. [W]

    Returns
    -------
    FleetInputs
        A copy of ``fleet`` with both fields set.
    """
    return dataclasses.replace(fleet, order_lead=order_lead, power_cap=power_cap)


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

    # ---- §2 log efficiency gain l_s(k) = sum_{m ∋ s} ln X_m(k) (0 in the base year) ------
    def ell(s: int, k: int) -> float:
        total = 0.0
        for m, shock in enumerate(shocks):
            if s in shock.segments and k >= shock.onset:
                total += math.log(X(m, k))
        return total

    # ---- §2 physical compute, the per-increment elasticity clock:
    #   ln C_s(k) = ln B_s(k) - l_s(k) + pi_s sum_{j=1..k} dl_s(j) eps_s(k - j),
    #   dl_s(j) = l_s(j) - l_s(j-1). Written as C = B exp(...), so that B = 0 gives 0.
    C: list[list[float]] = []
    for s, seg in enumerate(segments):
        pi = float(seg.pass_through[i])
        ls = [ell(s, k) for k in range(T + 1)]
        path = []
        for k in range(T + 1):
            response = 0.0
            for j in range(1, k + 1):
                response += (ls[j] - ls[j - 1]) * eps(s, k - j)
            path.append(B[s][k] * math.exp(-ls[k] + pi * response))
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
    def capacity(paths: list[list[float]], k: int) -> float:
        training = 0.0
        inference = 0.0
        for s, seg in enumerate(segments):
            if seg.kind == "training":
                training += paths[s][k]
            else:
                inference += paths[s][k]
        return training / (u("training", k) * F_REF * Y) + inference / (
            u("inference", k) * F_REF * Y
        )

    K = [capacity(C, k) for k in range(T + 1)]
    # K^B(k): the counterfactual's required capacity, from the baseline B (§4 order lead)
    KB = [capacity(B, k) for k in range(T + 1)]

    # ---- §5 chip paths, per year of shipment v (needed by the power cap of §4) ---------
    def chip(path_name: str, v: int) -> float:
        return float(getattr(chips, path_name)[i, v + V - 1])

    # units(v) = Q_v / p(v): the initial vintages' now, the new ones as they ship
    units: dict[int, float] = {}
    for v in range(-(V - 1), 1):
        units[v] = Q[v] / chip("h100e_per_unit", v)

    # ---- §4 version-2 fleet parameters: order lead phi (None: 0), power cap (None: none)
    order_lead = fleet.order_lead
    power_cap = fleet.power_cap
    phi = 0.0 if order_lead is None else float(order_lead[i])
    counterfactual = len(shocks) == 0

    # ---- §4 fleet stock-flow -----------------------------------------------------------
    # Base year observed: I(0) = K_0, Q_0 = base-year vintage, idle(0) = unmet(0) = 0.
    installed = [K_0]
    idle = [0.0]
    unmet = [0.0]
    for k in range(1, T + 1):
        # K^(k) = (1 - phi) K(k) + phi K(k-1) K^B(k) / K^B(k-1)  (K^B(k-1) = 0: K^B(k));
        # in the counterfactual K^ = K^B exactly.
        if counterfactual:
            K_hat = KB[k]
        else:
            forecast = KB[k] if KB[k - 1] == 0.0 else K[k - 1] * KB[k] / KB[k - 1]
            K_hat = (1.0 - phi) * K[k] + phi * forecast
        # O(k) = sum_{v<k} Q_v S(k - v)
        O = 0.0
        for v in range(-(V - 1), k):
            O += Q[v] * S(k - v)
        # D(k) = max(K^(k) - O(k), 0)
        D = max(K_hat - O, 0.0)
        Q_max = math.inf if fleet.supply_cap is None else float(fleet.supply_cap[i, k])
        # P_O(k) = sum_{v<k} units(v) S(k - v) w(v) load(k) PUE(k)
        # Q_pow(k) = max(P_max(k) - P_O(k), 0) p(k) / (w(k) load(k) PUE(k));
        # infinite with no power cap or where w(k) load(k) PUE(k) = 0
        per_unit = chip("system_power", k) * chip("load", k) * chip("pue", k)
        if power_cap is None or per_unit == 0.0:
            Q_pow = math.inf
        else:
            P_O = 0.0
            for v in range(-(V - 1), k):
                P_O += (
                    units[v]
                    * S(k - v)
                    * chip("system_power", v)
                    * chip("load", k)
                    * chip("pue", k)
                )
            P_max = float(power_cap[i, k])
            Q_pow = max(P_max - P_O, 0.0) * chip("h100e_per_unit", k) / per_unit
        # Q_k = min(D(k), Q_max(k), Q_pow(k))
        Q[k] = min(D, Q_max, Q_pow)
        units[k] = Q[k] / chip("h100e_per_unit", k)
        # I(k) = O(k) + Q_k
        installed.append(O + Q[k])
        # idle(k) = max(Q_k - (K(k) - O(k)), 0); unmet(k) = max((K(k) - O(k)) - Q_k, 0)
        idle.append(max(Q[k] - (K[k] - O), 0.0))
        unmet.append(max((K[k] - O) - Q[k], 0.0))
    shipments = [Q[k] for k in range(T + 1)]

    # ---- §5 chips, HBM, money and power ------------------------------------------------
    # units(v) = Q_v / p(v) for every vintage v = -(V-1)..T: set in the recursion above
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

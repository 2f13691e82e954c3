"""siting_solvers: exact and greedy solvers of the facility-siting models (docs/siting.md).

The instance is plain arrays (what :mod:`childsim.siting` builds from a problem file and a
simulated ensemble):

- demand points ``i`` with a weight ``w[i]`` (children with unmet demand, or wanting care
  for p-median) and the street ``street[i]`` they belong to;
- options ``j``: a candidate *site* ``site[j]`` with one capacity ``capacity[j]`` and a
  public cost ``cost[j]``; at most one option per site is chosen;
- walking distances ``distance[i, j]`` (metres) and a walking threshold ``radius``.

Three objectives (the formulation, with equations, is in docs/siting.md):

``covering``
    capacitated maximal covering: maximise the unmet demand served, each child by an
    option within the walking threshold, each option serving at most its capacity;
``p_median``
    minimise the total walking distance of the demand to its nearest open facility (the
    existing ones, distance ``existing[i]``, and the chosen ones; uncapacitated);
``equity``
    maximise the worst street's coverage ``(served_s + covered_s) / wanting_s`` (max-min),
    with a small reward for the total covered so that ties go to the larger total.

:func:`solve_exact` writes the mixed-integer programme and solves it with HiGHS through
``scipy.optimize.milp`` (Debian's ``python3-scipy``; why HiGHS and not GLPK is in
docs/siting.md), reporting the optimality gap. :func:`solve_greedy` adds options one at a time
by marginal gain (per yuan under a budget), re-evaluating stale gains lazily (valid because
covering and p-median are submodular; equity is evaluated in full each step). For covering
under a number of sites its value is at least (1 - 1/e) of the optimum.
"""

import heapq
import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Instance", "Plan", "OBJECTIVES", "InfeasibleError", "SolverTimeout", "covering_bound", "evaluate", "solve_exact", "solve_greedy",
           "top_plans", "brute_force"]

OBJECTIVES = ("covering", "p_median", "equity")
# Weight of the total covered (as a share of all unmet demand) beside the worst street's
# coverage in the equity objective: small enough never to trade any worst-street coverage.
_EQUITY_TIE = 1e-4
# Weight of the cost beside the objective, as a share of the objective's scale (see solve_exact).
_COST_TIE = 1e-7


class InfeasibleError(ValueError):
    """No plan satisfies the constraints (budget, sites, per-street limits, minimum coverage)."""


class SolverTimeout(RuntimeError):
    """The exact solver reached its time limit before finding any plan."""


@dataclass
class Instance:
    """A siting instance: demand points, options (site x capacity) and distances.

    Attributes
    ----------
    weight : ndarray (n,)
        Demand at each point (children).
    street : ndarray of int (n,)
        Street index of each point.
    site : ndarray of int (m,)
        Site index of each option (options of one site exclude each other).
    capacity, cost : ndarray (m,)
        Capacity (children served) and public cost (yuan) of each option.
    option_street : ndarray of int (m,)
        Street index of each option's site.
    distance : ndarray (n, m)
        Walking distance in metres.
    radius : float
        Walking threshold in metres (covering, equity).
    existing : ndarray (n,), optional
        Walking distance to the nearest existing facility (p-median); default: ``3 * radius``.
    unmet, wanting : ndarray (streets,), optional
        Per street: unmet demand and all demand (equity, minimum coverage); default: the
        weights summed by street.

    Examples
    --------
    >>> import numpy as np
    >>> from childsim.siting_solvers import Instance
    >>> inst = Instance(weight=[5, 3], street=[0, 1], site=[0, 1], capacity=[10, 10],
    ...                 cost=[1, 1], option_street=[0, 1], distance=[[0, 900], [900, 0]],
    ...                 radius=500)
    >>> inst.n_streets, inst.covers.tolist()
    (2, [[True, False], [False, True]])
    """

    weight: np.ndarray
    street: np.ndarray
    site: np.ndarray
    capacity: np.ndarray
    cost: np.ndarray
    option_street: np.ndarray
    distance: np.ndarray
    radius: float
    existing: np.ndarray = None
    unmet: np.ndarray = None
    wanting: np.ndarray = None

    def __post_init__(self):
        self.weight = np.asarray(self.weight, dtype=float)
        self.street = np.asarray(self.street, dtype=int)
        self.site = np.asarray(self.site, dtype=int)
        self.capacity = np.asarray(self.capacity, dtype=float)
        self.cost = np.asarray(self.cost, dtype=float)
        self.option_street = np.asarray(self.option_street, dtype=int)
        self.distance = np.asarray(self.distance, dtype=float).reshape(len(self.weight),
                                                                     len(self.site))
        n_streets = int(max(self.street.max(initial=-1), self.option_street.max(initial=-1)) + 1)
        if self.unmet is None:
            self.unmet = np.bincount(self.street, self.weight, minlength=n_streets)
        if self.wanting is None:
            self.wanting = np.array(self.unmet, dtype=float)
        self.unmet = np.asarray(self.unmet, dtype=float)
        self.wanting = np.asarray(self.wanting, dtype=float)
        if self.existing is None:
            self.existing = np.full(len(self.weight), 3.0 * self.radius)
        self.existing = np.asarray(self.existing, dtype=float)

    @property
    def n_streets(self):
        return len(self.unmet)

    @property
    def covers(self):
        """Boolean (n, m): option j is within the walking threshold of point i."""
        return self.distance <= self.radius


@dataclass
class Plan:
    """A solution: the chosen options, the objective value and how it was found.

    ``gap`` is the relative optimality gap proven by the solver (0 for a proven optimum);
    for the greedy it is NaN, except for covering under a number of sites, where it is the
    gap to :func:`covering_bound`. ``bound`` is the bound on the optimum it was measured to.
    """

    options: tuple
    value: float
    method: str
    gap: float = float("nan")
    bound: float = float("nan")
    status: str = ""
    extra: dict = field(default_factory=dict)


def _pairs(inst):
    i, j = np.nonzero(inst.covers)
    return i, j


def _served_lp(inst, chosen, equity=False):
    """Demand served by a set of options: the max flow of demand to capacities (an LP).

    With ``equity``, the flow maximises the worst street's coverage first (then the total).
    Returns the total served and the served demand by street.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix, csr_matrix, hstack, vstack

    chosen = np.asarray(sorted(chosen), dtype=int)
    zero = (0.0, np.zeros(inst.n_streets))
    if chosen.size == 0:
        return zero
    sub = inst.distance[:, chosen] <= inst.radius
    i, k = np.nonzero(sub)
    if i.size == 0:
        return zero
    n, p = len(inst.weight), i.size
    a = vstack([coo_matrix((np.ones(p), (i, np.arange(p))), shape=(n, p)),
                coo_matrix((np.ones(p), (k, np.arange(p))), shape=(chosen.size, p))]).tocsr()
    b = np.concatenate([inst.weight, inst.capacity[chosen]])
    c = -np.ones(p)
    bounds = [(0, None)] * p
    if equity:
        streets = np.nonzero(inst.wanting > 0)[0]
        rows = coo_matrix((-np.ones(p), (inst.street[i], np.arange(p))),
                          shape=(inst.n_streets, p)).tocsr()[streets]
        a = vstack([hstack([a, csr_matrix((a.shape[0], 1))]),
                    hstack([rows, csr_matrix(inst.wanting[streets][:, None])])]).tocsr()
        b = np.concatenate([b, inst.wanting[streets] - inst.unmet[streets]])
        c = np.concatenate([-_EQUITY_TIE / max(float(inst.unmet.sum()), 1e-12) * np.ones(p),
                            [-1.0]])
        bounds = bounds + [(0, 1)]
    res = linprog(c, A_ub=a, b_ub=b, bounds=bounds, method="highs")
    if res.status != 0:
        raise RuntimeError(f"the covering LP failed: {res.message}")
    y = res.x[:p]
    per_street = np.bincount(inst.street[i], y, minlength=inst.n_streets)
    return float(y.sum()), per_street


def evaluate(inst, objective, chosen):
    """The objective value of a set of options (exactly, whatever solver chose them).

    Parameters
    ----------
    inst : Instance
    objective : {"covering", "p_median", "equity"}
    chosen : iterable of int
        Option indices.

    Returns
    -------
    float
        Covering: children served; p-median: total walking distance (children x metres);
        equity: the worst street's coverage (0-1).

    Examples
    --------
    >>> from childsim.siting_solvers import Instance, evaluate
    >>> inst = Instance(weight=[5, 3], street=[0, 1], site=[0, 1], capacity=[4, 10],
    ...                 cost=[1, 1], option_street=[0, 1], distance=[[0, 900], [900, 0]],
    ...                 radius=500, existing=[1000, 1000])
    >>> evaluate(inst, "covering", [0]), evaluate(inst, "p_median", [1])
    (4.0, 4500.0)
    """
    chosen = list(chosen)
    if objective == "p_median":
        best = inst.existing.copy()
        if chosen:
            best = np.minimum(best, inst.distance[:, chosen].min(axis=1))
        return float(inst.weight @ best)
    total, per_street = _served_lp(inst, chosen, equity=objective == "equity")
    if objective == "covering":
        return total
    if objective == "equity":
        return float(_coverage(inst, per_street).min())
    raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")


def _coverage(inst, covered_by_street):
    """Each street's coverage (served + covered) / wanting; streets without demand are 1."""
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (inst.wanting - inst.unmet + covered_by_street) / inst.wanting
    return np.where(inst.wanting > 0, np.minimum(share, 1.0), 1.0)


def _check(objective):
    if objective not in OBJECTIVES:
        raise ValueError(f"objective must be one of {OBJECTIVES}, got {objective!r}")


def solve_exact(inst, objective, *, sites=None, budget=None, max_per_street=None,
                min_coverage=None, exclude=(), time_limit=60.0, gap=1e-6):
    """Solve the siting model exactly as a mixed-integer programme (HiGHS via scipy).

    Parameters
    ----------
    inst : Instance
    objective : {"covering", "p_median", "equity"}
    sites : int, optional
        At most this many options chosen.
    budget : float, optional
        Total public cost at most this (yuan).
    max_per_street : int, optional
        At most this many chosen options per street.
    min_coverage : float, optional
        Each street with unmet demand gets at least this share of it covered (0-1).
    exclude : sequence of sets
        Plans (sets of options) not to return again (for :func:`top_plans`).
    time_limit : float
        Seconds; when reached, the best plan found is returned with its gap.
    gap : float
        Relative gap at which the solver may stop.

    Returns
    -------
    Plan
        ``gap`` and ``bound`` as HiGHS proved them.

    Raises
    ------
    InfeasibleError
        If no plan meets the constraints.

    Examples
    --------
    Two demand points, three sites; one site covers both:

    >>> from childsim.siting_solvers import Instance, solve_exact
    >>> inst = Instance(weight=[5, 3], street=[0, 1], site=[0, 1, 2], capacity=[10, 10, 10],
    ...                 cost=[1, 1, 1], option_street=[0, 1, 0],
    ...                 distance=[[0, 900, 400], [900, 0, 400]], radius=500)
    >>> p = solve_exact(inst, "covering", sites=1)
    >>> p.options, p.value, p.gap
    ((2,), 8.0, 0.0)
    """
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    _check(objective)
    if min_coverage and objective == "p_median":
        raise ValueError("min_coverage applies to the covering and equity objectives")
    n, m = len(inst.weight), len(inst.site)
    blocks = []  # (rows, cols, vals, lo, hi) with rows local to the block

    def add(rows, cols, vals, lo, hi):
        blocks.append((np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64),
                       np.asarray(vals, dtype=float), np.asarray(lo, dtype=float),
                       np.asarray(hi, dtype=float)))

    def groups(keys, cols, n_groups, coef=None, lo=-np.inf, hi=np.inf):
        """One row per group: sum over the columns of the group (times coef) within lo..hi."""
        coef = np.ones(len(cols)) if coef is None else coef
        add(keys, cols, coef, np.broadcast_to(lo, (n_groups,)), np.broadcast_to(hi, (n_groups,)))

    if objective == "p_median":
        # z[p] for pairs (i, j) where option j is nearer than point i's existing facility.
        pi, pj = np.nonzero(inst.distance < inst.existing[:, None])
        n_var = m + pi.size
        c = np.zeros(n_var)
        c[m:] = inst.weight[pi] * (inst.distance[pi, pj] - inst.existing[pi])  # savings < 0
        constant = float(inst.weight @ inst.existing)
        groups(pi, m + np.arange(pi.size), n, hi=1.0)  # a point walks to one place
        q = np.arange(pi.size)  # z[p] <= x[j]
        add(np.concatenate([q, q]), np.concatenate([m + q, pj]),
            np.concatenate([np.ones(q.size), -np.ones(q.size)]), np.full(q.size, -np.inf),
            np.zeros(q.size))
        sense = 1.0
    else:
        pi, pj = _pairs(inst)
        equity = objective == "equity"
        n_var = m + pi.size + (1 if equity else 0)
        ycols = m + np.arange(pi.size)
        c = np.zeros(n_var)
        constant = 0.0
        total_unmet = max(float(inst.unmet.sum()), 1e-12)
        if equity:
            c[-1] = -1.0
            c[ycols] = -_EQUITY_TIE / total_unmet
        else:
            c[ycols] = -1.0
        groups(pi, ycols, n, hi=inst.weight)  # a point's demand is served at most once
        # an option serves at most its capacity, and only if chosen
        add(np.concatenate([pj, np.arange(m)]), np.concatenate([ycols, np.arange(m)]),
            np.concatenate([np.ones(pi.size), -inst.capacity]), np.full(m, -np.inf),
            np.zeros(m))
        # (The "strong" rows y[i, j] <= w[i] x[j] tighten the relaxation but, measured on
        # 1,500 points x 300 options, made HiGHS slower: one row per pair. Not used.)
        by_street = inst.street[pi]
        streets = np.arange(inst.n_streets)
        if equity:  # t W_s - covered_s <= W_s - U_s for streets with demand
            keep = inst.wanting > 0
            local = np.cumsum(keep) - 1
            sel = keep[by_street]
            rows = np.concatenate([local[by_street[sel]], local[streets[keep]]])
            cols = np.concatenate([ycols[sel], np.full(int(keep.sum()), n_var - 1)])
            vals = np.concatenate([-np.ones(int(sel.sum())), inst.wanting[keep]])
            add(rows, cols, vals, np.full(int(keep.sum()), -np.inf),
                (inst.wanting - inst.unmet)[keep])
        if min_coverage:
            keep = inst.unmet > 0
            local = np.cumsum(keep) - 1
            sel = keep[by_street]
            add(local[by_street[sel]], ycols[sel], np.ones(int(sel.sum())),
                float(min_coverage) * inst.unmet[keep], np.full(int(keep.sum()), np.inf))
        sense = -1.0
    # Among plans equal on the objective, prefer the cheaper: a cost term far below any
    # difference that matters (1e-7 of the objective's scale for the dearest plan).
    scale = {"covering": float(inst.weight.sum()), "equity": 1.0,
             "p_median": float(inst.weight @ inst.existing)}[objective]
    if inst.cost.sum() > 0:
        c[:m] += _COST_TIE * max(scale, 1e-12) * inst.cost / inst.cost.sum()
    site_codes, site_index = np.unique(inst.site, return_inverse=True)
    groups(site_index, np.arange(m), site_codes.size, hi=1.0)  # one capacity option per site
    if sites is not None:
        groups(np.zeros(m, dtype=int), np.arange(m), 1, hi=float(sites))
    if budget is not None:
        groups(np.zeros(m, dtype=int), np.arange(m), 1, coef=inst.cost, hi=float(budget))
    if max_per_street is not None:
        codes, index = np.unique(inst.option_street, return_inverse=True)
        groups(index, np.arange(m), codes.size, hi=float(max_per_street))
    for plan in exclude:  # no-good cut: not exactly this set again
        plan = sorted(plan)
        coef = -np.ones(m)
        coef[plan] = 1.0
        groups(np.zeros(m, dtype=int), np.arange(m), 1, coef=coef, hi=float(len(plan) - 1))
    integrality = np.zeros(n_var)
    integrality[:m] = 1
    upper = np.full(n_var, np.inf)
    upper[:m] = 1.0
    if objective == "p_median":
        upper[m:] = 1.0
    if objective == "equity":
        upper[-1] = 1.0
    offset, rows, cols, vals, lo, hi = 0, [], [], [], [], []
    for r, k, v, low, high in blocks:
        rows.append(r + offset)
        cols.append(k)
        vals.append(v)
        lo.append(low)
        hi.append(high)
        offset += low.size
    a = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                   shape=(offset, n_var)).tocsr()
    constraints = [LinearConstraint(a, np.concatenate(lo), np.concatenate(hi))]
    res = milp(c, integrality=integrality, bounds=Bounds(np.zeros(n_var), upper),
               constraints=constraints,
               options={"time_limit": float(time_limit), "mip_rel_gap": float(gap),
                        "disp": False})
    if res.x is None:
        if res.status == 2:
            raise InfeasibleError("no plan meets the constraints (budget or number of sites, "
                                  "per-street limits, minimum coverage)")
        if res.status == 1:
            raise SolverTimeout(f"the integer programme found no plan within time_limit = "
                                f"{time_limit:g} s ({len(inst.weight)} points x {m} options); "
                                f"raise time_limit, use fewer candidates, or rely on the greedy")
        raise RuntimeError(f"the integer programme was not solved: {res.message}")
    chosen = tuple(int(j) for j in np.nonzero(res.x[:m] > 0.5)[0])
    value = evaluate(inst, objective, chosen)
    objective_value = sense * float(res.fun) + constant
    bound = getattr(res, "mip_dual_bound", None)
    bound = sense * float(bound) + constant if bound is not None else float("nan")
    mip_gap = getattr(res, "mip_gap", None)
    found_gap = float(mip_gap) if mip_gap is not None else 0.0
    if res.status == 0:
        found_gap = min(found_gap, gap)
    if found_gap < 1e-12:  # rounding noise of a proven optimum
        found_gap = 0.0
    return Plan(options=chosen, value=value, method="exact", gap=max(found_gap, 0.0),
                bound=bound, status=str(res.message),
                extra={"milp_objective": objective_value})


def top_plans(inst, objective, k, **constraints):
    """The k best plans, each the optimum once the previous ones are excluded.

    Examples
    --------
    >>> from childsim.siting_solvers import Instance, top_plans
    >>> inst = Instance(weight=[5, 3], street=[0, 1], site=[0, 1], capacity=[10, 10],
    ...                 cost=[1, 1], option_street=[0, 1], distance=[[0, 900], [900, 0]],
    ...                 radius=500)
    >>> [(p.options, p.value) for p in top_plans(inst, "covering", 2, sites=1)]
    [((0,), 5.0), ((1,), 3.0)]
    """
    plans, seen = [], []
    for _ in range(int(k)):
        try:
            plan = solve_exact(inst, objective, exclude=seen, **constraints)
        except InfeasibleError:
            if not plans:
                raise
            break
        if not plan.options:
            break
        plans.append(plan)
        seen.append(set(plan.options))
    return plans


def _allowed(inst, j, chosen, spent, sites, budget, max_per_street):
    if j in chosen or any(inst.site[c] == inst.site[j] for c in chosen):
        return False
    if sites is not None and len(chosen) >= sites:
        return False
    if budget is not None and spent + inst.cost[j] > budget + 1e-9:
        return False
    if max_per_street is not None and sum(
            inst.option_street[c] == inst.option_street[j] for c in chosen) >= max_per_street:
        return False
    return True


def solve_greedy(inst, objective, *, sites=None, budget=None, max_per_street=None,
                 exact_gains=None):
    """Add options one at a time by marginal gain, with lazy re-evaluation.

    Under a budget the gain per yuan is used, and the result is the better of that plan and
    the best single affordable option (the usual safeguard for knapsack-constrained
    submodular maximisation). Covering and p-median gains are submodular, so a stale gain is
    an upper bound and only the top of the queue is re-evaluated (Minoux's lazy greedy);
    equity is not, and is evaluated in full at each step. Minimum coverage is not enforced.

    Gains: p-median's are exact and cheap (distance saved). Covering's are exact (a linear
    programme per evaluation) when ``exact_gains`` (default: when points x options <=
    200,000); otherwise each chosen option takes the nearest remaining demand within the
    walk up to its capacity and an option's gain is min(capacity, remaining demand within
    its walk) — fast for large candidate sets, and still lazy (remaining demand only falls).
    The plan's ``value`` is always evaluated exactly.

    Returns
    -------
    Plan
        ``extra["evaluations"]`` counts gain evaluations.

    Examples
    --------
    >>> from childsim.siting_solvers import Instance, solve_greedy
    >>> inst = Instance(weight=[5, 3], street=[0, 1], site=[0, 1, 2], capacity=[10, 10, 10],
    ...                 cost=[1, 1, 1], option_street=[0, 1, 0],
    ...                 distance=[[0, 900, 400], [900, 0, 400]], radius=500)
    >>> p = solve_greedy(inst, "covering", sites=1)
    >>> p.options, p.value
    ((2,), 8.0)
    >>> solve_greedy(inst, "covering", sites=1, exact_gains=False).options
    (2,)
    """
    _check(objective)
    m = len(inst.site)
    if exact_gains is None:
        exact_gains = len(inst.weight) * m <= 200_000
    evaluations = [0]

    if objective == "p_median":
        def start():
            return inst.existing.copy()

        def gain(j, best):
            evaluations[0] += 1
            return float(inst.weight @ np.maximum(best - inst.distance[:, j], 0.0))

        def accept(j, best):
            return np.minimum(best, inst.distance[:, j])
    elif objective == "covering" and not exact_gains:
        within = inst.covers  # computed once: (n, m)
        covers = [np.nonzero(within[:, j])[0] for j in range(m)]
        order = [idx[np.argsort(inst.distance[idx, j], kind="stable")] for j, idx in
                 enumerate(covers)]

        def start():
            return inst.weight.copy()

        def gain(j, rest):
            evaluations[0] += 1
            return float(min(inst.capacity[j], rest[covers[j]].sum()))

        def accept(j, rest):
            rest = rest.copy()
            left = inst.capacity[j]
            for i in order[j]:  # the nearest remaining children first
                take = min(left, rest[i])
                rest[i] -= take
                left -= take
                if left <= 0:
                    break
            return rest
    else:
        def start():
            return ()

        def gain(j, chosen):
            evaluations[0] += 1
            return (evaluate(inst, objective, list(chosen) + [j])
                    - evaluate(inst, objective, list(chosen)))

        def accept(j, chosen):
            return tuple(chosen) + (j,)

    def run(per_yuan):
        chosen, spent, state = [], 0.0, start()
        lazy = objective != "equity"
        heap = [(-math.inf, j, -1) for j in range(m)]  # (-score, option, step evaluated)
        heapq.heapify(heap)
        step = 0

        def score(j):
            g = gain(j, state)
            return g / inst.cost[j] if per_yuan and inst.cost[j] > 0 else g

        while True:
            best = None
            if lazy:
                while heap:
                    neg, j, when = heapq.heappop(heap)
                    if not _allowed(inst, j, chosen, spent, sites, budget, max_per_street):
                        continue  # never allowed again: budgets and counts only tighten
                    if when == step:
                        best = (j, -neg)
                        break
                    heapq.heappush(heap, (-score(j), j, step))
            else:
                scores = [(score(j), -j) for j in range(m)
                          if _allowed(inst, j, chosen, spent, sites, budget, max_per_street)]
                if scores:
                    value, neg_j = max(scores)
                    best = (-neg_j, value)
            if best is None or best[1] <= 1e-12:
                break
            chosen.append(best[0])
            spent += inst.cost[best[0]]
            state = accept(best[0], state)
            step += 1
        return tuple(sorted(chosen))

    sign = -1.0 if objective == "p_median" else 1.0
    chosen = run(per_yuan=budget is not None)
    current = sign * evaluate(inst, objective, chosen)
    if budget is not None:
        single = [(sign * evaluate(inst, objective, [j]), -j) for j in range(m)
                  if _allowed(inst, j, [], 0.0, sites, budget, max_per_street)]
        if single and max(single)[0] > current + 1e-12:
            current, neg_j = max(single)
            chosen = (-neg_j,)
    value = sign * current
    bound, gap = float("nan"), float("nan")
    if objective == "covering" and budget is None and sites is not None:
        bound = covering_bound(inst, sites)
        gap = (bound - value) / bound if bound > 0 else 0.0
    return Plan(options=chosen, value=value, method="greedy", gap=gap, bound=bound,
                extra={"evaluations": evaluations[0]})


def covering_bound(inst, sites):
    """A quick upper bound on covering with at most ``sites`` options (one per site).

    No plan serves more than all demand, nor more than the ``sites`` largest site capacities.
    When the greedy reaches it, the greedy is proven optimal without the integer programme.

    Examples
    --------
    >>> from childsim.siting_solvers import Instance, covering_bound
    >>> inst = Instance(weight=[50, 30], street=[0, 0], site=[0, 0, 1], capacity=[20, 40, 30],
    ...                 cost=[1, 1, 1], option_street=[0, 0, 0], distance=[[0, 0, 0], [0, 0, 0]],
    ...                 radius=1)
    >>> covering_bound(inst, 1), covering_bound(inst, 2), covering_bound(inst, 3)
    (40.0, 70.0, 70.0)
    """
    largest = np.zeros(int(inst.site.max(initial=-1)) + 1)
    np.maximum.at(largest, inst.site, inst.capacity)
    top = np.sort(largest)[::-1][:int(sites)].sum()
    return float(min(inst.weight.sum(), top))


def brute_force(inst, objective, *, sites=None, budget=None, max_per_street=None):
    """Enumerate every feasible plan (small instances only; for tests).

    Examples
    --------
    >>> from childsim.siting_solvers import Instance, brute_force
    >>> inst = Instance(weight=[5, 3], street=[0, 1], site=[0, 1], capacity=[10, 10],
    ...                 cost=[1, 1], option_street=[0, 1], distance=[[0, 900], [900, 0]],
    ...                 radius=500)
    >>> brute_force(inst, "covering", sites=1).value
    5.0
    """
    from itertools import combinations

    m = len(inst.site)
    sign = -1.0 if objective == "p_median" else 1.0
    best = None
    for size in range(0, m + 1):
        if sites is not None and size > sites:
            break
        for chosen in combinations(range(m), size):
            if len({inst.site[j] for j in chosen}) < size:
                continue
            if budget is not None and inst.cost[list(chosen)].sum() > budget + 1e-9:
                continue
            if max_per_street is not None and size and np.bincount(
                    inst.option_street[list(chosen)]).max() > max_per_street:
                continue
            v = sign * evaluate(inst, objective, chosen)
            if best is None or v > best[0] + 1e-9:
                best = (v, chosen)
    if best is None:
        raise InfeasibleError("no plan meets the constraints")
    return Plan(options=tuple(best[1]), value=sign * best[0], method="brute_force")

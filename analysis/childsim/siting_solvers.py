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

__all__ = ["Instance", "Plan", "OBJECTIVES", "InfeasibleError", "SolverTimeout", "covering_bound",
           "evaluate", "solve_exact", "solve_greedy", "top_plans", "brute_force"]

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
    running : ndarray (m,), optional
        Running cost a year of each option (yuan; for a yearly budget); default 0.
    kind : ndarray of int (m,), optional
        Facility kind of each option (for a kind mix); default 0 for all.

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
    running: np.ndarray = None
    kind: np.ndarray = None

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
        self.running = (np.zeros(len(self.site)) if self.running is None
                        else np.asarray(self.running, dtype=float))
        self.existing = np.asarray(self.existing, dtype=float)
        self.kind = (np.zeros(len(self.site), dtype=int) if self.kind is None
                     else np.asarray(self.kind, dtype=int))

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


def _option_groups(inst, objective, options):
    """Group the options of one site that reach the same demand alike.

    Covering and equity: same site and the same points within the walk; p-median: same
    site and identical distances. At most one option of a site is chosen, so a group acts as
    one facility whose capacity is the chosen option's.
    """
    column = inst.covers if objective != "p_median" else inst.distance
    group = np.empty(len(options), dtype=np.int64)
    seen = {}
    for k, j in enumerate(options):
        key = (int(inst.site[j]), np.ascontiguousarray(column[:, j]).tobytes())
        group[k] = seen.setdefault(key, len(seen))
    return group, len(seen)


def _undominated(inst, objective, options, group):
    """Drop options that another option of their group beats outright.

    Option a is dominated by option b of the same group (same site, same reach) and kind when b has
    at least a's capacity (ignored for p-median), no more capital + running cost and no more
    running cost a year, and is strictly better in one of these or equal with a lower index.
    Whatever plan uses a, the plan with b instead is feasible under every constraint (sites,
    budgets, per-street limits: same site and street) and no worse, so the optimum value
    is unchanged.
    """
    keep = np.ones(len(options), dtype=bool)
    for g in np.unique(group):
        members = np.nonzero(group == g)[0]
        if members.size < 2:
            continue
        for a in members:
            for b in members:
                if a == b or not keep[b]:
                    continue
                ja, jb = options[a], options[b]
                if inst.kind[ja] != inst.kind[jb]:  # a kind mix counts kinds
                    continue
                cap_ok = objective == "p_median" or inst.capacity[jb] >= inst.capacity[ja]
                if not (cap_ok and inst.cost[jb] <= inst.cost[ja]
                        and inst.running[jb] <= inst.running[ja]):
                    continue
                strictly = ((objective != "p_median" and inst.capacity[jb] > inst.capacity[ja])
                            or inst.cost[jb] < inst.cost[ja] or inst.running[jb] < inst.running[ja])
                if strictly or jb < ja:
                    keep[a] = False
                    break
    return keep


def _aggregate_points(keys_matrix, street, weight):
    """Sum the weights of demand points with the same street and the same row of keys.

    Returns (representative row index, summed weight, street) per aggregated point, in the
    order of first appearance (deterministic).
    """
    seen, first, total = {}, [], []
    packed = (np.packbits(keys_matrix, axis=1) if keys_matrix.dtype == bool
              else np.ascontiguousarray(keys_matrix))
    for i in range(keys_matrix.shape[0]):
        if weight[i] <= 0:
            continue
        key = (int(street[i]), packed[i].tobytes())
        k = seen.get(key)
        if k is None:
            seen[key] = len(first)
            first.append(i)
            total.append(float(weight[i]))
        else:
            total[k] += float(weight[i])
    first = np.asarray(first, dtype=np.int64)
    return first, np.asarray(total), street[first]


def solve_exact(inst, objective, *, sites=None, budget=None, max_per_street=None,
                min_coverage=None, exclude=(), time_limit=60.0, gap=1e-6, budget_year=None,
                reduce=True, start=None, kind_mix=None):
    """Solve the siting model exactly as a mixed-integer programme (HiGHS via scipy).

    The programme is first made smaller without changing its optimum (``reduce``, see
    docs/siting.md "Solvers"): demand points that reach the same facilities (covering,
    equity: the same sites within the walk and the same street; p-median: the same
    distances) are merged with their weights summed; options of one site that reach the same
    points share one set of flow variables (one option per site is chosen); an option that
    another option of its site beats outright (no less capacity, no dearer) is dropped when
    no plan is excluded; points that no option reaches are dropped.

    Parameters
    ----------
    inst : Instance
    objective : {"covering", "p_median", "equity"}
    sites : int, optional
        At most this many options chosen.
    budget : float, optional
        Total public cost at most this (yuan).
    budget_year : float, optional
        Running cost a year of the chosen options at most this (yuan).
    max_per_street : int, optional
        At most this many chosen options per street.
    min_coverage : float, optional
        Each street with unmet demand gets at least this share of it covered (0-1).
    kind_mix : dict, optional
        ``{kind: (least, most)}``: the number of chosen options of each kind (``inst.kind``)
        within these bounds (``None`` for no bound).
    exclude : sequence of sets
        Plans (sets of options) not to return again (for :func:`top_plans`).
    time_limit : float
        Seconds of wall time for the whole call (building the programme, then HiGHS); when
        reached, the best plan found is returned with its gap.
    gap : float
        Relative gap at which the solver may stop.
    reduce : bool
        Make the programme smaller as above (default); ``False`` writes one flow variable
        per point and option within the walk (kept for tests and comparison).
    start : Plan or sequence of int, optional
        A feasible plan known beforehand (e.g. the greedy's). HiGHS 1.2 in scipy takes no
        starting solution, so it is used afterwards: the better of it and the solver's plan
        is returned, with the gap to the solver's bound (and, for covering under a number of
        sites, to :func:`covering_bound`); if the solver finds no plan within ``time_limit``,
        the start is returned with that gap instead of raising :class:`SolverTimeout`.

    Returns
    -------
    Plan
        ``gap`` and ``bound`` as proven; ``extra`` holds the model's size before and after
        reduction (``points``, ``options``, ``pairs``: each as (before, after)) and
        ``source`` ("solver" or "start").

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
    >>> p.extra["pairs"]
    (4, 4)
    """
    import time

    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    _check(objective)
    if min_coverage and objective == "p_median":
        raise ValueError("min_coverage applies to the covering and equity objectives")
    began = time.perf_counter()
    n_all, m_all = len(inst.weight), len(inst.site)
    exclude = [set(int(j) for j in plan) for plan in exclude]
    options = np.arange(m_all)
    if reduce:
        group, _ = _option_groups(inst, objective, options)
        if not exclude:  # a dropped option could belong to the next-best plan
            options = options[_undominated(inst, objective, options, group)]
    m = options.size
    position = np.full(m_all, -1)
    position[options] = np.arange(m)
    if reduce:
        group, n_groups = _option_groups(inst, objective, options)
    else:  # every option its own group
        group, n_groups = np.arange(m), m
    first = np.zeros(n_groups, dtype=np.int64)  # an option of each group
    first[group[::-1]] = np.arange(m)[::-1]
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
        # z[a, g] for aggregated points a and groups g nearer than a's existing facility.
        dist = inst.distance[:, options[first]]
        near = dist < inst.existing[:, None]
        reached = near.any(axis=1)
        keys = np.where(near, dist, np.inf)
        if reduce:
            rep, w, _ = _aggregate_points(
                np.concatenate([keys, inst.existing[:, None]], axis=1)[reached],
                np.zeros(int(reached.sum()), dtype=np.int64), inst.weight[reached])
            rep = np.nonzero(reached)[0][rep]
        else:
            rep, w = np.arange(n_all), inst.weight
        pa, pg = np.nonzero(near[rep])
        n_pts, n_pairs = rep.size, pa.size
        n_var = m + n_pairs
        c = np.zeros(n_var)
        c[m:] = w[pa] * (dist[rep[pa], pg] - inst.existing[rep[pa]])  # savings < 0
        constant = float(inst.weight @ inst.existing)
        groups(pa, m + np.arange(n_pairs), n_pts, hi=1.0)  # a point walks to one place
        # z[a, g] <= sum of x_j over the options j of group g (one row per pair)
        members = [np.nonzero(group == g)[0] for g in range(n_groups)]
        counts = np.array([len(k) for k in members], dtype=np.int64)
        x_cols = (np.concatenate([members[g] for g in pg]) if n_pairs
                  else np.zeros(0, dtype=np.int64))
        add(np.concatenate([np.arange(n_pairs), np.repeat(np.arange(n_pairs), counts[pg])]),
            np.concatenate([m + np.arange(n_pairs), x_cols]),
            np.concatenate([np.ones(n_pairs), -np.ones(x_cols.size)]),
            np.full(n_pairs, -np.inf), np.zeros(n_pairs))
        upper_pairs = np.ones(n_pairs)
        sense = 1.0
    else:
        reach = inst.covers[:, options[first]]  # (points, groups)
        reached = reach.any(axis=1) & (inst.weight > 0)
        if reduce:
            rep, w, st = _aggregate_points(reach[reached], inst.street[reached],
                                           inst.weight[reached])
            rep = np.nonzero(reached)[0][rep]
        else:
            rep, w, st = np.arange(n_all), inst.weight, inst.street
        pa, pg = np.nonzero(reach[rep])
        n_pts, n_pairs = rep.size, pa.size
        equity = objective == "equity"
        n_var = m + n_pairs + (1 if equity else 0)
        ycols = m + np.arange(n_pairs)
        c = np.zeros(n_var)
        constant = 0.0
        total_unmet = max(float(inst.unmet.sum()), 1e-12)
        if equity:
            c[-1] = -1.0
            c[ycols] = -_EQUITY_TIE / total_unmet
        else:
            c[ycols] = -1.0
        groups(pa, ycols, n_pts, hi=w)  # a point's demand is served at most once
        # a group serves at most the capacity of its chosen option
        add(np.concatenate([pg, group]), np.concatenate([ycols, np.arange(m)]),
            np.concatenate([np.ones(n_pairs), -inst.capacity[options]]),
            np.full(n_groups, -np.inf), np.zeros(n_groups))
        # (The "strong" rows y[i, j] <= w[i] x[j] tighten the relaxation but, measured on
        # 1,500 points x 300 options, made HiGHS slower: one row per pair. Measured again on
        # the reduced programme (docs/performance.md): faster at 1,000 x 100, but at 2,000 x
        # 200 the root relaxation no longer finished in 60 s. Not used; the bound
        # y[a, g] <= min(w[a], largest capacity of g) costs nothing.)
        largest = np.zeros(n_groups)
        np.maximum.at(largest, group, inst.capacity[options])
        upper_pairs = np.minimum(w[pa], largest[pg])
        by_street = st[pa]
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
    cost_weight = np.zeros(m)
    if inst.cost.sum() > 0:
        cost_weight = _COST_TIE * max(scale, 1e-12) * inst.cost[options] / inst.cost.sum()
        c[:m] += cost_weight
    site_codes, site_index = np.unique(inst.site[options], return_inverse=True)
    groups(site_index, np.arange(m), site_codes.size, hi=1.0)  # one capacity option per site
    if sites is not None:
        groups(np.zeros(m, dtype=int), np.arange(m), 1, hi=float(sites))
    if budget is not None:
        groups(np.zeros(m, dtype=int), np.arange(m), 1, coef=inst.cost[options],
               hi=float(budget))
    if budget_year is not None:
        groups(np.zeros(m, dtype=int), np.arange(m), 1, coef=inst.running[options],
               hi=float(budget_year))
    if max_per_street is not None:
        codes, index = np.unique(inst.option_street[options], return_inverse=True)
        groups(index, np.arange(m), codes.size, hi=float(max_per_street))
    for k, (least, most) in sorted((kind_mix or {}).items()):
        of_kind = np.nonzero(inst.kind[options] == k)[0]
        add(np.zeros(of_kind.size, dtype=int), of_kind, np.ones(of_kind.size),
            [-np.inf if least is None else float(least)],
            [np.inf if most is None else float(most)])
    for plan in exclude:  # no-good cut: not exactly this set again
        coef = -np.ones(m)
        inside = position[sorted(plan)]
        coef[inside[inside >= 0]] = 1.0
        groups(np.zeros(m, dtype=int), np.arange(m), 1, coef=coef, hi=float(len(plan) - 1))
    integrality = np.zeros(n_var)
    integrality[:m] = 1
    upper = np.full(n_var, np.inf)
    upper[:m] = 1.0
    upper[m:m + n_pairs] = upper_pairs
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
    size = {"points": (n_all, int(n_pts)), "options": (m_all, int(m)),
            "pairs": (int(inst.covers.sum()) if objective != "p_median"
                      else int((inst.distance < inst.existing[:, None]).sum()), int(n_pairs))}
    constraints = [LinearConstraint(a, np.concatenate(lo), np.concatenate(hi))]
    res = milp(c, integrality=integrality, bounds=Bounds(np.zeros(n_var), upper),
               constraints=constraints,
               # the limit covers building the programme too (wall time, as HiGHS counts)
               options={"time_limit": max(float(time_limit) - (time.perf_counter() - began),
                                          0.0), "mip_rel_gap": float(gap),
                        "disp": False})
    maximise = objective != "p_median"
    bound = getattr(res, "mip_dual_bound", None)
    bound = sense * float(bound) + constant if bound is not None else float("nan")
    if not math.isfinite(bound):
        bound = float("nan")
    if start is not None:
        start = tuple(sorted(int(j) for j in getattr(start, "options", start)))
        if objective == "covering" and sites is not None and budget is None:
            quick = covering_bound(inst, sites)
            bound = quick if not bound <= quick else bound  # NaN-safe minimum
    if res.x is None:
        if res.status == 2:
            raise InfeasibleError("no plan meets the constraints (budget or number of sites, "
                                  "per-street limits, minimum coverage, kind mix)")
        if res.status == 1 and start is not None:
            return _from_start(inst, objective, start, bound, maximise, str(res.message), size)
        if res.status == 1:
            raise SolverTimeout(f"the integer programme found no plan within time_limit = "
                                f"{time_limit:g} s ({n_all} points x {m_all} options); "
                                f"raise time_limit, use fewer candidates, or rely on the greedy")
        raise RuntimeError(f"the integer programme was not solved: {res.message}")
    chosen = tuple(int(j) for j in options[np.nonzero(res.x[:m] > 0.5)[0]])
    value = evaluate(inst, objective, chosen)
    objective_value = sense * float(res.fun) + constant
    mip_gap = getattr(res, "mip_gap", None)
    found_gap = float(mip_gap) if mip_gap is not None else 0.0
    if res.status == 0:
        found_gap = min(found_gap, gap)
    if found_gap < 1e-12:  # rounding noise of a proven optimum
        found_gap = 0.0
    if start is not None and res.status != 0:
        begun = _from_start(inst, objective, start, bound, maximise, str(res.message), size)
        if (begun.value > value + 1e-9) if maximise else (begun.value < value - 1e-9):
            return begun
        if math.isfinite(bound):
            found_gap = min(found_gap, _gap(value, bound, maximise))
    return Plan(options=chosen, value=value, method="exact", gap=max(found_gap, 0.0),
                bound=bound, status=str(res.message),
                extra={"milp_objective": objective_value, "source": "solver", **size})


def _gap(value, bound, maximise):
    """Relative gap of a plan's value to a bound on the optimum (0 when it meets it)."""
    if maximise:
        return max((bound - value) / bound, 0.0) if bound > 0 else 0.0
    return max((value - bound) / value, 0.0) if value > 0 else 0.0


def _from_start(inst, objective, start, bound, maximise, status, size):
    value = evaluate(inst, objective, start)
    gap = _gap(value, bound, maximise) if math.isfinite(bound) else float("nan")
    return Plan(options=start, value=value, method="exact", gap=gap, bound=bound,
                status=status, extra={"source": "start", **size})


def top_plans(inst, objective, k, start=None, **constraints):
    """The k best plans, each the optimum once the previous ones are excluded.

    ``start`` (a feasible plan, e.g. the greedy's) is passed to the first solve only
    (:func:`solve_exact`); the other keyword arguments to every solve. Fewer than k plans
    are returned when no other plan is feasible or a later solve finds none in time.

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
            plan = solve_exact(inst, objective, exclude=seen,
                               start=None if seen else start, **constraints)
        except (InfeasibleError, SolverTimeout):
            if not plans:
                raise
            break  # fewer than k plans: no other feasible plan, or none found in time
        if not plan.options:
            break
        plans.append(plan)
        seen.append(set(plan.options))
    return plans


def _allowed(inst, j, chosen, spent, sites, budget, max_per_street, budget_year=None,
             kind_mix=None):
    if j in chosen or any(inst.site[c] == inst.site[j] for c in chosen):
        return False
    most = (kind_mix or {}).get(int(inst.kind[j]), (None, None))[1]
    if most is not None and sum(inst.kind[c] == inst.kind[j] for c in chosen) >= most:
        return False
    if budget_year is not None and (inst.running[list(chosen)].sum() + inst.running[j]
                                    > budget_year + 1e-9):
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
                 exact_gains=None, budget_year=None, kind_mix=None):
    """Add options one at a time by marginal gain, with lazy re-evaluation.

    Under a budget the gain per yuan is used, and the result is the better of that plan and
    the best single affordable option (the usual safeguard for knapsack-constrained
    submodular maximisation). Covering and p-median gains are submodular, so a stale gain is
    an upper bound and only the top of the queue is re-evaluated (Minoux's lazy greedy);
    equity is not, and is evaluated in full at each step. Minimum coverage and the least
    numbers of a kind mix are not enforced (its most numbers are).

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
                    if not _allowed(inst, j, chosen, spent, sites, budget, max_per_street,
                                    budget_year, kind_mix):
                        continue  # never allowed again: budgets and counts only tighten
                    if when == step:
                        best = (j, -neg)
                        break
                    heapq.heappush(heap, (-score(j), j, step))
            else:
                scores = [(score(j), -j) for j in range(m)
                          if _allowed(inst, j, chosen, spent, sites, budget, max_per_street,
                                      budget_year, kind_mix)]
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
                  if _allowed(inst, j, [], 0.0, sites, budget, max_per_street, budget_year,
                              kind_mix)]
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


def brute_force(inst, objective, *, sites=None, budget=None, max_per_street=None,
                budget_year=None, kind_mix=None):
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
            if budget_year is not None and inst.running[list(chosen)].sum() > budget_year + 1e-9:
                continue
            if max_per_street is not None and size and np.bincount(
                    inst.option_street[list(chosen)]).max() > max_per_street:
                continue
            counts = np.bincount(inst.kind[list(chosen)], minlength=inst.kind.max(initial=0) + 1)
            if any((least is not None and (counts[k] if k < counts.size else 0) < least)
                   or (most is not None and (counts[k] if k < counts.size else 0) > most)
                   for k, (least, most) in (kind_mix or {}).items()):
                continue
            v = sign * evaluate(inst, objective, chosen)
            if best is None or v > best[0] + 1e-9:
                best = (v, chosen)
    if best is None:
        raise InfeasibleError("no plan meets the constraints")
    return Plan(options=tuple(best[1]), value=sign * best[0], method="brute_force")

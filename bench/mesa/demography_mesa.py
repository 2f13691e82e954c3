"""demography_mesa: childsim's demography written as a plain Mesa model, for the speed comparison.

Not a test and not part of the package: a benchmark (issue #14, "≥ 200× faster than the same
demography in Mesa"; docs/performance.md, "childsim against Mesa"). It runs one replicate of
the demography of a scenario (default: the Changning baseline, 2024-01 to 2035-12, 144
months) as a Mesa 3.2 model written the way Mesa's documentation writes models: one Python
object per agent, ``Agent.step`` methods called through ``AgentSet.do``, ``Model.random``
for the draws, a ``DataCollector`` for the monthly figures. It then runs childsim on the same
scenario with the services off and prints both results side by side, so the two can be
checked to be the same demography (births and children within 10 %) before their times are
compared.

The same demography: the starting counts and every rate come from childsim itself
(``childsim._core.demography_inputs``: the packed starting counts and rates of
sim/model/rates.hpp), so both models start from the same base data and parameters:

* women 18–49 (each heads a family) and children 0–17 by street and single year of age, each
  child attached to a mother of the age its birth implies (the fertility shape), or to an
  older mother outside the women 18–49;
* each month, in childsim's order: children turning 18 leave the child population (a daughter
  becomes a woman of the tables); each family draws a delivery (the month's age-specific rate
  of the scenario's fertility path; twins with childsim's share), the mother's death, leaving
  the district (the Rogers–Castro schedule at the mother's age) or moving to another street
  (childsim's destination probabilities); each child may die (the life table); families
  arrive in each street (Poisson with childsim's mean, plus new housing), bringing the
  children their past fertility implies; families with no child and no woman under 50 leave
  the tables.

What childsim does and this model leaves out, so the comparison is, if anything, unfair to
childsim: who among the women of an age bears the children (parity, partnership and the birth
interval; they change the order of births, not their number at each age), the household's
attributes (work, income, tastes: six draws per new family), the homes' coordinates, and the
whole adult resident population (men 18+ and women 50+, about 22,000 cohort counts that age,
die and move each month). Its random numbers are not childsim's (Python's Mersenne Twister
against Philox), so the two agree in distribution, not replicate by replicate.

Usage (Mesa from a source checkout outside the project, its dependencies from Debian)::

    PYTHONPATH=/work/wt/mesa-src:analysis:build/release/python /usr/bin/python3 \
        bench/mesa/demography_mesa.py [--scenario scenarios/baseline.yaml] [-n 5] [--threads 1]

Each of the ``-n`` rounds runs childsim (one replicate, services off, ``--threads``), then the
Mesa model, and prints the wall and CPU time of each (from the loaded scenario to the monthly
figures in memory: building the starting population and the months); the first round also
compares their births and children. At the end: the medians and the Mesa / childsim ratios.
Interleaving the two lets a change in the machine's load hit both alike; on a shared machine
the CPU times are the steadier figure.
"""

import argparse
import bisect
import math
import sys
import time

import mesa

import childsim
from childsim._native import core


class Family(mesa.Agent):
    """A woman 18–49 (or, after her death or 50th birthday, her household) and her children."""

    def __init__(self, model, street, mother_birth_month):
        super().__init__(model)
        self.street = street
        self.mother_birth_month = mother_birth_month
        self.has_mother = True
        self.children = []

    def step(self):
        m = self.model
        t = m.month
        rnd = m.random.random
        age = t - self.mother_birth_month  # months
        u_birth, u_death, u_out, u_move = rnd(), rnd(), rnd(), rnd()
        if self.has_mother and 18 * 12 <= age < 50 * 12:
            q = m.birth_prob[t][age // 12 - 18] / (1.0 + m.twins)
            if u_birth < q:
                babies = 2 if u_birth < q * m.twins else 1
                for _ in range(babies):
                    Child(m, self, t)
                m.births_this_month += babies
            if u_death < m.women_death_hazard:
                self.has_mother = False
        # Families leave at the rate of the mother's age (also after her death), children too.
        if u_out < m.out_hazard[min(max(age // 12, 0), len(m.out_hazard) - 1)]:
            for child in list(self.children):
                child.leave()
            self.remove()
        elif u_move < m.between_hazard:
            self.street = m.draw(m.destination_cdf[self.street], rnd())

    def retire_if_done(self):
        """Leave the tables with no child at home and no woman under 50 (childsim's retirement)."""
        if self.children:
            return
        if not self.has_mother or self.model.month - self.mother_birth_month >= 50 * 12 - 1:
            self.remove()


class Child(mesa.Agent):
    """A child 0–17 of a family; lives in the family's street."""

    def __init__(self, model, family, birth_month):
        super().__init__(model)
        self.family = family
        self.birth_month = birth_month
        self.boy = model.random.random() < model.p_boy
        family.children.append(self)
        model.n_children += 1

    def leave(self):
        self.family.children.remove(self)
        self.model.n_children -= 1
        self.remove()

    def age_out(self):
        """At 18 the child leaves the child population; a daughter heads a family of her own."""
        m = self.model
        if m.month - self.birth_month < 18 * 12:
            return
        street = self.family.street
        self.leave()
        if not self.boy:
            Family(m, street, self.birth_month)

    def step(self):
        m = self.model
        if m.random.random() < m.child_death_hazard[(m.month - self.birth_month) // 12]:
            m.deaths_this_month += 1
            self.leave()


class Demography(mesa.Model):
    """The district's families and children, month by month (see the module's docstring)."""

    def __init__(self, inputs, seed=1):
        super().__init__(seed=seed)
        self.month = 0
        self.birth_prob = inputs["birth_prob"].tolist()
        self.twins = inputs["twins_per_delivery"]
        self.child_death_hazard = inputs["child_death_hazard"].tolist()
        self.women_death_hazard = inputs["women_death_hazard"]
        self.out_hazard = inputs["out_hazard_by_age"].tolist()
        self.between_hazard = inputs["between_hazard"]
        self.p_boy = inputs["p_boy"]
        self.destination_cdf = inputs["destination_cdf"].tolist()
        self.inflow = inputs["inflow_households"].tolist()
        self.housing = inputs["housing_households"].tolist()
        self.in_age_cdf = inputs["in_age_cdf"].tolist()
        self.in_birth_prob = inputs["in_birth_prob"].tolist()
        self.asfr_cdf = inputs["asfr_cdf"].tolist()
        self.n_streets = int(inputs["n_streets"])
        self.n_children = 0
        self.births_this_month = 0
        self.deaths_this_month = 0
        self.datacollector = mesa.DataCollector(
            model_reporters={"births": "births_this_month", "children": "n_children",
                             "deaths": "deaths_this_month"})
        self._build(inputs["women"].tolist(), inputs["children"].tolist())

    @staticmethod
    def draw(cdf, u):
        """The index drawn with uniform ``u`` from cumulative probabilities ``cdf``."""
        return min(bisect.bisect_right(cdf, u), len(cdf) - 1)

    def _build(self, women, children):
        rnd = self.random
        for s in range(self.n_streets):
            women_of_age = [[] for _ in range(32)]
            for a, n in enumerate(women[s]):
                for _ in range(n):
                    women_of_age[a].append(Family(self, s, -(12 * (a + 18) + rnd.randrange(12))))
            for a, n in enumerate(children[s]):
                for _ in range(n):
                    age_months = 12 * a + rnd.randrange(12)
                    mother_age = a + 18 + self.draw(self.asfr_cdf, rnd.random())
                    pool = women_of_age[mother_age - 18] if mother_age <= 49 else []
                    if pool:
                        family = pool[rnd.randrange(len(pool))]
                    else:  # an older mother (50+), not among the women 18–49
                        family = Family(self, s, -(12 * mother_age + rnd.randrange(12)))
                    Child(self, family, -age_months)

    def _arrive(self, street):
        rnd = self.random
        mother_age = 18 + self.draw(self.in_age_cdf, rnd.random())
        mother_months = 12 * mother_age + rnd.randrange(12)
        family = Family(self, street, self.month - mother_months)
        for y in range(18, 50):
            u, w = rnd.random(), rnd.randrange(12)
            if y >= mother_age or u >= self.in_birth_prob[y - 18]:
                continue
            age_months = mother_months - (12 * y + w)
            if age_months < 18 * 12:
                Child(self, family, self.month - age_months)

    def step(self):
        self.births_this_month = self.deaths_this_month = 0
        self.agents_by_type[Child].do("age_out")
        self.agents_by_type[Family].do("step")
        self.agents_by_type[Child].do("step")
        for s in range(self.n_streets):
            for _ in range(int(self.rng.poisson(self.inflow[s])) + self.housing[self.month][s]):
                self._arrive(s)
        self.agents_by_type[Family].do("retire_if_done")
        self.datacollector.collect(self)
        self.month += 1


def run_mesa(inputs, seed):
    """Build the Mesa model and run every month; returns (wall s, CPU s, monthly DataFrame)."""
    t0, c0 = time.perf_counter(), time.process_time()
    model = Demography(inputs, seed=seed)
    for _ in range(int(inputs["n_months"])):
        model.step()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return wall, cpu, model.datacollector.get_model_vars_dataframe()


def run_childsim(scenario, threads):
    """One replicate of ``scenario`` in childsim; returns (wall s, CPU s, Dataset).

    Timed as the Mesa run is: from the loaded scenario (its rates and starting population
    built inside the call) to the monthly outputs in memory, here also turned into an
    xarray.Dataset (a cost Mesa's DataCollector does not have)."""
    t0, c0 = time.perf_counter(), time.process_time()
    ds = childsim.run(scenario, replicates=1, seed=scenario.seed, threads=threads)
    return time.perf_counter() - t0, time.process_time() - c0, ds


def median(values):
    v = sorted(values)
    return v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/baseline.yaml")
    parser.add_argument("--seed", type=int, default=1, help="Mesa's seed")
    parser.add_argument("-n", "--repeats", type=int, default=5,
                        help="timed rounds, each childsim then Mesa (interleaved)")
    parser.add_argument("--threads", type=int, default=1,
                        help="childsim's threads (Mesa runs on one)")
    args = parser.parse_args(argv)

    scenario = childsim.load_scenario({"extends": args.scenario, "services": False}, base_dir=".")
    inputs = core().demography_inputs(scenario._impl)
    print(f"{args.scenario}, demography only: {int(inputs['n_months'])} months, one replicate; "
          f"mesa {mesa.__version__}, python {sys.version.split()[0]}, childsim "
          f"{core().version} on {args.threads} thread(s)")
    rounds = []
    for k in range(args.repeats):
        c_wall, c_cpu, ds = run_childsim(scenario, args.threads)
        m_wall, m_cpu, mesa_df = run_mesa(inputs, args.seed + k)
        rounds.append((c_wall, c_cpu, m_wall, m_cpu))
        print(f"round {k + 1}: childsim {c_wall:.3f} s wall, {c_cpu:.3f} s CPU; mesa "
              f"{m_wall:.2f} s wall, {m_cpu:.2f} s CPU; ratio {m_wall / c_wall:.0f}x wall, "
              f"{m_cpu / c_cpu:.0f}x CPU", flush=True)
        if k == 0:  # the same demography? births and children of both
            births, c_births = int(mesa_df["births"].sum()), int(ds["births"].sum())
            children = ds["population"].sum(dim=("street", "age")).isel(replicate=0)
            m_end, c_end = int(mesa_df["children"].iloc[-1]), int(children.isel(time=-1))
            m_mean, c_mean = float(mesa_df["children"].mean()), float(children.mean())
            print(f"  births over the run: mesa {births}, childsim {c_births} "
                  f"(ratio {births / c_births:.3f}); children at the end: mesa {m_end}, "
                  f"childsim {c_end} ({m_end / c_end:.3f}); mean children: mesa {m_mean:.0f}, "
                  f"childsim {c_mean:.0f} ({m_mean / c_mean:.3f})")
            worst = max(abs(births / c_births - 1), abs(m_end / c_end - 1),
                        abs(m_mean / c_mean - 1))
            print("  matched within 10 %" if worst <= 0.10
                  else f"  NOT matched: {100 * worst:.1f} % apart")
    cw, cc, mw, mc = (median([r[i] for r in rounds]) for i in range(4))
    print(f"medians of {args.repeats}: childsim {cw:.3f} s wall, {cc:.3f} s CPU; mesa "
          f"{mw:.2f} s wall, {mc:.2f} s CPU")
    print(f"mesa / childsim: {mw / cw:.0f}x wall (per round: median "
          f"{median([r[2] / r[0] for r in rounds]):.0f}x), {mc / cc:.0f}x CPU (per round: median "
          f"{median([r[3] / r[1] for r in rounds]):.0f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

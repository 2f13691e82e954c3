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

    PYTHONPATH=/work/wt/mesa-src:analysis /usr/bin/python3 bench/mesa/demography_mesa.py \
        [--scenario scenarios/baseline.yaml] [--seed 1] [--no-childsim]

It prints the wall time of the Mesa run (building the population and the 144 months) and,
unless ``--no-childsim``, the births and children of both models.
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
    """Build the Mesa model and run every month; returns (seconds, monthly DataFrame)."""
    t0 = time.perf_counter()
    model = Demography(inputs, seed=seed)
    for _ in range(int(inputs["n_months"])):
        model.step()
    seconds = time.perf_counter() - t0
    return seconds, model.datacollector.get_model_vars_dataframe()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="scenarios/baseline.yaml")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-childsim", action="store_true",
                        help="only time Mesa (no childsim run to compare results with)")
    args = parser.parse_args(argv)

    scenario = childsim.load_scenario({"extends": args.scenario, "services": False}, base_dir=".")
    inputs = core().demography_inputs(scenario._impl)
    seconds, mesa_df = run_mesa(inputs, args.seed)
    print(f"mesa {mesa.__version__}: {int(inputs['n_months'])} months in {seconds:.2f} s "
          f"(python {sys.version.split()[0]})")
    births = int(mesa_df["births"].sum())
    end_children = int(mesa_df["children"].iloc[-1])
    mean_children = float(mesa_df["children"].mean())
    print(f"mesa:     births {births}, children at the end {end_children}, "
          f"mean children {mean_children:.0f}")
    if args.no_childsim:
        return 0
    ds = childsim.run(scenario, replicates=1, seed=scenario.seed, threads=1)
    c_births = int(ds["births"].sum())
    children = ds["population"].sum(dim=("street", "age")).isel(replicate=0)
    c_end, c_mean = int(children.isel(time=-1)), float(children.mean())
    print(f"childsim: births {c_births}, children at the end {c_end}, mean children {c_mean:.0f}")
    print(f"mesa / childsim: births {births / c_births:.3f}, children at the end "
          f"{end_children / c_end:.3f}, mean children {mean_children / c_mean:.3f}")
    worst = max(abs(births / c_births - 1), abs(end_children / c_end - 1),
                abs(mean_children / c_mean - 1))
    print("matched within 10 %" if worst <= 0.10 else f"NOT matched: {100 * worst:.1f} % apart")
    return 0 if math.isfinite(worst) and worst <= 0.10 else 1


if __name__ == "__main__":
    sys.exit(main())

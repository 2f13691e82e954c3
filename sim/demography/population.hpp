// population: the synthetic population at the start, and the families created during a run.
//
// Representation (docs/model.md, "Entities"): agents are the family households that matter
// for child services — every woman aged 18–49 (the mothers of future births), and every
// household with a child aged 0–17 — and the children themselves. Other residents (men 18+,
// women 50+ without children at home) are exact counts by street, sex and birth month
// (residents.hpp): they age, die and move, but make no decisions.
//
// At the start, each street gets its deterministic share of the district's women by single
// year of age and of its children by age (rates.hpp, initial_counts). Birth months within the
// year of age, homes (uniform in a disc of the street's area around its centre) and family
// attributes are drawn from each agent's random stream, so the same seed gives the same
// population. Each child is given a mother whose age at the birth follows the fertility
// schedule's shape; if that mother would now be 18–49 she is one of the street's women
// (chosen at random among those of that age), otherwise a new older-mother household is made.
#pragma once

#include "sim/model/rates.hpp"        // Rates, InitialCounts
#include "sim/model/state.hpp"        // State
#include "sim/scenario/scenario.hpp"  // Scenario

#include <cstddef>  // std::size_t
#include <cstdint>  // std::uint64_t

namespace childsim {

/// The population of one replicate at the start of the first month, built in the memory of
/// `used` (an earlier replicate's state, state.hpp: recycled), if given.
State build_initial_state(const Scenario& sc, const Rates& rates, const InitialCounts& counts,
                          int replicate, State&& used = State{});

/// The values of one household row (every column of Households but has_mother and present,
/// which a new row always has set), drawn before the row is added: the families of a month
/// and of the start are drawn in parallel (each from its own streams) and appended serially,
/// in the fixed order of rows (state.hpp).
struct HouseholdRow {
  std::uint64_t id = 0;
  std::int16_t street = 0;
  float x_m = 0, y_m = 0;
  std::int32_t mother_birth_month = 0;
  std::uint8_t partnered = 0, mother_works = 0, partner_works = 0, grandparent_care = 0,
               income_band = 0, hukou_local = 0;
  float taste = 0;
  std::uint16_t n_children = 0;
  std::uint8_t parity = 0;
  std::int32_t last_birth_month = no_birth_month;
};

/// A household's attributes drawn from its own stream (what add_household adds); no child.
HouseholdRow draw_household(const Scenario& sc, const Rates& rates, int replicate, std::uint64_t id,
                            int street, std::int32_t mother_birth_month);

/// Write `row` into row `i` of `h` (which must have that row), present and with its mother.
void set_household(Households& h, std::size_t i, const HouseholdRow& row);

/// Append `row` to the household table (its woman counted in `state.census` when that is
/// kept); returns its row number.
int append_household(State& state, const HouseholdRow& row);

/// Add a household with attributes drawn from its own stream; returns its row. Its woman is
/// counted in `state.census` when that is kept (as every agent add_child adds).
int add_household(State& state, const Scenario& sc, const Rates& rates, std::uint64_t id,
                  int street, std::int32_t mother_birth_month);

/// Add a child to household row `household`; returns its row.
int add_child(State& state, const Scenario& sc, const Rates& rates, std::uint64_t id, int household,
              std::int32_t birth_month);

/// A child's sex, from its own stream (what add_child gives it).
std::uint8_t draw_child_sex(const Scenario& sc, const Rates& rates, int replicate,
                            std::uint64_t id);

/// Append a child of sex `sex` to household row `household` (its n_children and, when kept,
/// `state.census` counted); returns its row.
int append_child(State& state, std::uint64_t id, int household, std::int32_t birth_month,
                 std::uint8_t sex);

/// An arriving family drawn and not yet added (draw_arriving_family): the household as it
/// will be after its past births and its partnership, and the children who come with her.
struct ArrivingFamily {
  HouseholdRow household;  ///< n_children 0: append_child counts the children as it adds them
  /// At most one child per year of her age (the rest are adults), in the order they are added.
  struct Child {
    std::uint64_t id;
    std::int32_t birth_month;
    std::uint8_t sex;
  };
  int n_children = 0;
  Child children[Rates::n_women_ages];
};

/// A family arriving in `street` in month `month` (migration or new housing): a woman whose
/// age (18..49) follows the in-migration schedule (Rates::in_age_cdf), with the children her
/// past fertility gave her (Rates::in_birth_prob, one chance per completed year of age; those
/// under 18 come with her). Only reads: families are drawn in parallel.
void draw_arriving_family(const Scenario& sc, const Rates& rates, int replicate, std::uint64_t id,
                          int street, int month, ArrivingFamily& out);

/// Append a drawn family: its household row, then its children's rows, as add_arriving_family
/// adds them (and the census and the list of recent deliveries when the census is kept).
/// Returns the number of children it brought.
int append_arriving_family(State& state, const ArrivingFamily& family);

/// The same for `n` families in order (as n calls of append_arriving_family; every column grown
/// once).
void append_arriving_families(State& state, const ArrivingFamily* families, std::size_t n);

/// draw_arriving_family then append_arriving_family: returns the number of children it brought.
int add_arriving_family(State& state, const Scenario& sc, const Rates& rates, std::uint64_t id,
                        int street, int month);

/// Count a birth the woman of row `row` had before she entered the model (her parity and last
/// delivery; the child need not be in the tables).
void record_past_birth(State& state, int row, std::int32_t birth_month);

/// Whether a woman born in `mother_birth_month` and entering the model in `month` with no
/// child borne lives with a partner (settle_partnership), uniform `u` deciding.
bool partnered_on_entry(const Rates& rates, int month, std::int32_t mother_birth_month, double u);

/// A woman who has borne no child lives with a partner with probability 1 − exp(−ρ (x − 18))
/// at exact age x (ρ = household.partnering_rate: the share a constant partnering rate from
/// 18 gives); uniform `u` decides. Mothers keep household.partnered. Used when a woman enters
/// the model (start, arrival); during the run single women form couples at the rate ρ.
void settle_partnership(State& state, const Rates& rates, int row, int month, double u);

/// Arriving women are 18..49 (the women of the household tables).
constexpr int arriving_woman_min_age = 18;

/// Draw a home uniformly in the disc of street `street`.
void draw_home(const Scenario& sc, int street, double u1, double u2, float& x_m, float& y_m);

}  // namespace childsim

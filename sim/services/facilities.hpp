// facilities: every place a family can use — nurseries, baby rooms, kindergartens, holiday
// classes, clinics — with kind, street, location, capacity over time, price and quality.
//
// Facilities are read from `scenarios/<place>/facilities.yaml` (each with `source:` or
// `assumed:`), defaults per kind from its `kinds:` section. Capacity is a schedule over model
// months (`capacity(f, t)`): zero before a facility opens and after it closes, and changed by
// dated investments. Its unit depends on the kind (places; child-sessions per month; places per
// holiday session; doctor sessions per month). Facilities are fixed for a scenario and shared
// by all replicates; the tables are plain arrays indexed by facility number.
#pragma once

#include "sim/core/time.hpp"       // YearMonth
#include "sim/data/base_data.hpp"  // BaseData

#include <cstdint>     // std::int32_t
#include <filesystem>  // std::filesystem::path
#include <string>      // std::string
#include <vector>      // std::vector

namespace childsim {

/// The services a facility kind belongs to; each has its own submodel.
enum class Service : std::uint8_t { nursery, babyroom, kindergarten, holiday, clinic };

/// Who runs a facility (facilities.yaml `run_by`). "Public" (公办) is run by the education
/// bureau or another public body (a street office, the health commission); the plan's item 19
/// counts only these for "公办园托额".
enum class RunBy : std::uint8_t { education_bureau, public_body, private_operator, employer };

/// The yaml spelling of a RunBy ("education_bureau", "public_body", "private", "employer").
const char* run_by_name(RunBy r);

/// A kind of facility and its defaults.
struct FacilityKind {
  std::string id;        ///< e.g. "nursery_class"
  std::string label_zh;  ///< e.g. "托班"
  Service service = Service::nursery;
  std::string capacity_unit;
  int min_age_months = 0;
  int max_age_months = 216;           ///< exclusive
  bool inclusive = false;             ///< default of its facilities' `inclusive`
  RunBy run_by = RunBy::public_body;  ///< default of its facilities' `run_by`
};

struct Facilities {
  std::vector<FacilityKind> kinds;

  // One entry per facility.
  std::vector<std::string> id, name;
  std::vector<int> kind;         ///< index into `kinds`
  std::vector<int> street;       ///< street index, or -1 outside the district
  std::vector<double> x_m, y_m;  ///< location on the local plane
  std::vector<double>
      price;  ///< yuan per month (nursery, kindergarten), per session (holiday), per visit (clinic)
  std::vector<double> quality;             ///< 0..1
  std::vector<double> running_cost_year;   ///< yuan per year while open with capacity
  std::vector<double> capital_cost;        ///< yuan, spent in the opening month (investments)
  std::vector<double> visits_per_session;  ///< clinics: patients a doctor sees per session
  std::vector<int> host;                   ///< nursery class: index of its kindergarten, else -1
  std::vector<RunBy> run_by;               ///< who runs it (public = education bureau or body)
  /// Designated 普惠 (inclusive) place at the capped price, as the plan's item 19 counts them;
  /// not a property of the kind (a nursery class in a private kindergarten is not designated).
  std::vector<std::uint8_t> inclusive;

  int n_months = 0;
  std::vector<std::int32_t> capacity_schedule;  ///< [facility × month]
  std::vector<double> running_cost_schedule;    ///< yuan spent in each month, [facility × month]
  std::vector<double> capital_cost_schedule;  ///< one-off yuan spent in a month, [facility × month]
  /// Public-kindergarten nursery classes admit only Shanghai-hukou families (policy lever).
  bool public_hukou_only = false;

  std::size_t size() const { return id.size(); }
  std::size_t at(std::size_t f, int month) const {
    return f * static_cast<std::size_t>(n_months) + static_cast<std::size_t>(month);
  }
  std::int32_t capacity(std::size_t f, int month) const {
    return capacity_schedule[f * static_cast<std::size_t>(n_months) +
                             static_cast<std::size_t>(month)];
  }
  const FacilityKind& kind_of(std::size_t f) const {
    return kinds[static_cast<std::size_t>(kind[f])];
  }
  Service service_of(std::size_t f) const { return kind_of(f).service; }
  /// Run by the education bureau or another public body (公办).
  bool is_public(std::size_t f) const {
    return run_by[f] == RunBy::education_bureau || run_by[f] == RunBy::public_body;
  }
  int kind_index(const std::string& kind_id) const;  ///< -1 when unknown
  int index(const std::string& facility_id) const;   ///< -1 when unknown
  /// Indices of facilities of one service, in file order.
  std::vector<int> of_service(Service s) const;
};

/// Append a facility (its schedules all zero; `run_by` and `inclusive` its kind's defaults);
/// returns its index.
int add_facility(Facilities& fac, const std::string& id, const std::string& name, int kind,
                 int street, double x_m, double y_m, double price, double quality);

/// Read `facilities.yaml` of the base data directory; `start` and `n_months` set the schedule.
/// Facilities without a location get a point drawn inside their street from a hash of their
/// id (the same point in every run and scenario). Throws config::ConfigError.
Facilities load_facilities(const BaseData& base, YearMonth start, int n_months);

const char* service_name(Service s);

/// Full-day nursery places (service nursery) of the district's facilities (not `outside`) in
/// a month, as the plan's item 19 counts them (targets.yaml).
struct NurseryPlaces {
  double all = 0;             ///< every full-day place
  double inclusive = 0;       ///< designated 普惠 places (`inclusive`)
  double public_classes = 0;  ///< places in nursery classes of public kindergartens (公办园托额)
};
NurseryPlaces count_nursery_places(const Facilities& fac, int month);

/// Read a `run_by` value; a ConfigError listing the four spellings when unknown.
RunBy read_run_by(const config::ConfigNode& node);

}  // namespace childsim

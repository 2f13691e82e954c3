// scenario: validation of scenario files.
#include "sim/scenario/scenario.hpp"
#include "sim/config/month_value.hpp"  // config::as_month

#include "sim/calibration/posterior.hpp"  // Posterior, read_posterior
#include "sim/scenario/list_edits.hpp"    // edited_items, id_or_name

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::min, std::find

namespace childsim {
namespace {

// The directory a relative path written in `node` is relative to: that of the file it was
// written in (which, with `extends`, may not be the scenario file itself).
std::filesystem::path directory_of(const config::ConfigNode& node,
                                   const std::filesystem::path& fallback) {
  if (node.origin.file.empty() || node.origin.file.front() == '<') return fallback;
  return std::filesystem::path(node.origin.file).parent_path();
}

void read_fertility(Scenario& s, const config::ConfigNode& node) {
  if (node.is_scalar()) {
    s.fertility_variant = config::as_string(node);
    auto it = s.base.tfr_paths.find(s.fertility_variant);
    if (it == s.base.tfr_paths.end()) {
      std::string names;
      for (const auto& [n, p] : s.base.tfr_paths) names += (names.empty() ? "" : ", ") + n;
      node.fail(
          fmt::format("unknown fertility path '{}' (expected one of: {}, or a map "
                      "'values: {{year: TFR}}')",
                      s.fertility_variant, names));
    }
    s.tfr = it->second;
    return;
  }
  config::MapReader r(node);
  const auto& values = r.required("values");
  r.finish();
  if (!values.is_map() || values.entries.empty()) values.fail("expected a map year: TFR");
  s.fertility_variant = "custom";
  s.tfr = {};
  for (const auto& [year_text, v] : values.entries) {
    int year = 0;
    try {
      year = std::stoi(year_text);
    } catch (...) {
      v.fail(fmt::format("expected a year, got '{}'", year_text));
    }
    s.tfr.points[year] = config::check_range(v, config::as_double(v), 0.0, 5.0);
  }
}

void read_housing(Scenario& s, const config::ConfigNode& list) {
  for (const auto* item : edited_items(list, "housing project", id_or_name)) {
    config::MapReader r(*item);
    r.allow("replace");
    HousingProject h;
    h.name = r.get_string("name", fmt::format("project {}", s.housing.size() + 1));
    h.street = s.base.read_street(r.required("street"));
    const auto& start = r.required("start");
    h.start = config::as_month(start);
    if (h.start < s.start || s.end < h.start)
      start.fail(fmt::format("expected a start within the run ({} to {}), got {}",
                             s.start.to_string(), s.end.to_string(), h.start.to_string()));
    h.households = static_cast<int>(r.require_int("households", 0, 1000000));
    h.months = static_cast<int>(r.get_int("months", 12, 1, 600));
    r.allow("note");
    r.finish();
    s.housing.push_back(std::move(h));
  }
}

// `parameters: {posterior: file}`: the final generation of a calibration, drawn from per
// replicate (calibration/posterior.hpp); parameters overridden by name keep their value.
void read_posterior_key(Scenario& s, const config::ConfigNode& node,
                        const std::filesystem::path& file,
                        const std::vector<std::string>& overridden) {
  const auto path = directory_of(node, file.parent_path()) / config::as_string(node);
  calibration::Posterior p;
  try {
    p = calibration::read_posterior(path);
  } catch (const std::runtime_error& e) {
    node.fail(e.what());
  }
  std::vector<std::size_t> keep;
  for (std::size_t k = 0; k < p.names.size(); ++k) {
    const Parameter* row = s.base.parameters.find(p.names[k]);
    if (!row)
      node.fail(fmt::format("posterior parameter '{}' is not in parameters.yaml of base data '{}'",
                            p.names[k], s.base.dir.string()));
    const auto col = p.particles.col(static_cast<Eigen::Index>(k));
    if (col.minCoeff() < row->lo || col.maxCoeff() > row->hi)
      node.fail(
          fmt::format("posterior values of '{}' ({} to {}) lie outside its range [{}, {}] "
                      "in parameters.yaml",
                      p.names[k], col.minCoeff(), col.maxCoeff(), row->lo, row->hi));
    if (std::find(overridden.begin(), overridden.end(), p.names[k]) == overridden.end())
      keep.push_back(k);
  }
  if (!keep.empty()) s.posterior = std::make_shared<const calibration::Posterior>(p.columns(keep));
}

}  // namespace

Scenario scenario_from_tree(const config::ConfigNode& root, const std::filesystem::path& file) {
  Scenario s;
  s.file = file;
  s.resolved_yaml = config::to_yaml(root);
  config::MapReader r(root);
  s.name = r.get_string("name", file.stem().string());
  s.description = r.get_string("description", "");

  const auto& base = r.required("base_data");
  const auto base_dir = directory_of(base, file.parent_path()) / config::as_string(base);
  if (!std::filesystem::is_directory(base_dir))
    base.fail(fmt::format("base data directory '{}' does not exist", base_dir.string()));
  s.base = load_base_data(base_dir);

  if (const auto* n = r.optional("start")) s.start = config::as_month(*n);
  if (const auto* n = r.optional("end")) s.end = config::as_month(*n);
  if (!(s.start < s.end) && !(s.start == s.end))
    (r.optional("end") ? *r.optional("end") : root).fail("expected end on or after start");
  if (s.n_months() > 12 * 100) r.required("end").fail("expected a horizon of at most 100 years");
  s.replicates = static_cast<int>(r.get_int("replicates", 1, 1, 10000));
  s.seed = static_cast<std::uint64_t>(r.get_int("seed", 1, 0, INT64_MAX));
  s.population_scale = r.get_double("population_scale", 1.0, 0.001, 10.0);
  s.services = r.get_bool("services", true);

  s.tfr = s.base.tfr_paths.at("medium");
  if (const auto* demo = r.optional("demography")) {
    config::MapReader d(*demo);
    if (const auto* f = d.optional("fertility")) read_fertility(s, *f);
    if (const auto* h = d.optional("new_housing")) read_housing(s, *h);
    d.finish();
  }
  const config::ConfigNode* policy_node = r.optional("policy");
  if (policy_node) {
    config::MapReader pr(*policy_node);
    s.policy = read_policy(pr);
    // Numeric levers are parameters with ranges; the policy section is their planner's name.
    if (const auto* n = pr.optional("childcare_subsidy_year"))
      s.base.parameters.set("policy.childcare_subsidy_year", config::as_double(*n), *n);
    if (const auto* n = pr.optional("babyroom_sessions_per_month"))
      s.base.parameters.set("babyroom.sessions_per_month", config::as_double(*n), *n);
    pr.finish();
  }
  const config::ConfigNode* investments_node = r.optional("investments");
  const config::ConfigNode* targets_node = r.optional("targets");  // added to targets.yaml's
  if (const auto* params = r.optional("parameters")) {
    if (!params->is_map()) params->fail("expected a map 'name: value'");
    std::vector<std::string> overridden;
    if (policy_node) {
      if (policy_node->find("childcare_subsidy_year"))
        overridden.push_back("policy.childcare_subsidy_year");
      if (policy_node->find("babyroom_sessions_per_month"))
        overridden.push_back("babyroom.sessions_per_month");
    }
    const config::ConfigNode* posterior_node = nullptr;
    for (const auto& [name, v] : params->entries) {
      if (name == "posterior") {
        posterior_node = &v;
        continue;
      }
      s.base.parameters.set(name, config::as_double(v), v);
      overridden.push_back(name);
    }
    if (posterior_node) read_posterior_key(s, *posterior_node, file, overridden);
  }
  r.finish();
  s.targets = load_targets(s.base.dir / "targets.yaml");
  if (targets_node) apply_scenario_targets(*targets_node, s.targets);
  s.facilities = load_facilities(s.base, s.start, s.n_months());
  s.facilities.public_hukou_only = s.policy.public_hukou_only;
  if (investments_node)
    s.investments = apply_investments(*investments_node, s.base, s.start, s.end, s.facilities);
  return s;
}

void override_run(Scenario& sc, int replicates, std::int64_t seed) {
  if (replicates > 0) sc.replicates = replicates;
  if (seed >= 0) sc.seed = static_cast<std::uint64_t>(seed);
  if (replicates > 0 || seed >= 0)
    sc.resolved_yaml +=
        fmt::format("# overridden at run time: replicates: {}, seed: {}\n", sc.replicates, sc.seed);
}

Scenario load_scenario(const std::filesystem::path& file) {
  return scenario_from_tree(config::load_config_file(file), file);
}

Scenario load_scenario_text(const std::string& text, const std::filesystem::path& base_dir,
                            const std::string& name) {
  return scenario_from_tree(config::load_config_text(text, name, base_dir), base_dir / name);
}

}  // namespace childsim

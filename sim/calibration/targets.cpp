// targets: reading the calibration file and reducing outputs to target statistics.
#include "sim/calibration/targets.hpp"

#include "sim/core/time.hpp"          // YearMonth, months_between
#include "sim/io/output_catalog.hpp"  // find_output, output_catalog

#include <fmt/format.h>  // fmt::format

#include <algorithm>  // std::find, std::max
#include <cmath>      // std::isfinite, std::sqrt
#include <fstream>    // std::ifstream
#include <iterator>   // std::istreambuf_iterator
#include <limits>     // std::numeric_limits
#include <set>        // std::set

namespace childsim::calibration {
namespace {

namespace fs = std::filesystem;
using config::ConfigNode;
using config::MapReader;

// The directory a relative path written in `node` is relative to (as in scenario.cpp).
fs::path directory_of(const ConfigNode& node, const fs::path& fallback) {
  if (node.origin.file.empty() || node.origin.file.front() == '<') return fallback;
  return fs::path(node.origin.file).parent_path();
}

// Replace (or add) `key` of map `map` by `value`.
void set_entry(ConfigNode& map, const std::string& key, const ConfigNode& value) {
  for (auto& [name, node] : map.entries)
    if (name == key) {
      node = value;
      return;
    }
  map.entries.emplace_back(key, value);
}

std::string join(const std::vector<std::string>& words) {
  std::string s;
  for (const auto& w : words) s += (s.empty() ? "" : ", ") + w;
  return s;
}

// The labels of every dimension of the scenario's outputs, as text (integers printed), and
// the kind of each facility.
struct Labels {
  std::map<std::string, std::vector<std::string>> by_dim;
  std::vector<std::string> facility_kind;
};

Labels labels_of(const Scenario& sc) {
  const io::Recorder rec(sc, 1);
  const io::Dataset ds = rec.to_dataset({});
  Labels l;
  for (const auto& d : ds.dims) {
    auto& out = l.by_dim[d.name];
    std::visit(
        [&](const auto& values) {
          for (const auto& v : values) {
            if constexpr (std::is_same_v<std::decay_t<decltype(v)>, std::string>)
              out.push_back(v);
            else
              out.push_back(fmt::format("{}", v));
          }
        },
        d.values);
  }
  if (const auto* v = ds.find_variable("facility_kind"))
    l.facility_kind = std::get<std::vector<std::string>>(v->data);
  return l;
}

std::vector<std::string> known_outputs() {
  std::vector<std::string> names;
  for (const auto& o : io::output_catalog()) names.push_back(o.name);
  return names;
}

// An output and its `select:` / `combine:` read from `r` (a target or its denominator).
OutputReduction read_reduction(MapReader& r, const Labels& labels) {
  OutputReduction red;
  const ConfigNode& out_node = r.required("output");
  red.output = config::as_string(out_node);
  const io::OutputSpec* spec = io::find_output(red.output);
  if (!spec) {
    out_node.fail(fmt::format("'{}' is not an output of childsim (outputs: {})", red.output,
                              join(known_outputs())));
  }
  red.real = spec->real;
  std::size_t k = 0;
  red.has_replicate = !spec->dims.empty() && spec->dims[0] == "replicate";
  if (red.has_replicate) ++k;
  if (k < spec->dims.size() && (spec->dims[k] == "time" || spec->dims[k] == "year")) {
    red.yearly = spec->dims[k] == "year";
    red.n_index = labels.by_dim.at(spec->dims[k]).size();
    ++k;
  } else {
    out_node.fail(
        fmt::format("output '{}' has no time or year dimension; a target needs one", red.output));
  }
  const std::vector<std::string> rest(spec->dims.begin() + static_cast<long>(k), spec->dims.end());
  for (const auto& d : rest) {
    red.sizes.push_back(labels.by_dim.at(d).size());
    std::vector<std::size_t> all(red.sizes.back());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    red.picks.push_back(std::move(all));
  }
  if (const ConfigNode* sel = r.optional("select")) {
    if (!sel->is_map() || sel->entries.empty())
      sel->fail("expected a map 'dimension: [labels]', e.g. {age: [0, 1, 2]}");
    for (const auto& [dim, list] : sel->entries) {
      const bool by_kind = dim == "facility_kind";
      const std::string target_dim = by_kind ? "facility" : dim;
      const auto it = std::find(rest.begin(), rest.end(), target_dim);
      if (it == rest.end())
        list.fail(fmt::format("output '{}' has no dimension '{}' to select from (it has: {})",
                              red.output, target_dim, join(rest)));
      if (!list.is_sequence() || list.items.empty()) list.fail("expected a list of labels");
      const auto pos = static_cast<std::size_t>(it - rest.begin());
      const std::vector<std::string>& names =
          by_kind ? labels.facility_kind : labels.by_dim.at(target_dim);
      std::vector<std::size_t> keep;
      for (const auto& item : list.items) {
        const std::string label = config::as_string(item);
        bool found = false;
        for (std::size_t i = 0; i < names.size(); ++i)
          if (names[i] == label) {
            found = true;
            if (std::find(keep.begin(), keep.end(), i) == keep.end()) keep.push_back(i);
          }
        if (!found) {
          std::set<std::string> valid(names.begin(), names.end());
          item.fail(fmt::format("unknown {} '{}' (expected one of: {})",
                                by_kind ? "facility kind" : target_dim, label,
                                join(std::vector<std::string>(valid.begin(), valid.end()))));
        }
      }
      std::sort(keep.begin(), keep.end());
      red.picks[pos] = std::move(keep);
    }
  }
  red.mean = r.get_choice("combine", "sum", {"sum", "mean"}) == "mean";
  return red;
}

std::vector<int> read_int_list(const ConfigNode& node, int lo, int hi) {
  std::vector<int> v;
  if (node.is_scalar()) {
    v.push_back(static_cast<int>(
        config::check_range(node, static_cast<double>(config::as_int(node)), lo, hi)));
    return v;
  }
  if (!node.is_sequence() || node.items.empty())
    node.fail("expected a number or a list of numbers");
  for (const auto& item : node.items)
    v.push_back(static_cast<int>(
        config::check_range(item, static_cast<double>(config::as_int(item)), lo, hi)));
  return v;
}

// `window: {from: {years: -6, month: 9}, to: {years: -3, month: 8}}` of a lagged ratio.
LagWindow read_window(const ConfigNode& node) {
  MapReader r(node);
  auto end = [&](const char* key, int& years, int& month) {
    MapReader e(r.required(key));
    years = static_cast<int>(e.require_int("years", -100, 0));
    month = static_cast<int>(e.require_int("month", 1, 12));
    e.finish();
  };
  LagWindow w;
  end("from", w.from_years, w.from_month);
  end("to", w.to_years, w.to_month);
  r.finish();
  if (w.to_years * 12 + w.to_month < w.from_years * 12 + w.from_month)
    node.fail("expected the window's 'from' month not after its 'to' month");
  return w;
}

Target read_target(const ConfigNode& item, const Scenario& sc, const Labels& labels,
                   std::set<std::string>& ids) {
  MapReader r(item);
  Target t;
  t.origin = item.origin;
  const ConfigNode& id = r.required("id");
  t.id = config::as_string(id);
  if (t.id.empty() ||
      t.id.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") != std::string::npos)
    id.fail("expected an id of lower-case letters, digits and '_'");
  if (!ids.insert(t.id).second) id.fail(fmt::format("target '{}' is defined twice", t.id));
  t.description = r.require_string("description");
  t.value = r.require_double("value", -1e300, 1e300);
  t.sd = r.require_double("sd", 0.0, 1e300);
  if (!(t.sd > 0)) r.required("sd").fail("expected sd > 0 (the target's uncertainty)");
  t.source = r.require_string("source");
  t.basis = r.get_choice("basis", "", {"observed", "derived", "assumed", "policy_target"});
  if (t.basis.empty())
    throw config::ConfigError(item.origin, item.path + ".basis",
                              "missing required key (observed, derived, assumed or policy_target)");
  const ConfigNode& shanghai = r.required("scaled_from_shanghai");
  t.scaled_from_shanghai = config::as_bool(shanghai);
  t.fit = r.get_bool("fit", true);
  r.allow("note");

  const ConfigNode* year = r.optional("year");
  const ConfigNode* years = r.optional("years");
  if ((year == nullptr) == (years == nullptr))
    item.fail("each target needs exactly one of 'year:' or 'years:'");
  const ConfigNode& year_node = year ? *year : *years;
  t.years = read_int_list(year_node, sc.start.year, sc.end.year);
  if (const ConfigNode* m = r.optional("months")) t.months = read_int_list(*m, 1, 12);

  t.numerator = read_reduction(r, labels);
  const std::string agg =
      r.get_choice("aggregate", "", {"sum", "mean", "last", "ratio", "lagged_ratio"});
  if (agg.empty())
    throw config::ConfigError(item.origin, item.path + ".aggregate",
                              "missing required key (sum, mean, last, ratio or lagged_ratio)");
  t.aggregate = agg == "sum"     ? Aggregate::sum
                : agg == "mean"  ? Aggregate::mean
                : agg == "last"  ? Aggregate::last
                : agg == "ratio" ? Aggregate::ratio
                                 : Aggregate::lagged_ratio;
  const ConfigNode* den = r.optional("denominator");
  if (t.aggregate == Aggregate::lagged_ratio) {
    if (!den) r.required("denominator");
    if (!den->is_map())
      den->fail(
          "expected a map {output: ..., window: {from: {years: -3, month: 1}, to: {years: -3, "
          "month: 12}}} (a lagged ratio needs the window of its denominator)");
    MapReader dr(*den);
    t.denominator = read_reduction(dr, labels);
    t.window = read_window(dr.required("window"));
    dr.finish();
    if (t.numerator.yearly || t.denominator.yearly)
      den->fail("a lagged ratio needs monthly outputs (numerator and denominator)");
  } else if (t.aggregate == Aggregate::ratio) {
    if (!den) r.required("denominator");
    if (den->is_scalar()) {
      ConfigNode wrapped;
      wrapped.kind = ConfigNode::Kind::map;
      wrapped.origin = den->origin;
      wrapped.path = den->path;
      wrapped.entries.emplace_back("output", *den);
      MapReader dr(wrapped);
      t.denominator = read_reduction(dr, labels);
      dr.finish();
    } else {
      MapReader dr(*den);
      t.denominator = read_reduction(dr, labels);
      dr.finish();
    }
    if (t.numerator.yearly != t.denominator.yearly)
      den->fail("numerator and denominator must both be monthly or both yearly outputs");
  } else if (den) {
    den->fail("a denominator is only used with 'aggregate: ratio'");
  }
  const ConfigNode* scale = r.optional("scale");
  t.scale = scale ? config::as_bool(*scale) : false;
  if (t.scale && (t.aggregate == Aggregate::ratio || t.aggregate == Aggregate::lagged_ratio))
    scale->fail("a ratio does not depend on the population scale; remove 'scale: true'");
  if (t.numerator.yearly && !t.months.empty())
    r.required("months").fail(
        fmt::format("'{}' is a yearly output; 'months' does not apply", t.numerator.output));
  r.finish();

  for (int y : t.years) {
    std::vector<int> idx;
    if (t.numerator.yearly) {
      idx.push_back(y - sc.start.year);
    } else {
      for (int m = 0; m < sc.n_months(); ++m) {
        const YearMonth ym = sc.start.plus(m);
        if (ym.year != y) continue;
        if (!t.months.empty() &&
            std::find(t.months.begin(), t.months.end(), ym.month) == t.months.end())
          continue;
        idx.push_back(m);
      }
    }
    if (idx.empty())
      year_node.fail(fmt::format("no simulated month of {} is selected (run {} to {})", y,
                                 sc.start.to_string(), sc.end.to_string()));
    t.indices_by_year.push_back(std::move(idx));
    if (t.aggregate == Aggregate::lagged_ratio) {
      const YearMonth from{y + t.window.from_years, t.window.from_month};
      const YearMonth to{y + t.window.to_years, t.window.to_month};
      if (from < sc.start || sc.end < to)
        year_node.fail(fmt::format(
            "the denominator window of target year {} ({} to {}) is not inside the run ({} to "
            "{}); a lagged ratio needs every month of its window simulated",
            y, from.to_string(), to.to_string(), sc.start.to_string(), sc.end.to_string()));
      std::vector<int> w;
      for (YearMonth m = from; m <= to; m = m.plus(1)) w.push_back(months_between(sc.start, m));
      t.window_indices_by_year.push_back(std::move(w));
    }
  }
  return t;
}

// The latest year any target names (a first look, before validation, to set the horizon).
int last_target_year(const ConfigNode* targets) {
  int last = std::numeric_limits<int>::min();
  if (!targets || !targets->is_sequence()) return last;
  for (const auto& item : targets->items) {
    if (!item.is_map()) continue;
    for (const char* key : {"year", "years"}) {
      const ConfigNode* n = item.find(key);
      if (!n) continue;
      const std::vector<const ConfigNode*> nodes = [&] {
        std::vector<const ConfigNode*> v;
        if (n->is_scalar()) v.push_back(n);
        for (const auto& i : n->items) v.push_back(&i);
        return v;
      }();
      for (const ConfigNode* y : nodes) {
        try {
          last = std::max(last, static_cast<int>(config::as_int(*y)));
        } catch (const config::ConfigError&) {  // reported by the full validation
        }
      }
    }
  }
  return last;
}

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

double OutputReduction::value(const io::Recorder& rec, int replicate, int index) const {
  std::size_t block = 1;
  for (std::size_t s : sizes) block *= s;
  const std::size_t base =
      (has_replicate ? static_cast<std::size_t>(replicate) * n_index * block : 0) +
      static_cast<std::size_t>(index) * block;
  const std::int32_t* ints = real ? nullptr : rec.data(output).data() + base;
  const double* reals = real ? rec.real_data(output).data() + base : nullptr;
  std::vector<std::size_t> pos(picks.size(), 0);
  for (const auto& p : picks)
    if (p.empty()) return 0.0;
  double sum = 0.0;
  std::size_t count = 0;
  while (true) {
    std::size_t off = 0;
    for (std::size_t k = 0; k < picks.size(); ++k) off = off * sizes[k] + picks[k][pos[k]];
    sum += real ? reals[off] : static_cast<double>(ints[off]);
    ++count;
    std::size_t k = picks.size();
    while (k > 0 && ++pos[k - 1] == picks[k - 1].size()) pos[--k] = 0;
    if (k == 0) break;
  }
  return mean ? sum / static_cast<double>(count) : sum;
}

Prior CalibrationSpec::prior() const {
  Prior p;
  const auto d = static_cast<Eigen::Index>(parameters.size());
  p.lo.resize(d);
  p.hi.resize(d);
  for (Eigen::Index k = 0; k < d; ++k) {
    const auto& par = parameters[static_cast<std::size_t>(k)];
    p.names.push_back(par.name);
    p.lo[k] = par.lo;
    p.hi[k] = par.hi;
  }
  return p;
}

std::vector<std::string> CalibrationSpec::target_ids() const {
  std::vector<std::string> ids;
  for (const auto& t : targets) ids.push_back(t.id);
  return ids;
}

double target_statistic(const Target& t, const io::Recorder& rec, double population_scale) {
  const int reps = rec.replicates();
  double total = 0.0;
  for (int r = 0; r < reps; ++r) {
    double over_years = 0.0;
    for (std::size_t y = 0; y < t.indices_by_year.size(); ++y) {
      const auto& idx = t.indices_by_year[y];
      double v = 0.0;
      switch (t.aggregate) {
        case Aggregate::sum:
        case Aggregate::mean:
          for (int i : idx) v += t.numerator.value(rec, r, i);
          if (t.aggregate == Aggregate::mean) v /= static_cast<double>(idx.size());
          break;
        case Aggregate::last:
          v = t.numerator.value(rec, r, idx.back());
          break;
        case Aggregate::ratio: {
          double num = 0.0, den = 0.0;
          for (int i : idx) {
            num += t.numerator.value(rec, r, i);
            den += t.denominator.value(rec, r, i);
          }
          v = num / den;  // NaN or ∞ when den = 0: the distance is then +∞
          break;
        }
        case Aggregate::lagged_ratio: {
          double num = 0.0, den = 0.0;
          for (int i : idx) num += t.numerator.value(rec, r, i);
          num /= static_cast<double>(idx.size());
          for (int i : t.window_indices_by_year[static_cast<std::size_t>(y)])
            den += t.denominator.value(rec, r, i);
          v = num / den;
          break;
        }
      }
      over_years += v;
    }
    total += over_years / static_cast<double>(t.indices_by_year.size());
  }
  double stat = total / static_cast<double>(reps);
  if (t.scale) stat /= population_scale;
  return stat;
}

double target_distance(const std::vector<Target>& targets, const Eigen::VectorXd& statistics) {
  double sum = 0.0;
  int n = 0;
  for (std::size_t k = 0; k < targets.size(); ++k) {
    if (!targets[k].fit) continue;
    const double s = statistics[static_cast<Eigen::Index>(k)];
    if (!std::isfinite(s)) return std::numeric_limits<double>::infinity();
    const double z = (s - targets[k].value) / targets[k].sd;
    sum += z * z;
    ++n;
  }
  return std::sqrt(sum / n);
}

CalibrationSpec load_calibration(const fs::path& file) {
  if (!fs::is_regular_file(file))
    throw config::ConfigError(config::Origin{file.string(), 0, 0}, "",
                              fmt::format("cannot read calibration file '{}'", file.string()));
  const ConfigNode root = config::load_config_file(file);
  CalibrationSpec c;
  c.file = file;
  c.text = read_text(file);
  MapReader r(root);
  r.allow("name");
  r.allow("description");

  // The base scenario, with the calibration's scale, replicates and horizon.
  const ConfigNode& sc_node = r.required("scenario");
  const fs::path sc_path = directory_of(sc_node, file.parent_path()) / config::as_string(sc_node);
  if (!fs::is_regular_file(sc_path))
    sc_node.fail(fmt::format("scenario file '{}' does not exist", sc_path.string()));
  ConfigNode tree = config::load_config_file(sc_path);
  c.population_scale = r.require_double("population_scale", 0.001, 10.0);
  set_entry(tree, "population_scale", r.required("population_scale"));
  c.replicates = static_cast<int>(r.get_int("replicates", 1, 1, 1000));
  if (const ConfigNode* n = r.optional("replicates")) {
    set_entry(tree, "replicates", *n);
  } else {
    ConfigNode one;
    one.kind = ConfigNode::Kind::scalar;
    one.scalar = "1";
    one.origin = root.origin;
    one.path = "replicates";
    set_entry(tree, "replicates", one);
  }
  c.seed = static_cast<std::uint64_t>(r.require_int("seed", 0, INT64_MAX));
  const ConfigNode* targets_node = r.optional("targets");
  if (const ConfigNode* end = r.optional("end")) {
    set_entry(tree, "end", *end);
  } else {
    const int last = last_target_year(targets_node);
    if (last != std::numeric_limits<int>::min()) {
      ConfigNode end_node;
      end_node.kind = ConfigNode::Kind::scalar;
      end_node.scalar = fmt::format("{}-12", last);
      end_node.origin = targets_node->origin;
      end_node.path = "end";
      set_entry(tree, "end", end_node);
    }
  }
  c.scenario = scenario_from_tree(tree, sc_path);
  if (c.scenario.posterior)
    sc_node.fail(
        "the scenario draws its parameters from a posterior (parameters: {posterior: "
        "...}); calibrate from a scenario without one");

  // Parameters to fit.
  const ConfigNode& params = r.required("parameters");
  if (!params.is_sequence() || params.items.empty())
    params.fail("expected a list of parameters to calibrate (names from parameters.yaml)");
  for (const auto& item : params.items) {
    CalibratedParameter p;
    p.node = item;
    const ConfigNode* prior = nullptr;
    if (item.is_scalar()) {
      p.name = item.scalar;
    } else {
      MapReader pr(item);
      p.name = pr.require_string("name");
      prior = pr.optional("prior");
      pr.allow("note");
      pr.finish();
    }
    const Parameter* row = c.scenario.base.parameters.find(p.name);
    if (!row) {
      std::string known;
      for (const auto& q : c.scenario.base.parameters.rows())
        if (q.lo < q.hi) known += (known.empty() ? "" : ", ") + q.name;
      item.fail(fmt::format("unknown parameter '{}' (parameters with a range: {})", p.name, known));
    }
    for (const auto& q : c.parameters)
      if (q.name == p.name) item.fail(fmt::format("parameter '{}' is listed twice", p.name));
    p.unit = row->unit;
    p.default_value = row->value;
    p.lo = row->lo;
    p.hi = row->hi;
    if (prior) {
      MapReader lr(*prior);
      p.lo = lr.require_double("lo", row->lo, row->hi);
      p.hi = lr.require_double("hi", row->lo, row->hi);
      lr.finish();
      if (!(p.lo < p.hi)) prior->fail("expected lo < hi");
    } else if (!(row->lo < row->hi)) {
      item.fail(fmt::format("parameter '{}' has no range to calibrate over ([{}, {}])", p.name,
                            row->lo, row->hi));
    }
    c.parameters.push_back(std::move(p));
  }

  // ABC-SMC settings.
  if (const ConfigNode* abc = r.optional("abc")) {
    MapReader ar(*abc);
    c.abc.particles = static_cast<int>(ar.get_int("particles", 100, 2, 100000));
    c.abc.max_generations = static_cast<int>(ar.get_int("max_generations", 5, 1, 1000));
    c.abc.tolerance_quantile = ar.get_double("tolerance_quantile", 0.5, 0.01, 1.0);
    c.abc.min_acceptance_rate = ar.get_double("min_acceptance_rate", 0.01, 0.0, 1.0);
    c.abc.min_tolerance = ar.get_double("min_tolerance", 0.0, 0.0, 1e300);
    c.abc.max_attempts = static_cast<int>(ar.get_int("max_attempts_per_particle", 10000, 1, 65535));
    ar.finish();
  }
  c.abc.seed = c.seed;

  // Targets.
  if (!targets_node) r.required("targets");
  if (!targets_node->is_sequence() || targets_node->items.empty())
    targets_node->fail("expected a list of targets");
  const Labels labels = labels_of(c.scenario);
  std::set<std::string> ids;
  for (const auto& item : targets_node->items)
    c.targets.push_back(read_target(item, c.scenario, labels, ids));
  if (std::none_of(c.targets.begin(), c.targets.end(), [](const Target& t) { return t.fit; }))
    targets_node->fail("no target has 'fit: true': the distance would be empty");
  r.finish();
  return c;
}

}  // namespace childsim::calibration

// recorder: output arrays and their labels.
#include "sim/io/recorder.hpp"

#include "sim/core/check.hpp"  // CHILDSIM_CHECK

namespace childsim::io {

Recorder::Recorder(const Scenario& sc, int replicates) : sc_(sc), replicates_(replicates) {
  for (const auto& o : output_catalog()) {
    std::size_t n = 1;
    for (const auto& d : o.dims) n *= dim_size(d);
    data_[o.name].assign(n, 0);
  }
}

std::size_t Recorder::dim_size(const std::string& dim) const {
  if (dim == "replicate") return static_cast<std::size_t>(replicates_);
  if (dim == "time") return static_cast<std::size_t>(sc_.n_months());
  if (dim == "street") return sc_.base.streets.size();
  if (dim == "age") return 18;
  if (dim == "woman_age") return 32;
  CHILDSIM_CHECK(false, "unknown dimension " + dim);
}

std::size_t Recorder::block_size(const std::string& name) const {
  const OutputSpec* o = find_output(name);
  CHILDSIM_CHECK(o, "unknown output " + name);
  std::size_t n = 1;
  for (std::size_t i = 1; i < o->dims.size(); ++i)
    if (o->dims[i] != "time") n *= dim_size(o->dims[i]);
  return n;
}

std::int32_t* Recorder::block(const std::string& name, int replicate, int month) {
  const OutputSpec* o = find_output(name);
  CHILDSIM_CHECK(o, "unknown output " + name);
  const bool has_time = o->dims.size() > 1 && o->dims[1] == "time";
  CHILDSIM_CHECK(has_time == (month >= 0), "month given for " + name);
  const std::size_t per_month = block_size(name);
  const std::size_t per_rep = per_month * (has_time ? static_cast<std::size_t>(sc_.n_months()) : 1);
  std::size_t offset = static_cast<std::size_t>(replicate) * per_rep;
  if (has_time) offset += static_cast<std::size_t>(month) * per_month;
  return data_.at(name).data() + offset;
}

Dataset Recorder::to_dataset(const Attributes& global_attrs) const {
  Dataset ds;
  ds.attrs = global_attrs;
  std::vector<std::int64_t> reps(static_cast<std::size_t>(replicates_));
  for (std::size_t i = 0; i < reps.size(); ++i) reps[i] = static_cast<std::int64_t>(i);
  ds.dims.push_back({"replicate", reps, {{"long_name", std::string("replicate")}}});
  std::vector<std::int64_t> days;
  for (int t = 0; t < sc_.n_months(); ++t) days.push_back(days_between(sc_.start, sc_.start.plus(t)));
  ds.dims.push_back({"time", days,
                     {{"units", "days since " + sc_.start.to_string() + "-01"},
                      {"calendar", std::string("proleptic_gregorian")},
                      {"long_name", std::string("first day of the simulated month")}}});
  std::vector<std::string> ids, names_zh, names_en;
  std::vector<double> xs, ys, areas;
  for (const auto& s : sc_.base.streets) {
    ids.push_back(s.id);
    names_zh.push_back(s.name_zh);
    names_en.push_back(s.name_en);
    xs.push_back(s.x_m);
    ys.push_back(s.y_m);
    areas.push_back(s.area_km2);
  }
  ds.dims.push_back({"street", ids, {{"long_name", std::string("street-level unit (pinyin id)")}}});
  std::vector<std::int64_t> ages(18), wages(32);
  for (int a = 0; a < 18; ++a) ages[static_cast<std::size_t>(a)] = a;
  for (int a = 0; a < 32; ++a) wages[static_cast<std::size_t>(a)] = 18 + a;
  ds.dims.push_back({"age", ages, {{"units", std::string("years")},
                                   {"long_name", std::string("completed years of age")}}});
  ds.dims.push_back({"woman_age", wages, {{"units", std::string("years")},
                                          {"long_name", std::string("woman's completed years of age")}}});

  ds.variables.push_back({"street_name", {"street"}, names_zh,
                          {{"long_name", std::string("street name (Chinese)")}}});
  ds.variables.push_back({"street_name_en", {"street"}, names_en,
                          {{"long_name", std::string("street name (English)")}}});
  ds.variables.push_back({"street_x", {"street"}, xs,
                          {{"units", std::string("m")},
                           {"long_name", std::string("street centre, metres east of the reference point")}}});
  ds.variables.push_back({"street_y", {"street"}, ys,
                          {{"units", std::string("m")},
                           {"long_name", std::string("street centre, metres north of the reference point")}}});
  ds.variables.push_back({"street_area", {"street"}, areas,
                          {{"units", std::string("km2")}, {"long_name", std::string("street area")}}});
  const std::string aux = "street_name street_name_en street_x street_y street_area";
  for (const auto& o : output_catalog()) {
    Attributes a{{"units", o.units}, {"long_name", o.long_name}, {"description", o.description}};
    for (const auto& d : o.dims)
      if (d == "street") a["coordinates"] = aux;
    ds.variables.push_back({o.name, o.dims, data_.at(o.name), a});
  }
  return ds;
}

}  // namespace childsim::io

// recorder: output arrays and their labels.
#include "sim/io/recorder.hpp"

#include "sim/core/check.hpp"  // CHILDSIM_CHECK

namespace childsim::io {

Recorder::Recorder(const Scenario& sc, int replicates, int first_replicate, bool allocate)
    : sc_(sc), replicates_(replicates), first_replicate_(first_replicate) {
  for (int y = sc.start.year; y <= sc.end.year; ++y) years_.push_back(y);
  for (const auto& o : output_catalog()) {
    std::size_t n = 1;
    for (const auto& d : o.dims) n *= dim_size(d);
    if (!allocate) n = 0;
    if (o.real)
      reals_[o.name].assign(n, 0.0);
    else
      ints_[o.name].assign(n, 0);
  }
}

int Recorder::year_index(int month) const {
  return sc_.start.plus(month).year - sc_.start.year;
}

std::size_t Recorder::dim_size(const std::string& dim) const {
  if (dim == "year") return years_.size();
  return dimension_length(sc_, replicates_, dim);
}

std::size_t dimension_length(const Scenario& sc, int replicates, const std::string& dim) {
  if (dim == "replicate") return static_cast<std::size_t>(replicates);
  if (dim == "time") return static_cast<std::size_t>(sc.n_months());
  if (dim == "year") return static_cast<std::size_t>(sc.end.year - sc.start.year + 1);
  if (dim == "street") return sc.base.streets.size();
  if (dim == "age") return 18;
  if (dim == "parity") return 3;
  if (dim == "woman_age") return 32;
  if (dim == "sex") return 2;
  if (dim == "age_group") return 18;
  if (dim == "facility") return sc.facilities.size();
  if (dim == "kind") return sc.facilities.kinds.size();
  if (dim == "target") return sc.targets.size();
  if (dim == "parameter") return sc.base.parameters.rows().size();
  CHILDSIM_CHECK(false, "unknown dimension " + dim);
}

std::size_t Recorder::block_size(const std::string& name) const {
  const OutputSpec* o = find_output(name);
  CHILDSIM_CHECK(o, "unknown output " + name);
  std::size_t n = 1;
  for (const auto& d : o->dims)
    if (d != "replicate" && d != "time" && d != "year") n *= dim_size(d);
  return n;
}

std::size_t Recorder::elements(const std::string& name) const {
  const OutputSpec* o = find_output(name);
  CHILDSIM_CHECK(o, "unknown output " + name);
  std::size_t n = 1;
  for (const auto& d : o->dims) n *= dim_size(d);
  return n;
}

std::size_t Recorder::offset(const OutputSpec& o, int replicate, int index) const {
  std::size_t k = 0;
  const bool has_rep = !o.dims.empty() && o.dims[0] == "replicate";
  const std::size_t after_rep = has_rep ? 1 : 0;
  const bool has_index =
      o.dims.size() > after_rep && (o.dims[after_rep] == "time" || o.dims[after_rep] == "year");
  CHILDSIM_CHECK(has_index == (index >= 0), "index given (or missing) for " + o.name);
  const std::size_t per_index = block_size(o.name);
  const std::size_t n_index = has_index ? dim_size(o.dims[after_rep]) : 1;
  if (has_rep) {
    CHILDSIM_CHECK(replicate >= first_replicate_ && replicate < first_replicate_ + replicates_,
                   "replicate out of range for " + o.name);
    k += static_cast<std::size_t>(replicate - first_replicate_) * n_index * per_index;
  }
  if (has_index) {
    CHILDSIM_CHECK(static_cast<std::size_t>(index) < n_index, "index out of range for " + o.name);
    k += static_cast<std::size_t>(index) * per_index;
  }
  return k;
}

std::int32_t* Recorder::block(const std::string& name, int replicate, int index) {
  const OutputSpec* o = find_output(name);
  CHILDSIM_CHECK(o && !o->real, "unknown int32 output " + name);
  return ints_.at(name).data() + offset(*o, replicate, index);
}

double* Recorder::real_block(const std::string& name, int replicate, int index) {
  const OutputSpec* o = find_output(name);
  CHILDSIM_CHECK(o && o->real, "unknown float64 output " + name);
  return reals_.at(name).data() + offset(*o, replicate, index);
}

Dataset Recorder::to_dataset(const Attributes& global_attrs) const {
  Dataset ds;
  ds.attrs = global_attrs;
  auto text = [](const char* s) { return AttributeValue(std::string(s)); };
  std::vector<std::int64_t> reps(static_cast<std::size_t>(replicates_));
  for (std::size_t i = 0; i < reps.size(); ++i) reps[i] = static_cast<std::int64_t>(i);
  ds.dims.push_back({"replicate", reps, {{"long_name", text("replicate")}}});
  std::vector<std::int64_t> days;
  for (int t = 0; t < sc_.n_months(); ++t)
    days.push_back(days_between(sc_.start, sc_.start.plus(t)));
  ds.dims.push_back({"time",
                     days,
                     {{"units", "days since " + sc_.start.to_string() + "-01"},
                      {"calendar", text("proleptic_gregorian")},
                      {"long_name", text("first day of the simulated month")}}});
  ds.dims.push_back({"year",
                     std::vector<std::int64_t>(years_.begin(), years_.end()),
                     {{"long_name", text("calendar year")}}});
  std::vector<std::string> ids, names_zh, names_en, districts;
  std::vector<double> xs, ys, areas;
  for (const auto& s : sc_.base.streets) {
    ids.push_back(s.id);
    names_zh.push_back(s.name_zh);
    const auto d = static_cast<std::size_t>(s.district);
    districts.push_back(d < sc_.base.districts.size() ? sc_.base.districts[d].id : std::string{});
    names_en.push_back(s.name_en);
    xs.push_back(s.x_m);
    ys.push_back(s.y_m);
    areas.push_back(s.area_km2);
  }
  ds.dims.push_back({"street", ids, {{"long_name", text("street-level unit (pinyin id)")}}});
  std::vector<std::int64_t> ages(18), wages(32);
  for (int a = 0; a < 18; ++a) ages[static_cast<std::size_t>(a)] = a;
  for (int a = 0; a < 32; ++a) wages[static_cast<std::size_t>(a)] = 18 + a;
  ds.dims.push_back(
      {"age", ages, {{"units", text("years")}, {"long_name", text("completed years of age")}}});
  ds.dims.push_back({"parity",
                     std::vector<std::string>{"1", "2", "3+"},
                     {{"long_name", text("birth order among the mother's children")}}});
  ds.dims.push_back(
      {"woman_age",
       wages,
       {{"units", text("years")}, {"long_name", text("woman's completed years of age")}}});
  ds.dims.push_back(
      {"sex", std::vector<std::string>{"female", "male"}, {{"long_name", text("sex")}}});
  std::vector<std::string> groups;
  for (int g = 0; g < 17; ++g)
    groups.push_back(std::to_string(5 * g) + "-" + std::to_string(5 * g + 4));
  groups.push_back("85+");
  ds.dims.push_back({"age_group",
                     groups,
                     {{"units", text("years")},
                      {"long_name", text("five-year group of completed years of age")}}});
  const Facilities& fac = sc_.facilities;
  std::vector<std::string> kind_ids, kind_labels, kind_services, kind_units;
  for (const auto& k : fac.kinds) {
    kind_ids.push_back(k.id);
    kind_labels.push_back(k.label_zh);
    kind_services.push_back(service_name(k.service));
    kind_units.push_back(k.capacity_unit);
  }
  ds.dims.push_back({"facility", fac.id, {{"long_name", text("facility id")}}});
  ds.dims.push_back({"kind", kind_ids, {{"long_name", text("facility kind")}}});
  std::vector<std::string> t_ids, t_desc, t_cmp, t_item, t_ind;
  std::vector<double> t_thr;
  std::vector<std::int32_t> t_year;
  for (const auto& t : sc_.targets) {
    t_ids.push_back(t.id);
    t_desc.push_back(t.description);
    t_cmp.push_back(t.comparison);
    t_item.push_back(t.plan_item);
    t_ind.push_back(t.indicator);
    t_thr.push_back(t.threshold);
    t_year.push_back(t.year);
  }
  ds.dims.push_back({"target", t_ids, {{"long_name", text("target id (targets.yaml)")}}});
  std::vector<std::string> par_names, par_units;
  for (const auto& p : sc_.base.parameters.rows()) {
    par_names.push_back(p.name);
    par_units.push_back(p.unit);
  }
  ds.dims.push_back({"parameter", par_names, {{"long_name", text("parameter (parameters.yaml)")}}});

  auto aux = [&](const std::string& name, const std::string& dim, ArrayData data,
                 const std::string& long_name, const std::string& units = "") {
    Attributes a{{"long_name", long_name}};
    if (!units.empty()) a["units"] = units;
    ds.variables.push_back({name, {dim}, std::move(data), a});
  };
  aux("street_name", "street", names_zh, "street name (Chinese)");
  aux("street_name_en", "street", names_en, "street name (English)");
  aux("street_x", "street", xs, "street centre, metres east of the reference point", "m");
  aux("street_y", "street", ys, "street centre, metres north of the reference point", "m");
  aux("street_area", "street", areas, "street area", "km2");
  aux("street_district", "street", districts,
      "district of the street (pack.yaml id; sum a street variable by it for district totals)");
  std::vector<std::string> f_kind, f_street, f_unit, f_host, f_run_by;
  std::vector<std::int32_t> f_inclusive;
  for (std::size_t f = 0; f < fac.size(); ++f) {
    f_kind.push_back(fac.kind_of(f).id);
    f_run_by.push_back(run_by_name(fac.run_by[f]));
    f_inclusive.push_back(fac.inclusive[f]);
    f_host.push_back(fac.host[f] < 0 ? "" : fac.id[static_cast<std::size_t>(fac.host[f])]);
    f_street.push_back(fac.street[f] < 0
                           ? "outside"
                           : sc_.base.streets[static_cast<std::size_t>(fac.street[f])].id);
    f_unit.push_back(fac.kind_of(f).capacity_unit);
  }
  aux("facility_kind", "facility", f_kind, "facility kind");
  aux("facility_street", "facility", f_street, "street of the facility (or 'outside')");
  aux("facility_name", "facility", fac.name, "facility name");
  aux("facility_capacity_unit", "facility", f_unit, "unit of the facility's capacity");
  aux("facility_host", "facility", f_host,
      "kindergarten hosting the nursery class (facility id), or empty");
  aux("facility_run_by", "facility", f_run_by,
      "who runs it: education_bureau, public_body (both public, 公办), private or employer");
  aux("facility_inclusive", "facility", f_inclusive,
      "1 when its places are designated 普惠 (inclusive) at the capped price, else 0");
  aux("facility_x", "facility", fac.x_m, "facility location, metres east of the reference point",
      "m");
  aux("facility_y", "facility", fac.y_m, "facility location, metres north of the reference point",
      "m");
  aux("kind_label_zh", "kind", kind_labels, "kind (Chinese)");
  aux("kind_service", "kind", kind_services, "service the kind belongs to");
  aux("target_description", "target", t_desc, "what the target asks for");
  aux("target_threshold", "target", t_thr, "threshold the indicator is compared with");
  aux("target_comparison", "target", t_cmp, "comparison: indicator <comparison> threshold");
  aux("target_plan_item", "target", t_item, "item number in the action plan (empty when none)");
  aux("target_indicator", "target", t_ind, "indicator variable the target tests");
  aux("target_first_year", "target", t_year, "first year the target is in force (0: every year)");
  aux("parameter_unit", "parameter", par_units, "unit of the parameter");

  const std::map<std::string, std::string> aux_of_dim = {
      {"street", "street_name street_name_en street_x street_y street_area street_district"},
      {"facility",
       "facility_kind facility_street facility_name facility_capacity_unit facility_host "
       "facility_run_by facility_inclusive facility_x facility_y"},
      {"kind", "kind_label_zh kind_service"},
      {"target",
       "target_description target_threshold target_comparison target_plan_item "
       "target_indicator target_first_year"},
      {"parameter", "parameter_unit"}};
  // Auxiliary coordinates along a dimension that no variable uses would otherwise be read
  // as data variables; the global CF `coordinates` attribute names them (xarray honours it).
  std::string orphans;
  for (const auto& [dim, names] : aux_of_dim) {
    bool used = false;
    for (const auto& o : output_catalog())
      for (const auto& d : o.dims) used = used || d == dim;
    if (!used) orphans += (orphans.empty() ? "" : " ") + names;
  }
  if (!orphans.empty()) ds.attrs["coordinates"] = orphans;
  for (const auto& o : output_catalog()) {
    Attributes a{{"units", o.units}, {"long_name", o.long_name}, {"description", o.description}};
    std::string coords;
    for (const auto& d : o.dims) {
      auto it = aux_of_dim.find(d);
      if (it != aux_of_dim.end()) coords += (coords.empty() ? "" : " ") + it->second;
    }
    if (!coords.empty()) a["coordinates"] = coords;
    if (o.real)
      ds.variables.push_back({o.name, o.dims, reals_.at(o.name), a});
    else
      ds.variables.push_back({o.name, o.dims, ints_.at(o.name), a});
  }
  return ds;
}

}  // namespace childsim::io

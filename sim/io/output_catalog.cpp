// output_catalog: the declarations of all output variables.
#include "sim/io/output_catalog.hpp"

#include <fmt/format.h>  // fmt::format

namespace childsim::io {

const std::vector<DimensionSpec>& dimension_catalog() {
  static const std::vector<DimensionSpec> dims = {
      {"replicate", "", "replicate number 0..R−1 (each with its own random streams)"},
      {"time", "days since <start>-01",
       "first day of each simulated month (CF time; xarray decodes it to dates); stocks are "
       "at the end of that month, flows are totals over it"},
      {"street", "",
       "pinyin id of the street-level unit (街道/镇); `street_name` holds the "
       "Chinese name, `street_name_en` the English one"},
      {"age", "years", "completed years of age, 0..17"},
      {"parity", "", "birth order of a child: `1` first, `2` second, `3+` third or later"},
      {"woman_age", "years", "completed years of age of women, 18..49"},
      {"sex", "", "`female` or `male`"},
      {"age_group", "years",
       "five-year group of completed years of age: `0-4`, `5-9`, …, `80-84`, `85+`"},
      {"year", "", "calendar year (annual outputs and indicators)"},
      {"facility", "",
       "facility id; `facility_kind`, `facility_street`, `facility_name`, "
       "`facility_host` (a nursery class's kindergarten, or empty), `facility_run_by` "
       "(education_bureau, public_body, private, employer), `facility_inclusive` (1: "
       "designated 普惠), "
       "`facility_x`, `facility_y` describe it"},
      {"kind", "",
       "facility kind (e.g. nursery_class, baby_room, kindergarten, summer_class, "
       "chc_clinic); `kind_service` names its service"},
      {"target", "",
       "target id from `targets.yaml`; `target_description`, `target_threshold`, "
       "`target_comparison`, `target_plan_item`, `target_indicator`, "
       "`target_first_year` describe it"},
      {"parameter", "", "name of a row of parameters.yaml; `parameter_unit` holds its unit"},
  };
  return dims;
}

std::vector<OutputSpec> demography_outputs() {
  return {
      {"population",
       {"replicate", "time", "street", "age"},
       "children",
       "children by street and single year of age",
       "children aged 0–17 living in the street at the end of the month"},
      {"population_start",
       {"replicate", "street", "age"},
       "children",
       "children at the start of the first month",
       "the synthetic population before the first month's events (for conservation checks)"},
      {"births",
       {"replicate", "time", "street"},
       "children",
       "births",
       "children born in the month to mothers living in the street"},
      {"births_by_parity",
       {"replicate", "time", "street", "parity"},
       "children",
       "births by birth order",
       "children born in the month by their order among their mother's children (twins count "
       "as two births of consecutive orders); sums over parity to `births`"},
      {"deaths",
       {"replicate", "time", "street"},
       "children",
       "child deaths",
       "deaths of children aged 0–17 in the month"},
      {"moves_in",
       {"replicate", "time", "street"},
       "children",
       "children moving in",
       "children arriving in the street: from outside the district, from another street, or "
       "into new housing"},
      {"moves_out",
       {"replicate", "time", "street"},
       "children",
       "children moving out",
       "children leaving the street: out of the district or to another street"},
      {"aged_out",
       {"replicate", "time", "street"},
       "children",
       "children turning 18",
       "children who reached 18 at the start of the month and left the child population"},
      {"women",
       {"replicate", "time", "street", "woman_age"},
       "women",
       "women aged 18–49 by single year of age",
       "mothers and potential mothers living in the street at the end of the month"},
      {"residents",
       {"replicate", "time", "street"},
       "persons",
       "resident population",
       "everyone living in the street at the end of the month (sums `residents_by_age` over "
       "sex and age group)"},
      {"residents_by_age",
       {"replicate", "time", "street", "sex", "age_group"},
       "persons",
       "residents by sex and five-year age group",
       "everyone living in the street at the end of the month: children and the women of the "
       "household tables (agents) and the resident counts (men 18+, women 50+; docs/model.md)"},
      {"migrants_in",
       {"replicate", "time", "street", "sex", "age_group"},
       "persons",
       "in-migrants",
       "persons who came to live in the street in the month from outside the district "
       "(migration or new housing; age at the month)"},
      {"migrants_out",
       {"replicate", "time", "street", "sex", "age_group"},
       "persons",
       "out-migrants",
       "persons who left the district from the street in the month"},
      {"movers_in",
       {"replicate", "time", "street", "sex", "age_group"},
       "persons",
       "residents moving in from another street",
       "persons who moved into the street from another street of the district in the month "
       "(summed over streets equal to `movers_out`)"},
      {"movers_out",
       {"replicate", "time", "street", "sex", "age_group"},
       "persons",
       "residents moving out to another street",
       "persons who moved from the street to another street of the district in the month"},
      {"resident_deaths",
       {"replicate", "time", "street", "sex", "age_group"},
       "persons",
       "deaths of residents",
       "deaths in the month at every age (children's deaths are also in `deaths`); per street "
       "and month residents change by births + migrants_in − migrants_out + movers_in − "
       "movers_out − resident_deaths"},
  };
}

std::vector<OutputSpec> parameter_outputs() {
  return {
      {"parameter_value",
       {"replicate", "parameter"},
       "see parameter_unit",
       "parameter values used by the replicate",
       "every parameter of parameters.yaml as the replicate used it: the scenario's value, or "
       "the value drawn from a calibration posterior (docs/calibration.md)",
       true},
  };
}

const std::vector<OutputSpec>& output_catalog() {
  static const std::vector<OutputSpec> outputs = [] {
    std::vector<OutputSpec> all;
    for (auto part : {demography_outputs, facility_outputs, kindergarten_outputs, nursery_outputs,
                      babyroom_outputs, holiday_outputs, clinic_outputs, access_outputs,
                      indicator_outputs, parameter_outputs}) {
      auto v = part();
      all.insert(all.end(), v.begin(), v.end());
    }
    return all;
  }();
  return outputs;
}

const OutputSpec* find_output(const std::string& name) {
  for (const auto& o : output_catalog())
    if (o.name == name) return &o;
  return nullptr;
}

std::string output_catalog_markdown() {
  std::string md = "| dimension | units | meaning |\n|---|---|---|\n";
  for (const auto& d : dimension_catalog())
    md +=
        fmt::format("| `{}` | {} | {} |\n", d.name, d.units.empty() ? "—" : d.units, d.description);
  md += "\n| variable | dimensions | units | meaning |\n|---|---|---|---|\n";
  for (const auto& o : output_catalog()) {
    std::string dims;
    for (const auto& d : o.dims) dims += (dims.empty() ? "" : ", ") + d;
    md += fmt::format("| `{}` | ({}) | {} | {}: {} |\n", o.name, dims, o.units, o.long_name,
                      o.description);
  }
  return md;
}

}  // namespace childsim::io

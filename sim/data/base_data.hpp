// base_data: the embedded facts about a place (streets, population, fertility, mortality)
// read from `scenarios/<place>/`. Migration is scalar parameters (the Rogers–Castro
// schedules, parameters.yaml migration.*), so that calibration can move it.
//
// Each file's numbers carry `source:` or `assumed:` (see docs/data.md). This module reads them
// into plain structs with units in the names, checks lengths and sums, and converts street
// locations to a local plane in metres. It holds no behaviour; `model/rates` packs these
// numbers, with the scenario's choices, into the flat arrays the monthly loop uses.
#pragma once

#include "sim/config/config_tree.hpp"  // ConfigNode
#include "sim/data/parameters.hpp"     // ParameterTable

#include <filesystem>  // std::filesystem::path
#include <map>         // std::map
#include <string>      // std::string
#include <utility>     // std::pair
#include <vector>      // std::vector

namespace childsim {

/// One street-level unit (街道 or 镇).
struct Street {
  std::string id;       ///< pinyin id, e.g. "huayanglu"
  std::string name_zh;  ///< e.g. "华阳路街道"
  std::string name_en;
  std::string kind;  ///< "street" or "town"
  double lat_deg = 0, lon_deg = 0;
  double x_m = 0, y_m = 0;  ///< centre on the local plane (metres east/north of the reference)
  double area_km2 = 0;
  double radius_m = 0;  ///< radius of a disc of the same area (homes are drawn inside it)
  double population_2020 = 0;
  int district = 0;  ///< index into BaseData::districts (streets.yaml `district:`)
};

/// A district (区) of a data pack: a named group of streets (pack.yaml; docs/data-packs.md).
/// A pack without pack.yaml is one district named after its directory.
struct District {
  std::string id;  ///< pinyin id, e.g. "changning"
  std::string name_zh;
  std::string name_en;
  double population_2020 = 0;  ///< census total (pack.yaml), else the sum of its streets
};

/// A total fertility rate path: year → TFR, linear between listed years, flat outside.
struct TfrPath {
  std::map<int, double> points;
  double at(double year) const;
};

struct BaseData {
  std::filesystem::path dir;
  std::string pack;                 ///< pack.yaml `pack:`, else the directory's name
  std::vector<District> districts;  ///< at least one; streets refer to them by index
  std::vector<Street> streets;
  std::vector<std::pair<int, int>> neighbours;  ///< undirected street index pairs
  double ref_lat_deg = 0, ref_lon_deg = 0;

  static constexpr int max_child_age = 17;  ///< children are 0..17 years old
  static constexpr int women_age_min = 18;  ///< reproductive ages modelled: 18..49
  static constexpr int women_age_max = 49;
  static constexpr int max_age = 110;  ///< the life table's last age (everyone dies in it)

  std::vector<double> children_by_age;          ///< district, 1 Jan 2024, ages 0..17
  std::vector<double> women_age_weights;        ///< relative, ages 18..49
  std::vector<double> adult_age_weights;        ///< relative persons, ages 18..max_age
  std::vector<double> asfr_shape;               ///< ages 18..49, normalised to sum 1
  std::map<std::string, TfrPath> tfr_paths;     ///< "medium", "low", "high"
  std::vector<double> child_death_probability;  ///< annual, ages 0..17

  ParameterTable parameters;

  int street_index(const std::string& id) const;    ///< -1 when unknown
  int district_index(const std::string& id) const;  ///< -1 when unknown
  /// The street id written in `node`; a ConfigError listing the known ids when unknown.
  int read_street(const config::ConfigNode& node) const;
  /// Metres east and north of the reference point of a latitude and longitude
  /// (equirectangular projection; error < 0.1 % over a district 10 km across).
  void to_local(double lat_deg, double lon_deg, double& x_m, double& y_m) const;
  /// The point of street `s`'s disc given by two uniform numbers (uniform in area).
  void point_in_street(int s, double u1, double u2, double& x_m, double& y_m) const;
  int n_streets() const { return static_cast<int>(streets.size()); }
};

/// Read all files of a place directory (a data pack, docs/data-packs.md). Throws
/// config::ConfigError naming the file, line and key of any problem (missing file, wrong length,
/// sum, unknown street id in neighbours, ...).
BaseData load_base_data(const std::filesystem::path& dir);

}  // namespace childsim

// dataset: writing an in-memory dataset through the HDF5 writer.
#include "sim/io/dataset.hpp"

namespace childsim::io {

std::size_t Dimension::size() const {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

const Dimension* Dataset::find_dim(const std::string& name) const {
  for (const auto& d : dims)
    if (d.name == name) return &d;
  return nullptr;
}

const Variable* Dataset::find_variable(const std::string& name) const {
  for (const auto& v : variables)
    if (v.name == name) return &v;
  return nullptr;
}

Variable* Dataset::find_variable(const std::string& name) {
  for (auto& v : variables)
    if (v.name == name) return &v;
  return nullptr;
}

void write_dataset(const Dataset& ds, const std::filesystem::path& path) {
  Hdf5Writer w(path);
  for (const auto& [name, value] : ds.attrs) w.set_attribute(name, value);
  for (const auto& d : ds.dims) {
    std::visit(
        [&](const auto& values) {
          using T = std::decay_t<decltype(values)>;
          if constexpr (std::is_same_v<T, std::vector<std::int32_t>>) {
            w.add_dimension(d.name, std::vector<std::int64_t>(values.begin(), values.end()),
                            d.attrs);
          } else {
            w.add_dimension(d.name, values, d.attrs);
          }
        },
        d.values);
  }
  for (const auto& v : ds.variables)
    std::visit([&](const auto& data) { w.add_variable(v.name, v.dims, data, v.attrs); }, v.data);
  w.commit();
}

}  // namespace childsim::io

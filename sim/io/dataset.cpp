// dataset: writing an in-memory dataset through the HDF5 writer.
#include "sim/io/dataset.hpp"

#include <stdexcept>  // std::logic_error

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

namespace {

void write_header(Hdf5Writer& w, const Dataset& ds) {
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
}

std::size_t elements(const Dataset& ds, const std::vector<std::string>& dims) {
  std::size_t n = 1;
  for (const auto& d : dims) {
    const Dimension* dim = ds.find_dim(d);
    if (dim == nullptr) return 0;  // the writer names the unknown dimension
    n *= dim->size();
  }
  return n;
}

}  // namespace

void write_dataset(const Dataset& ds, const std::filesystem::path& path) {
  Hdf5Writer w(path);
  write_header(w, ds);
  for (const auto& v : ds.variables)
    std::visit([&](const auto& data) { w.add_variable(v.name, v.dims, data, v.attrs); }, v.data);
  w.commit();
}

void write_dataset(const Dataset& layout, const std::filesystem::path& path,
                   const ReplicateReader& read) {
  Hdf5Writer w(path, WriterStorage::disk);
  write_header(w, layout);
  for (const auto& v : layout.variables) {
    const std::size_t n = elements(layout, v.dims);
    const bool streamed = n > 0 && std::visit([](const auto& d) { return d.empty(); }, v.data);
    if (!streamed) {
      std::visit([&](const auto& data) { w.add_variable(v.name, v.dims, data, v.attrs); }, v.data);
      continue;
    }
    std::visit(
        [&](const auto& data) {
          using T = typename std::decay_t<decltype(data)>::value_type;
          if constexpr (std::is_same_v<T, std::string>) {
            throw std::logic_error("write_dataset: text variable '" + v.name +
                                   "' cannot be streamed");
          } else if (v.dims.front() == "replicate") {
            const ElementKind kind = std::is_same_v<T, std::int32_t>   ? ElementKind::int32
                                     : std::is_same_v<T, std::int64_t> ? ElementKind::int64
                                                                       : ElementKind::float64;
            w.add_variable_slabs(
                v.name, v.dims, kind, [&](std::size_t r, void* out) { read(v, r, out); }, v.attrs);
          } else {
            std::vector<T> all(n);
            read(v, 0, all.data());
            w.add_variable(v.name, v.dims, all, v.attrs);
          }
        },
        v.data);
  }
  w.commit();
}

}  // namespace childsim::io

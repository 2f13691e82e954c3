// posterior: reading the final generation of a posterior file and drawing from it.
#include "sim/calibration/posterior.hpp"

#include "sim/core/rng.hpp"           // Stream, Purpose
#include "sim/scenario/scenario.hpp"  // Scenario

#include <fmt/format.h>  // fmt::format
#include <hdf5.h>        // H5Fopen, H5Dread, ...

#include <cmath>      // std::isfinite
#include <stdexcept>  // std::runtime_error

namespace childsim::calibration {
namespace {

// An HDF5 identifier closed on scope exit.
class H5Id {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Id(hid_t id, Closer close) : id_(id), close_(close) {}
  ~H5Id() {
    if (id_ >= 0) close_(id_);
  }
  H5Id(const H5Id&) = delete;
  H5Id& operator=(const H5Id&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  Closer close_;
};

[[noreturn]] void fail(const std::filesystem::path& file, const std::string& what) {
  throw std::runtime_error(fmt::format("posterior file '{}': {}", file.string(), what));
}

std::vector<hsize_t> shape_of(hid_t dataset) {
  H5Id space(H5Dget_space(dataset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank > 0 ? rank : 0));
  if (rank > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

hid_t open_dataset(hid_t file, const char* name, const std::filesystem::path& path) {
  hid_t id = -1;
  H5E_BEGIN_TRY {
    id = H5Dopen2(file, name, H5P_DEFAULT);
  }
  H5E_END_TRY;
  if (id < 0) fail(path, fmt::format("no variable '{}' (is it a childsim posterior?)", name));
  return id;
}

std::vector<double> read_doubles(hid_t file, const char* name, const std::filesystem::path& path,
                                 std::vector<hsize_t>& shape) {
  H5Id ds(open_dataset(file, name, path), H5Dclose);
  shape = shape_of(ds.get());
  std::size_t n = 1;
  for (hsize_t s : shape) n *= static_cast<std::size_t>(s);
  std::vector<double> v(n);
  if (n > 0 && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
    fail(path, fmt::format("cannot read '{}'", name));
  return v;
}

std::vector<std::string> read_strings(hid_t file, const char* name,
                                      const std::filesystem::path& path) {
  H5Id ds(open_dataset(file, name, path), H5Dclose);
  H5Id file_type(H5Dget_type(ds.get()), H5Tclose);
  if (H5Tis_variable_str(file_type.get()) <= 0)
    fail(path, fmt::format("'{}' is not a list of names", name));
  H5Id type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  H5Id space(H5Dget_space(ds.get()), H5Sclose);
  std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (raw.empty()) return {};
  if (H5Dread(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) < 0)
    fail(path, fmt::format("cannot read '{}'", name));
  std::vector<std::string> values;
  for (char* s : raw) values.emplace_back(s ? s : "");
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
  return values;
}

}  // namespace

Posterior Posterior::columns(const std::vector<std::size_t>& keep) const {
  Posterior p;
  p.file = file;
  p.weights = weights;
  p.generation = generation;
  p.particles.resize(particles.rows(), static_cast<Eigen::Index>(keep.size()));
  for (std::size_t c = 0; c < keep.size(); ++c) {
    p.names.push_back(names[keep[c]]);
    p.particles.col(static_cast<Eigen::Index>(c)) =
        particles.col(static_cast<Eigen::Index>(keep[c]));
  }
  return p;
}

Posterior read_posterior(const std::filesystem::path& file) {
  if (!std::filesystem::is_regular_file(file)) fail(file, "does not exist");
  hid_t fid = -1;
  H5E_BEGIN_TRY {
    fid = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  }
  H5E_END_TRY;
  if (fid < 0) fail(file, "cannot be opened as HDF5");
  H5Id f(fid, H5Fclose);
  Posterior p;
  p.file = file;
  p.names = read_strings(f.get(), "parameter", file);
  std::vector<hsize_t> ps, ws;
  const std::vector<double> particles = read_doubles(f.get(), "particles", file, ps);
  const std::vector<double> weights = read_doubles(f.get(), "weights", file, ws);
  if (ps.size() != 3 || ws.size() != 2 || ps[0] != ws[0] || ps[1] != ws[1] || ps[0] < 1 ||
      ps[1] < 1 || ps[2] != p.names.size())
    fail(file,
         "particles(generation, particle, parameter) and weights(generation, particle) "
         "do not agree in shape");
  const auto g = static_cast<std::size_t>(ps[0]) - 1, n = static_cast<std::size_t>(ps[1]),
             d = static_cast<std::size_t>(ps[2]);
  p.generation = static_cast<int>(g);
  p.particles.resize(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(d));
  p.weights.resize(static_cast<Eigen::Index>(n));
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double w = weights[g * n + i];
    if (!std::isfinite(w) || w < 0) fail(file, "a weight of the final generation is not >= 0");
    p.weights[static_cast<Eigen::Index>(i)] = w;
    total += w;
    for (std::size_t k = 0; k < d; ++k) {
      const double v = particles[(g * n + i) * d + k];
      if (!std::isfinite(v)) fail(file, "a particle of the final generation is not finite");
      p.particles(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = v;
    }
  }
  if (!(total > 0)) fail(file, "the weights of the final generation sum to 0");
  p.weights /= total;
  return p;
}

std::size_t draw_particle(const Posterior& posterior, std::uint64_t seed, int replicate) {
  Stream rng(seed, static_cast<std::uint32_t>(replicate), 0, 0, Purpose::parameters);
  const std::uint64_t hi = rng(), lo = rng();
  const double u = static_cast<double>(((hi << 32) | lo) >> 11) * 0x1p-53;
  double c = 0.0;
  const Eigen::Index n = posterior.weights.size();
  for (Eigen::Index i = 0; i < n; ++i) {
    c += posterior.weights[i];
    if (u < c) return static_cast<std::size_t>(i);
  }
  // Rounding left the cumulative sum just below 1: the last particle with weight.
  for (Eigen::Index i = n - 1; i > 0; --i)
    if (posterior.weights[i] > 0) return static_cast<std::size_t>(i);
  return 0;
}

Scenario scenario_for_replicate(const Scenario& sc, int replicate) {
  Scenario out = sc;
  if (!sc.posterior) return out;
  const Posterior& p = *sc.posterior;
  const auto i = static_cast<Eigen::Index>(draw_particle(p, sc.seed, replicate));
  static const config::ConfigNode nowhere;  // values were range-checked when the file was read
  for (std::size_t k = 0; k < p.names.size(); ++k)
    out.base.parameters.set(p.names[k], p.particles(i, static_cast<Eigen::Index>(k)), nowhere);
  return out;
}

}  // namespace childsim::calibration

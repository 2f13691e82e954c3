// hdf5_writer_test: Catch2 tests of sim/io/hdf5_writer, reading files back with the HDF5 C API.
//
// The case "hdf5_writer, writes the sample file for the python contract test" also produces
// the file that tests/python/test_hdf5_writer_contract.py opens with xarray/h5netcdf, so the
// Python side checks exactly what the C++ writer emits (no separate helper program).
#include "sim/io/hdf5_writer.hpp"
#include "sim/io/output_error.hpp"  // OutputError

#include <hdf5.h>
// H5DSpublic.h uses hdf5.h types without including it, so it must come second.
#include <H5DSpublic.h>

#include <sys/resource.h>  // setrlimit, RLIMIT_FSIZE
#include <sys/stat.h>      // chmod, stat
#include <unistd.h>        // getpid

#include <csignal>  // std::signal, SIGXFSZ

#include <algorithm>  // std::copy_n
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>  // std::getenv
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

namespace {

namespace fs = std::filesystem;
using childsim::io::Attributes;
using childsim::io::Hdf5Writer;

// A fresh directory under the system temporary directory, removed with its contents at scope
// exit, so tests never collide with each other or with concurrent runs.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = fs::temp_directory_path() /
            ("childsim-hdf5-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// Owns an HDF5 id in the tests, so a failed REQUIRE does not leak the file open.
class Id {
 public:
  Id(hid_t id, herr_t (*closer)(hid_t)) : id_(id), closer_(closer) {}
  ~Id() {
    if (id_ >= 0) closer_(id_);
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  hid_t get() const { return id_; }

 private:
  hid_t id_;
  herr_t (*closer_)(hid_t);
};

// The sample: two replicates, four days, three Changning subdistricts. One street id is
// deliberately Chinese so that non-ASCII text is exercised in a dimension scale, and the
// auxiliary coordinate `street_name` is all Chinese.
const std::vector<std::int64_t> kReplicates{0, 1};
const std::vector<std::int64_t> kDays{0, 1, 2, 3};
const std::vector<std::string> kStreets{"huayanglu", "jiangsulu", "新华路街道"};
const std::vector<std::string> kStreetNames{"华阳路街道", "江苏路街道", "新华路街道"};

// Values of the 3-D variable; the Python test uses the same formula.
std::int32_t children_value(std::size_t r, std::size_t t, std::size_t s) {
  return static_cast<std::int32_t>(100 * r + 10 * t + s);
}

std::vector<std::int32_t> children_values() {
  std::vector<std::int32_t> values;
  for (std::size_t r = 0; r < kReplicates.size(); ++r) {
    for (std::size_t t = 0; t < kDays.size(); ++t) {
      for (std::size_t s = 0; s < kStreets.size(); ++s) values.push_back(children_value(r, t, s));
    }
  }
  return values;
}

std::vector<double> occupancy_values() {
  std::vector<double> values;
  for (std::size_t r = 0; r < kReplicates.size(); ++r) {
    for (std::size_t t = 0; t < kDays.size(); ++t) {
      values.push_back(0.5 + 0.25 * static_cast<double>(t) + static_cast<double>(r));
    }
  }
  return values;
}

void write_sample_contents(Hdf5Writer& writer) {
  writer.set_attribute("title", std::string("childsim hdf5_writer sample"));
  writer.set_attribute("Conventions", std::string("CF-1.8"));
  writer.set_attribute("institution", std::string("长宁区托育模拟"));
  writer.set_attribute("seed", std::int64_t{42});
  writer.set_attribute("scale", 1.5);
  writer.set_attribute("weights", std::vector<double>{0.25, 0.75});
  writer.add_dimension("replicate", kReplicates, {{"long_name", std::string("replicate")}});
  writer.add_dimension("time", kDays,
                       {{"units", std::string("days since 2024-01-01")},
                        {"calendar", std::string("standard")},
                        {"long_name", std::string("simulation day")}});
  writer.add_dimension("street", kStreets, {{"long_name", std::string("subdistrict id")}});
  writer.add_variable("street_name", {"street"}, kStreetNames,
                      {{"long_name", std::string("subdistrict name")}});
  writer.add_variable("children", {"replicate", "time", "street"}, children_values(),
                      {{"long_name", std::string("children in care")},
                       {"units", std::string("1")},
                       {"coordinates", std::string("street_name")}});
  writer.add_variable("occupancy", {"replicate", "time"}, occupancy_values(),
                      {{"long_name", std::string("mean occupancy")}, {"units", std::string("1")}});
}

void write_sample(const fs::path& path) {
  Hdf5Writer writer(path);
  write_sample_contents(writer);
  writer.commit();
}

// --- Reading helpers (HDF5 C API) ---

std::vector<hsize_t> shape_of(hid_t dataset) {
  Id space(H5Dget_space(dataset), H5Sclose);
  const int rank = H5Sget_simple_extent_ndims(space.get());
  REQUIRE(rank >= 0);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

template <typename T>
std::vector<T> read_numbers(hid_t file, const char* name, hid_t memory_type) {
  Id dataset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  REQUIRE(dataset.get() >= 0);
  Id space(H5Dget_space(dataset.get()), H5Sclose);
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  REQUIRE(n >= 0);
  std::vector<T> values(static_cast<std::size_t>(n));
  if (n > 0) {
    REQUIRE(H5Dread(dataset.get(), memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) >= 0);
  }
  return values;
}

hid_t utf8_vlen_type() {
  const hid_t type = H5Tcopy(H5T_C_S1);
  H5Tset_size(type, H5T_VARIABLE);
  H5Tset_cset(type, H5T_CSET_UTF8);
  return type;
}

std::vector<std::string> read_strings(hid_t file, const char* name) {
  Id dataset(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  REQUIRE(dataset.get() >= 0);
  Id file_type(H5Dget_type(dataset.get()), H5Tclose);
  CHECK(H5Tis_variable_str(file_type.get()) > 0);
  CHECK(H5Tget_cset(file_type.get()) == H5T_CSET_UTF8);
  Id space(H5Dget_space(dataset.get()), H5Sclose);
  Id type(utf8_vlen_type(), H5Tclose);
  std::vector<char*> raw(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  if (raw.empty()) return {};
  REQUIRE(H5Dread(dataset.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, raw.data()) >= 0);
  std::vector<std::string> values(raw.begin(), raw.end());
  H5Dvlen_reclaim(type.get(), space.get(), H5P_DEFAULT, raw.data());
  return values;
}

std::string string_attribute(hid_t object, const char* name) {
  Id attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  REQUIRE(attr.get() >= 0);
  Id file_type(H5Aget_type(attr.get()), H5Tclose);
  CHECK(H5Tis_variable_str(file_type.get()) > 0);  // vlen: h5py/xarray give str, not bytes
  CHECK(H5Tget_cset(file_type.get()) == H5T_CSET_UTF8);
  Id type(utf8_vlen_type(), H5Tclose);
  char* raw = nullptr;
  REQUIRE(H5Aread(attr.get(), type.get(), &raw) >= 0);
  std::string value(raw);
  H5free_memory(raw);
  return value;
}

template <typename T>
std::vector<T> numeric_attribute(hid_t object, const char* name, hid_t memory_type) {
  Id attr(H5Aopen(object, name, H5P_DEFAULT), H5Aclose);
  REQUIRE(attr.get() >= 0);
  Id space(H5Aget_space(attr.get()), H5Sclose);
  std::vector<T> values(static_cast<std::size_t>(H5Sget_simple_extent_npoints(space.get())));
  REQUIRE(H5Aread(attr.get(), memory_type, values.data()) >= 0);
  return values;
}

std::string file_contents(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("hdf5_writer, behaviour", "[hdf5_writer]") {
  TempDir dir;
  const fs::path path = dir.path() / "sample.nc";
  {
    Hdf5Writer writer(path);
    CHECK(writer.temporary_path().parent_path() == dir.path());
    CHECK(writer.temporary_path().filename().string() ==
          "sample.nc.tmp-" + std::to_string(::getpid()));
    CHECK(fs::exists(writer.temporary_path()));
    write_sample_contents(writer);
    CHECK_FALSE(fs::exists(path));  // nothing under the final name before commit
    writer.commit();
    CHECK(fs::exists(path));
    CHECK_FALSE(fs::exists(writer.temporary_path()));
  }
  REQUIRE(fs::exists(path));  // the destructor of a committed writer leaves the file alone

  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  REQUIRE(file.get() >= 0);

  SECTION("creation order is tracked and indexed, as netCDF-4 requires") {
    // The orders are properties of the root group (the file creation list does not report them).
    Id root(H5Gopen2(file.get(), "/", H5P_DEFAULT), H5Gclose);
    Id create(H5Gget_create_plist(root.get()), H5Pclose);
    unsigned link_order = 0;
    unsigned attr_order = 0;
    REQUIRE(H5Pget_link_creation_order(create.get(), &link_order) >= 0);
    REQUIRE(H5Pget_attr_creation_order(create.get(), &attr_order) >= 0);
    CHECK(link_order == (H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
    CHECK(attr_order == (H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED));
    CHECK(H5Aexists(file.get(), "_NCProperties") > 0);
  }

  SECTION("dimensions are dimension scales with values and attributes") {
    CHECK(read_numbers<std::int64_t>(file.get(), "replicate", H5T_NATIVE_INT64) == kReplicates);
    CHECK(read_numbers<std::int64_t>(file.get(), "time", H5T_NATIVE_INT64) == kDays);
    CHECK(read_strings(file.get(), "street") == kStreets);
    int expected_id = 0;
    for (const char* name : {"replicate", "time", "street"}) {
      Id dataset(H5Dopen2(file.get(), name, H5P_DEFAULT), H5Dclose);
      REQUIRE(dataset.get() >= 0);
      CHECK(H5DSis_scale(dataset.get()) > 0);
      char scale_name[64] = {};
      REQUIRE(H5DSget_scale_name(dataset.get(), scale_name, sizeof scale_name) > 0);
      CHECK(std::string(scale_name) == name);
      CHECK(numeric_attribute<int>(dataset.get(), "_Netcdf4Dimid", H5T_NATIVE_INT) ==
            std::vector<int>{expected_id++});
    }
    Id time(H5Dopen2(file.get(), "time", H5P_DEFAULT), H5Dclose);
    CHECK(string_attribute(time.get(), "units") == "days since 2024-01-01");
    CHECK(string_attribute(time.get(), "calendar") == "standard");
    CHECK(string_attribute(time.get(), "long_name") == "simulation day");
  }

  SECTION("variables hold their values with every axis attached to its scale") {
    CHECK(read_numbers<std::int32_t>(file.get(), "children", H5T_NATIVE_INT32) ==
          children_values());
    CHECK(read_numbers<double>(file.get(), "occupancy", H5T_NATIVE_DOUBLE) == occupancy_values());
    CHECK(read_strings(file.get(), "street_name") == kStreetNames);

    const std::vector<std::pair<const char*, std::vector<const char*>>> expected{
        {"children", {"replicate", "time", "street"}},
        {"occupancy", {"replicate", "time"}},
        {"street_name", {"street"}}};
    for (const auto& [variable, dims] : expected) {
      Id dataset(H5Dopen2(file.get(), variable, H5P_DEFAULT), H5Dclose);
      REQUIRE(dataset.get() >= 0);
      CHECK(H5DSis_scale(dataset.get()) == 0);
      for (std::size_t axis = 0; axis < dims.size(); ++axis) {
        Id scale(H5Dopen2(file.get(), dims[axis], H5P_DEFAULT), H5Dclose);
        INFO(variable << " axis " << axis);
        CHECK(H5DSis_attached(dataset.get(), scale.get(), static_cast<unsigned>(axis)) > 0);
        CHECK(H5DSget_num_scales(dataset.get(), static_cast<unsigned>(axis)) == 1);
      }
    }
    Id children(H5Dopen2(file.get(), "children", H5P_DEFAULT), H5Dclose);
    CHECK(shape_of(children.get()) == std::vector<hsize_t>{2, 4, 3});
    CHECK(string_attribute(children.get(), "coordinates") == "street_name");
    CHECK(string_attribute(children.get(), "long_name") == "children in care");
  }

  SECTION("numeric data are chunked (1 along replicate) with shuffle + deflate") {
    Id children(H5Dopen2(file.get(), "children", H5P_DEFAULT), H5Dclose);
    Id create(H5Dget_create_plist(children.get()), H5Pclose);
    REQUIRE(H5Pget_layout(create.get()) == H5D_CHUNKED);
    std::vector<hsize_t> chunk(3);
    REQUIRE(H5Pget_chunk(create.get(), 3, chunk.data()) == 3);
    CHECK(chunk == std::vector<hsize_t>{1, 4, 3});
    REQUIRE(H5Pget_nfilters(create.get()) == 2);
    unsigned flags = 0;
    std::size_t n_values = 1;
    unsigned level = 0;
    CHECK(H5Pget_filter2(create.get(), 0, &flags, &n_values, &level, 0, nullptr, nullptr) ==
          H5Z_FILTER_SHUFFLE);
    n_values = 1;
    CHECK(H5Pget_filter2(create.get(), 1, &flags, &n_values, &level, 0, nullptr, nullptr) ==
          H5Z_FILTER_DEFLATE);
    CHECK(level == 4);
  }

  SECTION("global attributes keep their types") {
    CHECK(string_attribute(file.get(), "title") == "childsim hdf5_writer sample");
    CHECK(string_attribute(file.get(), "institution") == "长宁区托育模拟");
    CHECK(numeric_attribute<std::int64_t>(file.get(), "seed", H5T_NATIVE_INT64) ==
          std::vector<std::int64_t>{42});
    CHECK(numeric_attribute<double>(file.get(), "scale", H5T_NATIVE_DOUBLE) ==
          std::vector<double>{1.5});
    CHECK(numeric_attribute<double>(file.get(), "weights", H5T_NATIVE_DOUBLE) ==
          std::vector<double>{0.25, 0.75});
  }
}

TEST_CASE("hdf5_writer, chunks stay under about 1 MiB", "[hdf5_writer]") {
  TempDir dir;
  const fs::path path = dir.path() / "big.nc";
  std::vector<std::int64_t> days(1000);
  std::vector<std::int64_t> streets(200);
  for (std::size_t i = 0; i < days.size(); ++i) days[i] = static_cast<std::int64_t>(i);
  for (std::size_t i = 0; i < streets.size(); ++i) streets[i] = static_cast<std::int64_t>(i);
  {
    Hdf5Writer writer(path);
    writer.add_dimension("replicate", std::vector<std::int64_t>{0, 1});
    writer.add_dimension("time", days);
    writer.add_dimension("street", streets);
    writer.add_variable("rate", {"replicate", "time", "street"},
                        std::vector<double>(2 * days.size() * streets.size(), 0.125));
    writer.add_variable("count", {"time", "street"},
                        std::vector<float>(days.size() * streets.size(), 2.0F));
    writer.commit();
  }
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  REQUIRE(file.get() >= 0);
  const auto chunk_of = [&](const char* name, int rank) {
    Id dataset(H5Dopen2(file.get(), name, H5P_DEFAULT), H5Dclose);
    Id create(H5Dget_create_plist(dataset.get()), H5Pclose);
    std::vector<hsize_t> chunk(static_cast<std::size_t>(rank));
    REQUIRE(H5Pget_chunk(create.get(), rank, chunk.data()) == rank);
    return chunk;
  };
  // 1 MiB of doubles is 131072 values: 655 whole street rows of 200.
  CHECK(chunk_of("rate", 3) == std::vector<hsize_t>{1, 655, 200});
  // floats: 262144 values, 1310 rows, but never more than the 1000 there are.
  CHECK(chunk_of("count", 2) == std::vector<hsize_t>{1000, 200});
  CHECK(read_numbers<float>(file.get(), "count", H5T_NATIVE_FLOAT).back() == 2.0F);
}

TEST_CASE("hdf5_writer, one chunk per sample and replicate of a sweep", "[hdf5_writer]") {
  TempDir dir;
  const fs::path path = dir.path() / "sweep.nc";
  {
    Hdf5Writer writer(path);
    writer.add_dimension("sample", std::vector<std::int64_t>{0, 1, 2});
    writer.add_dimension("replicate", std::vector<std::int64_t>{0, 1});
    writer.add_dimension("time", std::vector<std::int64_t>{0, 1, 2, 3});
    writer.add_variable("births", {"sample", "replicate", "time"},
                        std::vector<std::int32_t>(24, 1));
    writer.add_variable("per_sample", {"sample", "time"}, std::vector<double>(12, 0.5));
    writer.add_variable("one_axis", {"sample"}, std::vector<double>(3, 0.5));
    writer.commit();
  }
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  REQUIRE(file.get() >= 0);
  const auto chunk_of = [&](const char* name, int rank) {
    Id dataset(H5Dopen2(file.get(), name, H5P_DEFAULT), H5Dclose);
    Id create(H5Dget_create_plist(dataset.get()), H5Pclose);
    std::vector<hsize_t> chunk(static_cast<std::size_t>(rank));
    REQUIRE(H5Pget_chunk(create.get(), rank, chunk.data()) == rank);
    return chunk;
  };
  // Leading ensemble dimensions are 1 each: one sample's replicate is one chunk.
  CHECK(chunk_of("births", 3) == std::vector<hsize_t>{1, 1, 4});
  CHECK(chunk_of("per_sample", 2) == std::vector<hsize_t>{1, 4});
  // A one-dimensional array along `sample` stays one chunk (nothing to split it from).
  CHECK(chunk_of("one_axis", 1) == std::vector<hsize_t>{3});
}

TEST_CASE(
    "hdf5_writer, variables given slab by slab on disk are the bytes of whole arrays "
    "in memory",
    "[hdf5_writer]") {
  // A streamed ensemble (sim/run/stream.hpp) writes what run_scenario + write_dataset write.
  TempDir dir;
  const std::size_t R = 3, T = 5, S = 2;
  std::vector<std::int32_t> counts(R * T * S);
  std::vector<double> shares(R * T), capacity(T * S);
  for (std::size_t i = 0; i < counts.size(); ++i) counts[i] = static_cast<std::int32_t>(i * 7 % 11);
  for (std::size_t i = 0; i < shares.size(); ++i) shares[i] = 0.1 * static_cast<double>(i);
  for (std::size_t i = 0; i < capacity.size(); ++i) capacity[i] = static_cast<double>(100 + i);
  const auto header = [&](Hdf5Writer& w) {
    w.add_dimension("replicate", std::vector<std::int64_t>{0, 1, 2});
    w.add_dimension("time", std::vector<std::int64_t>{0, 31, 59, 90, 120});
    w.add_dimension("street", std::vector<std::string>{"a", "b"});
  };
  const fs::path whole = dir.path() / "whole.nc", slabs = dir.path() / "slabs.nc";
  {
    Hdf5Writer w(whole);
    header(w);
    w.add_variable("children", {"replicate", "time", "street"}, counts, {{"units", "1"}});
    w.add_variable("share", {"replicate", "time"}, shares);
    w.add_variable("capacity", {"time", "street"}, capacity);
    w.commit();
  }
  std::vector<std::size_t> asked;
  {
    Hdf5Writer w(slabs, childsim::io::WriterStorage::disk);
    header(w);
    w.add_variable_slabs("children", {"replicate", "time", "street"},
                         childsim::io::ElementKind::int32,
                         [&](std::size_t r, void* out) {
                           asked.push_back(r);
                           std::copy_n(counts.begin() + static_cast<std::ptrdiff_t>(r * T * S),
                                       T * S, static_cast<std::int32_t*>(out));
                         },
                         {{"units", "1"}});
    w.add_variable_slabs("share", {"replicate", "time"}, childsim::io::ElementKind::float64,
                         [&](std::size_t r, void* out) {
                           std::copy_n(shares.begin() + static_cast<std::ptrdiff_t>(r * T), T,
                                       static_cast<double*>(out));
                         });
    // Not along `replicate`: the slabs are gathered and written as one array.
    w.add_variable_slabs("capacity", {"time", "street"}, childsim::io::ElementKind::float64,
                         [&](std::size_t t, void* out) {
                           std::copy_n(capacity.begin() + static_cast<std::ptrdiff_t>(t * S), S,
                                       static_cast<double*>(out));
                         });
    w.commit();
  }
  CHECK(asked == std::vector<std::size_t>{0, 1, 2});  // one replicate at a time, in order
  CHECK(file_contents(slabs) == file_contents(whole));
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 2);
}

TEST_CASE("hdf5_writer, a disk-backed writer that fails leaves nothing open or behind",
          "[hdf5_writer]") {
  // An error while the file is built on disk (here a bad variable after some data): the
  // writer is destroyed uncommitted, the temporary removed, and no HDF5 file stays open.
  TempDir dir;
  const fs::path path = dir.path() / "results.nc";
  const ssize_t open_before = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  {
    Hdf5Writer w(path, childsim::io::WriterStorage::disk);
    w.add_dimension("replicate", std::vector<std::int64_t>{0, 1});
    w.add_variable("x", {"replicate"}, std::vector<double>{1, 2});
    CHECK_THROWS_AS(
        w.add_variable_slabs("y", {"replicate", "nowhere"}, childsim::io::ElementKind::int32,
                             [](std::size_t, void*) {}),
        std::runtime_error);
    CHECK(fs::exists(w.temporary_path()));
  }
  CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == open_before);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 0);
}

TEST_CASE("hdf5_writer, zero-size dimensions", "[hdf5_writer]") {
  TempDir dir;
  const fs::path path = dir.path() / "empty.nc";
  {
    Hdf5Writer writer(path);
    writer.add_dimension("replicate", std::vector<std::int64_t>{0, 1});
    writer.add_dimension("event", std::vector<std::int64_t>{});
    writer.add_dimension("label", std::vector<std::string>{});
    writer.add_variable("age", {"replicate", "event"}, std::vector<double>{});
    writer.add_variable("who", {"event"}, std::vector<std::string>{});
    writer.add_variable("total", {}, std::vector<std::int64_t>{7});  // a scalar variable
    writer.set_attribute("none", std::vector<double>{});
    writer.commit();
  }
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  REQUIRE(file.get() >= 0);
  Id age(H5Dopen2(file.get(), "age", H5P_DEFAULT), H5Dclose);
  CHECK(shape_of(age.get()) == std::vector<hsize_t>{2, 0});
  Id event(H5Dopen2(file.get(), "event", H5P_DEFAULT), H5Dclose);
  CHECK(H5DSis_attached(age.get(), event.get(), 1) > 0);
  CHECK(read_numbers<std::int64_t>(file.get(), "total", H5T_NATIVE_INT64) ==
        std::vector<std::int64_t>{7});
  CHECK(read_strings(file.get(), "who").empty());
}

TEST_CASE("hdf5_writer, an uncommitted writer removes its temporary", "[hdf5_writer]") {
  TempDir dir;
  const fs::path path = dir.path() / "abandoned.nc";
  fs::path temporary;
  {
    Hdf5Writer writer(path);
    temporary = writer.temporary_path();
    write_sample_contents(writer);
    CHECK(fs::exists(temporary));
  }
  CHECK_FALSE(fs::exists(path));
  CHECK_FALSE(fs::exists(temporary));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE("hdf5_writer, an existing file is untouched until commit", "[hdf5_writer]") {
  TempDir dir;
  const fs::path path = dir.path() / "results.nc";
  const std::string previous = "results of an earlier run\n";
  std::ofstream(path, std::ios::binary) << previous;
  {
    Hdf5Writer writer(path);
    write_sample_contents(writer);
    CHECK(file_contents(path) == previous);
  }  // destroyed without commit
  CHECK(file_contents(path) == previous);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);

  write_sample(path);  // a committed writer does replace it
  CHECK(H5Fis_hdf5(path.c_str()) > 0);
}

TEST_CASE("hdf5_writer, errors name the file and the variable", "[hdf5_writer]") {
  using Catch::Matchers::Contains;
  TempDir dir;
  const fs::path path = dir.path() / "bad.nc";

  SECTION("a size mismatch throws before anything is renamed") {
    const std::string previous = "keep me";
    std::ofstream(path, std::ios::binary) << previous;
    {
      Hdf5Writer writer(path);
      writer.add_dimension("replicate", std::vector<std::int64_t>{0, 1});
      writer.add_dimension("time", std::vector<std::int64_t>{0, 1, 2});
      const auto mismatch = [&] {
        writer.add_variable("children", {"replicate", "time"}, std::vector<std::int32_t>(5));
      };
      CHECK_THROWS_AS(mismatch(), std::runtime_error);
      CHECK_THROWS_WITH(mismatch(), Contains(path.string()) && Contains("'children'") &&
                                        Contains("5 values") && Contains("need 6"));
      CHECK(file_contents(path) == previous);
      // A rejected call writes nothing, so the writer stays usable.
      writer.add_variable("children", {"replicate", "time"}, std::vector<std::int32_t>(6, 1));
      CHECK(file_contents(path) == previous);
    }
    CHECK(file_contents(path) == previous);
    CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
  }

  SECTION("unknown dimension") {
    Hdf5Writer writer(path);
    writer.add_dimension("time", std::vector<std::int64_t>{0});
    CHECK_THROWS_WITH(writer.add_variable("rate", {"time", "street"}, std::vector<double>{1.0}),
                      Contains(path.string()) && Contains("'rate'") && Contains("'street'"));
  }

  SECTION("names are unique, text is UTF-8, bookkeeping attributes are reserved") {
    Hdf5Writer writer(path);
    writer.add_dimension("time", std::vector<std::int64_t>{0});
    CHECK_THROWS_WITH(writer.add_dimension("time", std::vector<double>{0.0}),
                      Contains(path.string()) && Contains("'time'") && Contains("already used"));
    CHECK_THROWS_WITH(writer.add_variable("time", {"time"}, std::vector<double>{0.0}),
                      Contains("'time'") && Contains("already used"));
    CHECK_THROWS_WITH(writer.add_variable("name", {"time"}, std::vector<std::string>{"\xff"}),
                      Contains("'name'") && Contains("UTF-8"));
    CHECK_THROWS_WITH(writer.add_variable("rate", {"time"}, std::vector<double>{0.0},
                                          {{"CLASS", std::string("x")}}),
                      Contains("'rate'") && Contains("'CLASS'") && Contains("reserved"));
    CHECK_THROWS_WITH(writer.add_variable("a/b", {"time"}, std::vector<double>{0.0}),
                      Contains("'a/b'") && Contains("invalid name"));
  }

  SECTION("the file cannot be created") {
    const fs::path nowhere = dir.path() / "missing-directory" / "out.nc";
    CHECK_THROWS_WITH(Hdf5Writer(nowhere),
                      Contains(nowhere.string()) && Contains("does not exist"));
    CHECK_THROWS_AS(Hdf5Writer(nowhere), childsim::io::OutputError);
  }

  SECTION("commit twice") {
    Hdf5Writer writer(path);
    writer.commit();
    CHECK_THROWS_WITH(writer.commit(), Contains(path.string()) && Contains("already committed"));
    CHECK_THROWS_WITH(writer.set_attribute("late", 1.0), Contains("already committed"));
  }
}

TEST_CASE("hdf5_writer, writes the sample file for the python contract test", "[hdf5_writer]") {
  // With CHILDSIM_SAMPLE_OUT set, the sample is left there for the Python test to open;
  // otherwise it goes to a temporary directory that is removed again.
  const char* requested = std::getenv("CHILDSIM_SAMPLE_OUT");
  TempDir dir;
  const fs::path path =
      requested != nullptr && *requested != '\0' ? fs::path(requested) : dir.path() / "sample.nc";
  write_sample(path);

  REQUIRE(H5Fis_hdf5(path.c_str()) > 0);
  Id file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  REQUIRE(file.get() >= 0);
  CHECK(read_numbers<std::int32_t>(file.get(), "children", H5T_NATIVE_INT32) == children_values());
  CHECK(read_strings(file.get(), "street_name") == kStreetNames);
  // Only the file itself: no temporary left beside it.
  std::size_t siblings = 0;
  for (const auto& entry : fs::directory_iterator(fs::absolute(path).parent_path())) {
    if (entry.path().filename().string().rfind(path.filename().string() + ".tmp-", 0) == 0) {
      ++siblings;
    }
  }
  CHECK(siblings == 0);
}

TEST_CASE("hdf5_writer, a full disk is an OutputError that leaves nothing open or behind",
          "[hdf5_writer]") {
  using Catch::Matchers::Contains;
  TempDir dir;
  const fs::path path = dir.path() / "results.nc";
  const std::string previous = "results of an earlier run\n";
  std::ofstream(path, std::ios::binary) << previous;
  ::chmod(path.c_str(), 0640);
  const ssize_t open_before = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
  {
    Hdf5Writer writer(path);
    write_sample_contents(writer);
    // A file-size limit makes write(2) fail (EFBIG) as a full disk does (ENOSPC); lowered
    // for this block only, with SIGXFSZ ignored so that the failure is an errno.
    rlimit saved{};
    REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
    const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit small = saved;
    small.rlim_cur = 1024;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
    std::string message;
    bool typed = false;
    try {
      writer.commit();
    } catch (const childsim::io::OutputError& e) {
      typed = true;
      message = e.what();
    }
    ::setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, old_handler);
    CHECK(typed);
    CHECK_THAT(message,
               Contains(path.string()) && Contains("File too large") && Contains("the file needs"));
    // The cause of the old crash at exit: no HDF5 file may stay open after the failure.
    CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == open_before);
  }
  CHECK(file_contents(path) == previous);
  CHECK(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()) == 1);
}

TEST_CASE("hdf5_writer, keeps an existing file's permissions", "[hdf5_writer]") {
  TempDir dir;
  const fs::path path = dir.path() / "results.nc";
  std::ofstream(path, std::ios::binary) << "old";
  ::chmod(path.c_str(), 0640);
  write_sample(path);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0640);
  CHECK(H5Fis_hdf5(path.c_str()) > 0);
}

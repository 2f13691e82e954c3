// replicate_spool_test: the partial file of a streamed run (sim/io/replicate_spool) and the
// streamed run itself (sim/run/stream) against the in-memory ensemble.
#include "sim/io/replicate_spool.hpp"

#include "sim/io/dataset.hpp"          // write_dataset
#include "sim/io/output_catalog.hpp"   // output_catalog
#include "sim/model/model.hpp"         // Model, run_replicate
#include "sim/run/ensemble.hpp"        // run_scenario
#include "sim/run/stream.hpp"          // run_to_file, run_identity
#include "sim/scenario/scenario.hpp"   // load_scenario, override_run
#include "tests/cpp/test_support.hpp"  // scenario, fresh_dir

#include <catch2/catch.hpp>

#include <cstdint>     // std::uint32_t, std::uint64_t
#include <cstring>     // std::memcmp
#include <filesystem>  // std::filesystem
#include <fstream>     // std::ifstream
#include <iterator>    // std::istreambuf_iterator
#include <string>      // std::string
#include <vector>      // std::vector

namespace {

using namespace childsim;
namespace fs = std::filesystem;

// tests/data/small.yaml, one year, 3 replicates: a second or so.
Scenario short_small() {
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.end = sc.start.plus(11);
  override_run(sc, 3, -1);
  return sc;
}

std::string bytes_of(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Replicate r of variable `name` of the in-memory ensemble equals what the spool gives back.
bool same_replicate(const io::Dataset& ds, const io::ReplicateSpool& spool, const std::string& name,
                    int r) {
  const io::Variable* v = ds.find_variable(name);
  const std::size_t R = ds.find_dim("replicate")->size();
  return std::visit(
      [&](const auto& data) {
        using T = typename std::decay_t<decltype(data)>::value_type;
        if constexpr (std::is_arithmetic_v<T>) {
          const bool per_replicate = v->dims.front() == "replicate";
          const std::size_t n = per_replicate ? data.size() / R : data.size();
          std::vector<T> back(n);
          spool.read(per_replicate ? r : 0, name, back.data());
          return std::memcmp(back.data(), data.data() + (per_replicate ? r * n : 0),
                             n * sizeof(T)) == 0;
        } else {
          return false;
        }
      },
      v->data);
}

}  // namespace

TEST_CASE("replicate_spool, what is appended is read back bit for bit, also after a resume",
          "[replicate_spool]") {
  const Scenario sc = short_small();
  const io::Dataset whole = run_scenario(sc);  // the in-memory ensemble, for reference
  const fs::path dir = test::fresh_dir("spool");
  const fs::path path = dir / "out.h5.partial";
  const io::SpoolIdentity identity = run_identity(sc);
  const io::Recorder one(sc, 1);
  {
    auto spool = io::ReplicateSpool::create(path, identity, one);
    const Model model(sc);
    for (const int r : {2, 0, 1}) {  // any order: the file is indexed by replicate
      io::Recorder rec(sc, 1, r);
      run_replicate(model, r, rec);
      spool->append(r, rec, /*keep=*/r == 1);  // the last one also kept in memory
    }
    // Every variable of the kept replicate, and of one read from the file, as in memory.
    for (const auto& o : io::output_catalog()) {
      INFO("variable " << o.name);
      CHECK(same_replicate(whole, *spool, o.name, 1));
      CHECK(same_replicate(whole, *spool, o.name, 2));
    }
  }  // closed, as by an interrupted run
  auto spool = io::ReplicateSpool::resume(path, identity, one);
  REQUIRE(spool);
  CHECK(spool->count() == 3);
  for (const char* name :
       {"population", "births", "facility_capacity", "parameter_value", "indicator_target_met"})
    for (int r = 0; r < 3; ++r) CHECK(same_replicate(whole, *spool, name, r));
}

TEST_CASE("replicate_spool, a record cut short is dropped, another run's file is refused",
          "[replicate_spool]") {
  const Scenario sc = short_small();
  const fs::path dir = test::fresh_dir("spool-torn");
  const fs::path path = dir / "out.h5.partial";
  const io::SpoolIdentity identity = run_identity(sc);
  const io::Recorder one(sc, 1);
  std::uintmax_t two_records = 0;
  {
    auto spool = io::ReplicateSpool::create(path, identity, one);
    const Model model(sc);
    for (int r = 0; r < 3; ++r) {
      io::Recorder rec(sc, 1, r);
      run_replicate(model, r, rec);
      spool->append(r, rec);
      if (r == 1) two_records = fs::file_size(path);
    }
  }
  fs::resize_file(path, fs::file_size(path) - 10);  // the kill came during the last write
  {
    auto spool = io::ReplicateSpool::resume(path, identity, one);
    CHECK(spool->count() == 2);
    CHECK(spool->has(0));
    CHECK(spool->has(1));
    CHECK_FALSE(spool->has(2));
    CHECK(fs::file_size(path) == two_records);  // the torn record is cut off
  }
  {
    // A damaged length (here 2^62 bytes) is taken for a cut record, never allocated.
    const std::uint32_t replicate = 2;
    const auto blocks = static_cast<std::uint32_t>(io::output_catalog().size());
    const std::uint64_t payload = std::uint64_t{1} << 62;
    std::ofstream damage(path, std::ios::binary | std::ios::app);
    damage.write("REPL", 4);
    damage.write(reinterpret_cast<const char*>(&replicate), 4);
    damage.write(reinterpret_cast<const char*>(&blocks), 4);
    damage.write(reinterpret_cast<const char*>(&payload), 8);
    damage.close();
    const auto damaged = fs::file_size(path);
    auto spool = io::ReplicateSpool::resume(path, identity, one);
    CHECK(spool->count() == 2);
    CHECK(fs::file_size(path) == two_records);
    CHECK(damaged > two_records);
  }
  Scenario other = sc;
  override_run(other, 3, 99);
  CHECK_THROWS_WITH(io::ReplicateSpool::resume(path, run_identity(other), one),
                    Catch::Contains("it was started with seed 7, this run has seed 99") &&
                        Catch::Contains(path.string()));
  override_run(other, 4, 7);
  CHECK_THROWS_AS(io::ReplicateSpool::resume(path, run_identity(other), one), io::ResumeError);
  CHECK_FALSE(io::ReplicateSpool::resume(dir / "none.partial", identity, one));
}

TEST_CASE("stream, a streamed run writes the in-memory ensemble's bytes at 1 and 2 threads",
          "[replicate_spool]") {
  const Scenario sc = short_small();
  const fs::path dir = test::fresh_dir("stream");
  io::write_dataset(run_scenario(sc), dir / "memory.h5");
  for (const int threads : {1, 2}) {
    RunOptions options;
    options.threads = threads;
    const fs::path out = dir / ("streamed" + std::to_string(threads) + ".h5");
    const std::string summary = run_to_file(sc, options, out);
    CHECK(summary.find("mean of 3 replicate(s)") != std::string::npos);
    CHECK(bytes_of(out) == bytes_of(dir / "memory.h5"));
    CHECK_FALSE(fs::exists(io::partial_path(out)));  // removed once the file is complete
  }
}

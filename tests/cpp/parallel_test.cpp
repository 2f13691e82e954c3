// parallel_test: one replicate, and ensembles, give the same bytes at any thread count
// (sim/core/parallel.hpp: loops within a replicate; sim/run/ensemble.cpp: whole replicates at
// once or threads within each).
#include "sim/core/parallel.hpp"      // par::for_blocks, par::for_chunks, par::blocks_for, …
#include "sim/run/ensemble.hpp"       // run_scenario, RunOptions
#include "sim/scenario/scenario.hpp"  // load_scenario
#include "test_support.hpp"           // test::scenario, test::identical

#include <catch2/catch.hpp>

#include <omp.h>  // omp_set_num_threads, omp_get_max_threads

#include <algorithm>  // std::min
#include <numeric>    // std::iota

using namespace childsim;

namespace {

// The pool shares every loop while it lives, even when the test machine is busy (ctest runs
// two tests at once): otherwise most months would run as at 1 thread (thread_pool.hpp:
// allow_alone) and these tests would compare 1 thread with 1 thread.
struct SharedLoops {
  SharedLoops() { par::allow_alone(false); }
  ~SharedLoops() { par::allow_alone(true); }
  SharedLoops(const SharedLoops&) = delete;
  SharedLoops& operator=(const SharedLoops&) = delete;
};

// Every output array of `sc` at 2, 3 and 4 threads against 1 thread, to the bit (NaNs too).
void check_identical_across_threads(const Scenario& sc) {
  const SharedLoops shared;
  RunOptions one;
  one.threads = 1;
  const io::Dataset reference = run_scenario(sc, one);
  REQUIRE(!reference.variables.empty());
  for (const int threads : {2, 3, 4}) {
    RunOptions opt;
    opt.threads = threads;
    const io::Dataset ds = run_scenario(sc, opt);
    REQUIRE(ds.variables.size() == reference.variables.size());
    for (const auto& v : reference.variables) {
      INFO("variable " << v.name << " with " << threads << " threads");
      const auto* other = ds.find_variable(v.name);
      REQUIRE(other != nullptr);
      CHECK(test::identical(other->data, v.data));
    }
  }
}

}  // namespace

TEST_CASE("parallel, one baseline replicate is identical at 1, 2, 3 and 4 threads",
          "[parallel][threads]") {
  // The whole district (about 30 chunks of children), two years: two September intakes,
  // the holiday sessions, access months and two yearly compactions.
  Scenario sc = load_scenario(test::scenario("scenarios/baseline.yaml"));
  sc.replicates = 1;
  sc.end = sc.start.plus(23);
  check_identical_across_threads(sc);
}

TEST_CASE("parallel, one replicate with every service and investment is identical at 1-4 threads",
          "[parallel][threads]") {
  // New and extended nursery classes, a nursery closed, a kindergarten cut (displacement and
  // dissolved lists), baby-room outreach, holiday classes, clinics (tests/data/every_service.yaml).
  const Scenario sc = load_scenario(test::scenario("tests/data/every_service.yaml"));
  REQUIRE(sc.replicates == 1);
  check_identical_across_threads(sc);
}

TEST_CASE("parallel, a replicate whose thread count changes from month to month is identical",
          "[parallel][threads]") {
  // The pool runs a month's loops on one thread when the machine is busy and on all of them
  // again later (sim/core/thread_pool.hpp: note_month), so the blocks of a loop, and what the
  // services keep between months, change size mid-run: the outputs must not notice.
  const SharedLoops shared;
  const Scenario sc = load_scenario(test::scenario("tests/data/every_service.yaml"));
  RunOptions one;
  one.threads = 1;
  const io::Dataset reference = run_scenario(sc, one);
  RunOptions changing;
  changing.threads = 2;
  changing.progress = [](int, int month, int, int) { omp_set_num_threads(1 + month % 3); };
  const io::Dataset ds = run_scenario(sc, changing);
  omp_set_num_threads(2);
  REQUIRE(ds.variables.size() == reference.variables.size());
  for (const auto& v : reference.variables) {
    INFO("variable " << v.name);
    const auto* other = ds.find_variable(v.name);
    REQUIRE(other != nullptr);
    CHECK(test::identical(other->data, v.data));
  }
}

TEST_CASE("parallel, ensembles are identical whether replicates or loops share the threads",
          "[parallel][threads]") {
  // 3 replicates: at 2 threads two run at once and the third alone with both threads; at 3
  // threads all three at once; at 4 threads one after another with four threads each.
  Scenario sc = load_scenario(test::scenario("tests/data/small.yaml"));
  sc.replicates = 3;
  sc.end = sc.start.plus(23);
  check_identical_across_threads(sc);
}

TEST_CASE("parallel, blocks_for keeps small loops serial and gives large ones every block",
          "[parallel]") {
  const SharedLoops shared;  // n_blocks() as configured, whatever the machine's load
  const int saved = omp_get_max_threads();
  for (const int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    const std::size_t nb = par::n_blocks();
    INFO("threads = " << threads << ", n_blocks = " << nb);
    CHECK(nb == (threads > 1 ? static_cast<std::size_t>(threads) * par::blocks_per_thread : 1));
    CHECK(par::blocks_for(0, 100) == 1);
    CHECK(par::blocks_for(199, 100) == 1);  // fewer than 2 blocks of 100 rows: serial
    CHECK(par::blocks_for(200, 100) == std::min<std::size_t>(nb, 2));
    CHECK(par::blocks_for(550, 100) == std::min<std::size_t>(nb, 5));  // each block >= 100 rows
    CHECK(par::blocks_for(1000000, 100) == nb);
  }
  omp_set_num_threads(saved);
}

TEST_CASE("parallel, blocks and chunks cover every row once, in row order when concatenated",
          "[parallel]") {
  const int saved = omp_get_max_threads();
  for (const std::size_t n :
       {std::size_t{0}, std::size_t{1}, std::size_t{2047}, par::chunk_rows * 3 + 5}) {
    for (const std::size_t threads : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
      INFO("n = " << n << ", threads = " << threads);
      std::vector<std::vector<std::size_t>> blocks(threads);
      par::for_blocks(n, threads, [&](std::size_t b, std::size_t begin, std::size_t end) {
        for (std::size_t i = begin; i < end; ++i) blocks[b].push_back(i);
      });
      std::vector<std::size_t> rows;
      par::concatenate(blocks, rows);
      std::vector<std::size_t> expected(n);
      std::iota(expected.begin(), expected.end(), std::size_t{0});
      CHECK(rows == expected);

      std::vector<std::vector<std::size_t>> chunks(par::n_chunks(n));
      std::vector<std::vector<std::int64_t>> per_thread(threads, std::vector<std::int64_t>(1, 0));
      par::for_chunks(
          n, threads,
          [&](std::size_t thread, std::size_t chunk, std::size_t begin, std::size_t end) {
            for (std::size_t i = begin; i < end; ++i) chunks[chunk].push_back(i);
            per_thread[thread][0] += static_cast<std::int64_t>(end - begin);
          });
      rows.clear();
      par::concatenate(chunks, rows);
      CHECK(rows == expected);
      std::int64_t total = 0;
      par::add_counts(per_thread, &total);
      CHECK(total == static_cast<std::int64_t>(n));
    }
  }
  omp_set_num_threads(saved);
}

// kept_scratch_test: the buffers a state keeps for its steps — one object per type and state,
// kept between calls, destroyed with the state, not carried by a copy, and safe to ask for
// from two threads at once for two types (a step and the job beside it: services.cpp).
#include "sim/core/kept_scratch.hpp"

#include <catch2/catch.hpp>

#include <thread>   // std::thread
#include <utility>  // std::move
#include <vector>   // std::vector

using namespace childsim;

namespace {

// Counts the objects alive, to see each made once and destroyed once.
struct Counted {
  static inline int alive = 0;
  std::vector<int> buffer;
  Counted() { ++alive; }
  ~Counted() { --alive; }
  Counted(const Counted&) = delete;
  Counted& operator=(const Counted&) = delete;
};

struct Other {
  std::vector<double> buffer;
};

}  // namespace

TEST_CASE("kept_scratch, one object per type and holder, kept between calls, freed with it",
          "[kept_scratch]") {
  REQUIRE(Counted::alive == 0);
  {
    KeptScratch kept;
    CHECK_FALSE(kept.holds<Counted>());
    Counted& a = kept.get<Counted>();
    CHECK(Counted::alive == 1);
    a.buffer.assign(1000, 7);
    Counted& again = kept.get<Counted>();
    CHECK(&again == &a);  // the same object: its buffer kept
    CHECK(again.buffer.size() == 1000);
    CHECK(Counted::alive == 1);
    CHECK(kept.holds<Counted>());
    CHECK_FALSE(kept.holds<Other>());
    Other& o = kept.get<Other>();
    CHECK(static_cast<void*>(&o) != static_cast<void*>(&a));

    KeptScratch another;  // another state's: its own objects
    CHECK(&another.get<Counted>() != &a);
    CHECK(Counted::alive == 2);

    const KeptScratch copy = kept;  // a copy keeps nothing
    CHECK_FALSE(copy.holds<Counted>());
    CHECK(Counted::alive == 2);

    KeptScratch moved = std::move(kept);  // a move takes the objects themselves
    CHECK(&moved.get<Counted>() == &a);
    CHECK(Counted::alive == 2);
    moved = KeptScratch{};  // freed
    CHECK(Counted::alive == 1);
  }
  CHECK(Counted::alive == 0);  // every object destroyed once, as its own type
}

TEST_CASE("kept_scratch, two types asked for from two threads at once", "[kept_scratch][threads]") {
  // The clinics' job asks for its buffers on a pool thread while the caller asks for the
  // places' (services.cpp, par::Beside). Many fresh holders, so that first uses race.
  for (int round = 0; round < 200; ++round) {
    KeptScratch kept;
    Counted* a = nullptr;
    Other* b = nullptr;
    std::thread t([&] { a = &kept.get<Counted>(); });
    b = &kept.get<Other>();
    t.join();
    REQUIRE(a == &kept.get<Counted>());
    REQUIRE(b == &kept.get<Other>());
  }
  CHECK(Counted::alive == 0);
}

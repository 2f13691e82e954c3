// kept_scratch: memory a monthly step keeps from one month to the next, held by the
// replicate's state.
//
// Several steps need buffers of a size set by the population (a choice per child, sort keys per
// row, lists per chunk). Allocated afresh every month, their pages were faulted in again every
// month (~12 µs a 4 KB page on the machines measured: docs/performance.md), so each step keeps
// its buffers. They belong to the replicate, not to a thread: they are freed with its state,
// and a state recycled for the next replicate of an ensemble (state.hpp: recycled) starts
// without them, so the next replicate's spin-up finds their room free (thread-local buffers,
// kept for the life of the thread, sat beside that spin-up's own temporaries: the second
// replicate's peak heap was 34.4 MB against the first's 30.9 MB, measured with heaptrack).
//
// Each step keeps one object of a type of its own (private to its source file), found by type:
//
//     SortScratch& scratch = st.kept.get<SortScratch>();
//
// The buffers carry no information from one month to the next that the results depend on
// (a step that caches values keeps the inputs with them and compares): the outputs are the
// same whether a state's kept scratch is new or not.
#pragma once

#include "sim/core/check.hpp"  // CHILDSIM_CHECK

#include <array>    // std::array
#include <atomic>   // std::atomic
#include <cstddef>  // std::size_t
#include <memory>   // std::unique_ptr

namespace childsim {

namespace detail {
struct KeptDeleter {  // destroys a kept object as the type it was made as
  void (*destroy)(void*) = nullptr;
  void operator()(void* p) const { destroy(p); }
};
}  // namespace detail

class KeptScratch {
 public:
  KeptScratch() = default;
  /// A copy keeps nothing (a copied state allocates its own buffers when stepped).
  KeptScratch(const KeptScratch&) {}
  KeptScratch& operator=(const KeptScratch&) {
    slots_ = {};
    return *this;
  }
  KeptScratch(KeptScratch&&) noexcept = default;
  KeptScratch& operator=(KeptScratch&&) noexcept = default;
  ~KeptScratch() = default;

  /// The object of type T kept here, default-constructed on first use. Different types may be
  /// asked for from different threads at once (each has its own slot); one type from one
  /// thread at a time. T must be a type of the step's own (two steps keeping a bare
  /// std::vector<int> would share it).
  template <class T>
  T& get() {
    Slot& p = slots_[slot_of<T>()];
    if (!p) p = Slot(new T(), Deleter{[](void* q) { delete static_cast<T*>(q); }});
    return *static_cast<T*>(p.get());
  }

  /// Whether an object of type T is kept.
  template <class T>
  bool holds() const {
    return static_cast<bool>(slots_[slot_of<T>()]);
  }

 private:
  static constexpr std::size_t max_types = 16;  // kept types in the whole program (now 6)

  // Each type's slot, numbered in the order the types are first asked for (the same slot in
  // every state).
  template <class T>
  static std::size_t slot_of() {
    static const std::size_t slot = next_slot();
    return slot;
  }
  static std::size_t next_slot() {
    static std::atomic<std::size_t> next{0};
    const std::size_t slot = next.fetch_add(1);
    CHILDSIM_CHECK(slot < max_types, "kept_scratch: more kept types than KeptScratch::max_types");
    return slot;
  }

  using Deleter = detail::KeptDeleter;
  using Slot = std::unique_ptr<void, Deleter>;
  std::array<Slot, max_types> slots_{};
};

}  // namespace childsim

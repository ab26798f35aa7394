// One user's windowFunnel chains (SPEC 2.8, ClickHouse's default mode), the
// step every funnel walk of lib/query takes per event.
//
// A user's state is steps + 1 numbers: state[0] the level reached, state[k]
// (k = 1..steps) the first time of the latest chain that reached step k
// (kUnsetChain: none). Fed the user's events in (time, step) order, an
// event of step 1 starts a chain at its time and an event of step k > 1
// extends the chain of step k - 1 when it is at most `window` after that
// chain's first event. Keeping only the latest start of each step's chains
// is never worse (a later start leaves more of the window), so the level is
// the highest k with events e1..ek, t1 <= .. <= tk, tk - t1 <= window.
//
// The times are in any one unit: seconds for rows, hours for the rollups'
// hour cells (funnel_bounds.h).
//
//   std::vector<uint32_t> state(steps + 1, kUnsetChain);
//   state[0] = 0;
//   for (const auto& [time, step] : events) advance_chain(state.data(), steps, time, step, window);
//
// Thread-safety: a pure function.
#ifndef USAGEDB_QUERY_FUNNEL_CHAIN_H_
#define USAGEDB_QUERY_FUNNEL_CHAIN_H_

#include <algorithm>
#include <cstdint>

namespace usagedb::query {

// Timestamps end at 2105-12-31 23:59:59 (4291747199): never this.
inline constexpr uint32_t kUnsetChain = UINT32_MAX;

// Applies an event of step `step` (0-based) at `time` to `state` (steps + 1
// entries, as above); whether it started or extended a chain. A chain stops
// at the last step unless kStopAtLast is false (the level is the same; the
// funnel bounds' upper walk keeps extending to see every chain's end).
template <bool kStopAtLast = true>
inline bool advance_chain(uint32_t* state, uint32_t steps, uint32_t time, uint32_t step, uint64_t window) {
  if (step == 0) {
    state[1] = time;  // a chain starts now
    state[0] = std::max<uint32_t>(state[0], 1);
    return true;
  }
  const uint32_t chain = state[step];  // of the step before
  if (chain == kUnsetChain || time > uint64_t{chain} + window || (kStopAtLast && state[0] == steps)) return false;
  state[step + 1] = chain;
  state[0] = std::max(state[0], step + 1);
  return true;
}

}  // namespace usagedb::query

#endif  // USAGEDB_QUERY_FUNNEL_CHAIN_H_

// CountCapped: a per-key event counter whose keys come from the network (peer ids, remote
// hosts), so it must not grow without bound: once `max_keys` keys are in the map, a key not
// yet in it is counted under "other". Header-only and pure; the caller guards the map.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace gl {

inline void CountCapped(std::map<std::string, std::uint64_t>& counts, const std::string& key, std::size_t max_keys) {
  ++counts[counts.size() < max_keys || counts.count(key) > 0 ? key : "other"];
}

}  // namespace gl

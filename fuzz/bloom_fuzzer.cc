// libFuzzer target: a bloom filter block (lsm/FORMAT.md, "Filter block")
// through BloomValid and BloomMayMatch. Filters carry no checksum of their
// own (the table's block trailer covers them), so the raw bytes reach the
// decoder directly; the mode byte seeds the probed keys. With mode bit 0 set
// the bytes are also split into keys (at '\n') that a BloomBuilder adds:
// the filter it builds must be valid and match every one of them.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "lsm/bloom.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  const bool valid = lsm::BloomValid(in.bytes);
  // A malformed filter must answer "may match" for every key: it must never
  // hide a key (lsm/bloom.h).
  for (int i = 0; i < 16; ++i) {
    const std::string key = "key" + std::to_string(in.mode * 16 + i);
    const bool may = lsm::BloomMayMatch(in.bytes, lsm::BloomHash(key));
    if (!valid && !may) __builtin_trap();
  }
  if (in.fixup()) {
    lsm::BloomBuilder builder(1 + (in.mode >> 1) % 24);
    std::vector<std::string_view> keys;
    std::string_view rest = in.bytes;
    while (!rest.empty() && keys.size() < 4096) {
      const size_t nl = rest.find('\n');
      keys.push_back(rest.substr(0, nl));
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    }
    for (std::string_view k : keys) builder.AddHash(lsm::BloomHash(k));
    const std::string filter = builder.Finish();
    if (!lsm::BloomValid(filter)) __builtin_trap();
    for (std::string_view k : keys) {
      if (!lsm::BloomMayMatch(filter, lsm::BloomHash(k))) __builtin_trap();
    }
  }
  return 0;
}

// libFuzzer target: one block's contents (lsm/FORMAT.md, "Block contents")
// through Block::Parse and the block iterator: forward, backward, Seek.
// Blocks carry no checksum of their own (the trailer is the table's), so
// every input reaches the decoder; mode bit 1 picks the comparator (internal
// keys as in data and index blocks, or bytewise as in the properties block).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "lsm/block.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  const lsm::KeyComparator cmp =
      (in.mode & 2) != 0 ? lsm::CompareBytewise : lsm::CompareInternalKeys;
  std::shared_ptr<const lsm::Block> block;
  if (!lsm::Block::Parse(std::move(in.bytes), "fuzz.sst", 0, &block, cmp).ok()) return 0;
  std::vector<std::string> keys;
  std::unique_ptr<lsm::InternalIterator> it = block->NewIterator(cmp);
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (keys.size() < 32) keys.emplace_back(it->key());
    (void)it->value();
  }
  (void)it->status();
  for (it->SeekToLast(); it->Valid(); it->Prev()) (void)it->value();
  (void)it->status();
  keys.push_back(std::string(8, '\0'));
  keys.push_back(std::string(9, '\xff'));
  for (const std::string& k : keys) {
    // Seek needs a well-formed target under the internal-key comparator.
    if (cmp == lsm::CompareInternalKeys && k.size() < 8) continue;
    it->Seek(k);
    if (it->Valid()) it->Prev();
    if (it->Valid()) it->Next();
    (void)it->status();
  }
  return 0;
}

// libFuzzer target: an SSTable file (lsm/FORMAT.md) through Table::Open, both
// iteration directions, Seek, Get, ApproximateOffsetOf and VerifyChecksums.
// Fixup mode rewrites the footer checksum and the trailer of every block the
// footer and the index point at, so mutated block contents reach the block,
// index, filter and properties decoders.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "lsm/block.h"
#include "lsm/format.h"
#include "lsm/table.h"

namespace strata::fuzz {
namespace {

// Rewrites the trailer of the block at `h` if it lies inside [0, limit).
void FixBlockTrailer(std::string* file, const lsm::BlockHandle& h, uint64_t limit) {
  if (h.offset > limit || h.bytes > limit - h.offset ||
      limit - h.offset - h.bytes < lsm::kBlockTrailerBytes) {
    return;
  }
  const std::string_view contents(file->data() + h.offset, h.bytes);
  const uint8_t type = static_cast<uint8_t>((*file)[h.offset + h.bytes]);
  std::string trailer;
  lsm::AppendBlockTrailer(contents, static_cast<lsm::BlockType>(type), &trailer);
  file->replace(h.offset + h.bytes, trailer.size(), trailer);
}

lsm::BlockHandle FixedHandle(const char* p) {
  return lsm::BlockHandle{DecodeFixed64(p), DecodeFixed64(p + 8)};
}

void Fixup(std::string* file) {
  if (file->size() < lsm::kFooterBytes) return;
  const uint64_t footer_offset = file->size() - lsm::kFooterBytes;
  char* footer = file->data() + footer_offset;
  constexpr size_t kChecksummed = 3 * 16 + 4;
  EncodeFixed64(footer + kChecksummed, Checksum64(std::string_view(footer, kChecksummed)));
  EncodeFixed64(footer + kChecksummed + 8, lsm::kTableMagic);
  const lsm::BlockHandle index = FixedHandle(footer);
  for (int i = 0; i < 3; ++i) FixBlockTrailer(file, FixedHandle(footer + 16 * i), footer_offset);
  // The index names the data blocks: fix each one's trailer too. Parse the
  // index leniently (bytewise keys) so that a mutated key does not hide them.
  if (index.offset > footer_offset || index.bytes > footer_offset - index.offset) return;
  std::shared_ptr<const lsm::Block> block;
  if (!lsm::Block::Parse(file->substr(index.offset, index.bytes), "index", index.offset, &block,
                         lsm::CompareBytewise)
           .ok()) {
    return;
  }
  std::unique_ptr<lsm::InternalIterator> it = block->NewIterator(lsm::CompareBytewise);
  std::vector<lsm::BlockHandle> handles;
  for (it->SeekToFirst(); it->Valid() && handles.size() < 4096; it->Next()) {
    std::string_view v = it->value();
    lsm::BlockHandle h;
    if (lsm::DecodeBlockHandle(&v, &h)) handles.push_back(h);
  }
  for (const lsm::BlockHandle& h : handles) FixBlockTrailer(file, h, footer_offset);
}

void Exercise(const lsm::Table& table) {
  ReadOptions ro;
  ro.fill_cache = (table.file_bytes() & 1) != 0;
  std::vector<std::string> keys;
  {
    std::unique_ptr<lsm::InternalIterator> it = table.NewIterator(ro);
    size_t n = 0;
    for (it->SeekToFirst(); it->Valid() && n < 100000; it->Next(), ++n) {
      if (keys.size() < 64) keys.emplace_back(it->key());
      (void)it->value();
    }
    (void)it->status();
    n = 0;
    for (it->SeekToLast(); it->Valid() && n < 100000; it->Prev(), ++n) (void)it->value();
    (void)it->status();
  }
  keys.push_back(std::string("\0\0\0\0\0\0\0\0", 8));
  keys.push_back(std::string(12, '\xff'));
  for (const std::string& k : keys) {
    bool found = false;
    bool bloom_negative = false;
    std::string ikey;
    std::string value;
    (void)table.Get(ro, k, &found, &ikey, &value, &bloom_negative);
    (void)table.ApproximateOffsetOf(k);
    if (k.size() >= 8) (void)table.KeyMayMatch(std::string_view(k).substr(0, k.size() - 8));
    std::unique_ptr<lsm::InternalIterator> it = table.NewIterator(ro);
    it->Seek(k);
    if (it->Valid()) {
      it->Prev();
      if (it->Valid()) it->Next();
    }
    (void)it->status();
  }
  (void)table.VerifyChecksums();
}

}  // namespace
}  // namespace strata::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  if (in.fixup()) fuzz::Fixup(&in.bytes);
  lsm::TableOptions options;
  const uint64_t file_bytes = in.bytes.size();
  // Mode bit 1: through a block cache (the cached and the uncached paths differ).
  // A new file number per input: cached blocks of earlier inputs never match.
  static lsm::BlockCache* cache = new lsm::BlockCache(1 << 20, 0);
  static uint64_t file_number = 0;
  std::unique_ptr<lsm::Table> table;
  Status s = lsm::Table::Open(options, std::make_unique<fuzz::StringFile>(std::move(in.bytes)),
                              file_bytes, ++file_number, (in.mode & 2) != 0 ? cache : nullptr, &table);
  if (s.ok()) fuzz::Exercise(*table);
  return 0;
}

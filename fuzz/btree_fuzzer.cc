// libFuzzer target: a B+ tree data file (btree/FORMAT.md, btree.db) read
// three ways: every page through ValidatePage (and a validated node's cells
// through the accessors the tree uses), the whole file through the offline
// checker (btree::CheckFile: meta pages, tree walk, overflow chains, free
// list), and (mode bit 1) a database directory holding it opened as a
// "btree" engine whose keys are all read back through the pager and buffer
// pool. Fixup mode reseals every page (trailer checksum) at the page size
// the meta page names, so the page decoders behind the checksum are reached.
#include <cstddef>
#include <cstdint>
#include <string>

#include "btree/check.h"
#include "btree/format.h"
#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "strata/engine.h"

namespace strata::fuzz {
namespace {

size_t PageBytesOf(const std::string& f) {
  if (f.size() >= btree::kMetaOffPageBytes + 4) {
    const uint32_t n = DecodeFixed32(f.data() + btree::kMetaOffPageBytes);
    if (btree::ValidPageBytes(n)) return n;
  }
  return btree::kPageBytesMin;
}

void ReadPages(const std::string& f, size_t page_bytes) {
  for (uint64_t no = 0; (no + 1) * page_bytes <= f.size() && no < 256; ++no) {
    const char* p = f.data() + no * page_bytes;
    if (no < btree::kMetaPages) {
      btree::Meta meta;
      (void)btree::DecodeMeta(p, page_bytes, no, "btree.db", &meta);
      continue;
    }
    if (!btree::ValidatePage(p, page_bytes, no, "btree.db").ok()) continue;
    const uint8_t type = btree::PageTypeOf(p);
    const size_t count = btree::CountOf(p);
    if (type == static_cast<uint8_t>(btree::PageType::kLeaf)) {
      for (size_t i = 0; i < count; ++i) (void)btree::LeafCellAt(p, i);
      if (count > 0) (void)btree::LeafLowerBound(p, btree::LeafKeyAt(p, count / 2));
      (void)btree::LeafLowerBound(p, "");
    } else if (type == static_cast<uint8_t>(btree::PageType::kBranch)) {
      for (size_t i = 0; i <= count; ++i) (void)btree::BranchChildAt(p, i);
      if (count > 0) (void)btree::BranchChildFor(p, btree::BranchKeyAt(p, count / 2));
      (void)btree::BranchChildFor(p, "\xff\xff");
    } else if (type == static_cast<uint8_t>(btree::PageType::kFreeList)) {
      for (size_t i = 0; i < count; ++i) (void)btree::FreeEntryAt(p, i);
    } else if (type == static_cast<uint8_t>(btree::PageType::kOverflow)) {
      (void)btree::OverflowData(p);
    }
  }
}

void OpenEngine(ScratchDir* dir) {
  Options options;
  options.engine = "btree";
  options.create_if_missing = false;
  options.file_system = std::shared_ptr<io::FileSystem>(PosixFs(), [](io::FileSystem*) {});
  std::unique_ptr<Engine> engine;
  if (!Open(options, dir->path(), &engine).ok()) return;
  std::unique_ptr<Iterator> it = engine->NewIterator(ReadOptions{});
  size_t n = 0;
  std::string first;
  for (it->SeekToFirst(); it->Valid() && n < 100000; it->Next(), ++n) {
    if (n == 0) first.assign(it->key());
    (void)it->value();
  }
  (void)it->status();
  for (it->SeekToLast(); it->Valid() && n < 200000; it->Prev(), ++n) (void)it->value();
  std::string value;
  (void)engine->Get(ReadOptions{}, first, &value);
  (void)engine->Close();
}

}  // namespace
}  // namespace strata::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace strata;
  static fuzz::ScratchDir scratch;  // removed at exit
  fuzz::ScratchDir* dir = &scratch;
  fuzz::Input in;
  if (!fuzz::SplitInput(data, size, &in)) return 0;
  const size_t page_bytes = fuzz::PageBytesOf(in.bytes);
  if (in.fixup()) {
    for (size_t off = 0; off + page_bytes <= in.bytes.size(); off += page_bytes) {
      btree::SealPage(in.bytes.data() + off, page_bytes);
    }
  }
  fuzz::ReadPages(in.bytes, page_bytes);
  dir->Reset();
  dir->Write("btree.db", in.bytes);
  btree::CheckReport report;
  (void)btree::CheckFile(fuzz::PosixFs(), dir->Join("btree.db"), &report);
  if ((in.mode & 2) != 0) {
    dir->Write("KIND", "btree\n");
    fuzz::OpenEngine(dir);
  }
  return 0;
}

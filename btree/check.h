// Offline reading of a btree.db file: the newest valid meta page, and the
// structural checker behind `strata btree check` and the tests.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "btree/format.h"
#include "io/file_system.h"
#include "strata/status.h"

namespace strata::btree {

// Reads both meta pages and returns the valid one with the higher checkpoint
// id. The page size comes from the meta pages (slot 0, else found by trying
// slot 1 at every legal size).
Status LoadNewestMeta(const io::RandomAccessFile& in, size_t* page_bytes, Meta* meta);

struct CheckReport {
  size_t page_bytes = 0;
  Meta meta;
  // Pages by type (index = PageType value).
  std::array<uint64_t, 6> pages_by_type{};
  uint64_t free_pages = 0;
  uint64_t entries = 0;
  uint64_t overflow_bytes = 0;
  // Fill of leaf and branch pages in tenths of the usable bytes (10 = full).
  std::array<uint64_t, 11> leaf_fill{};
  std::array<uint64_t, 11> branch_fill{};
};

// Checks the newest checkpoint of `file`: every page's checksum, number and
// type; key order within pages and against the separators of every ancestor
// (fences); a non-root page at least a quarter full; overflow chains; the
// entry count; and that every page is reachable from the tree, the free list
// or is a meta page, exactly one of them. The first violation is Corruption
// naming the page and its byte offset in the file.
Status CheckFile(io::FileSystem* fs, const std::string& file, CheckReport* report);
// The same on an open file (the scrubber passes a rate-limited one).
Status CheckFile(const io::RandomAccessFile& in, CheckReport* report);

}  // namespace strata::btree

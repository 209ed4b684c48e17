// The B+ tree's on-disk page format (see btree/FORMAT.md, byte by byte).
//
// One data file (btree.db) of fixed-size pages. Pages 0 and 1 are the two
// alternating meta pages; every other page is a branch, leaf, overflow or
// free-list page. Every page: a 32-byte header, a body, and an XXH3-64 trailer
// over everything before it.
//
// Decoders never trust a byte: ValidatePage checks every offset, length and
// the key order of a page once, when it is read from disk; after that the
// accessors below may index it without further checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/coding.h"
#include "strata/status.h"

namespace strata::btree {

// On-disk values: never renumbered or reused; 0 is never valid.
enum class PageType : uint8_t {
  kMeta = 1,
  kBranch = 2,
  kLeaf = 3,
  kOverflow = 4,
  kFreeList = 5,
};
std::string_view PageTypeName(uint8_t type);

inline constexpr size_t kHeaderBytes = 32;
inline constexpr size_t kTrailerBytes = 8;
inline constexpr size_t kPageOverheadBytes = kHeaderBytes + kTrailerBytes;
inline constexpr size_t kSlotBytes = 2;
inline constexpr size_t kPageBytesMin = 512;
inline constexpr size_t kPageBytesMax = 64 * 1024;
inline constexpr uint64_t kMetaMagic = 0x4545525442525453ull;  // "STRBTREE" little-endian
inline constexpr uint32_t kFormatVersion = 1;
inline constexpr uint64_t kMetaPages = 2;  // pages 0 and 1

// Header field offsets.
inline constexpr size_t kOffType = 0;
inline constexpr size_t kOffLevel = 1;
inline constexpr size_t kOffCount = 2;
inline constexpr size_t kOffAux = 4;  // branch/leaf: content start; overflow: data bytes
inline constexpr size_t kOffPageNo = 8;
inline constexpr size_t kOffLsn = 16;
inline constexpr size_t kOffLink = 24;  // branch: child 0; overflow/free list: next page

// Leaf cell flags.
inline constexpr uint8_t kCellVersioned = 1;
inline constexpr uint8_t kCellOverflow = 2;
inline constexpr uint8_t kCellFlagsMask = kCellVersioned | kCellOverflow;

// Meta page body offsets.
inline constexpr size_t kMetaOffMagic = 32;
inline constexpr size_t kMetaOffVersion = 40;
inline constexpr size_t kMetaOffPageBytes = 44;
inline constexpr size_t kMetaOffCheckpoint = 48;
inline constexpr size_t kMetaOffRoot = 56;
inline constexpr size_t kMetaOffHeight = 64;
inline constexpr size_t kMetaOffPageCount = 72;
inline constexpr size_t kMetaOffFreeHead = 80;
inline constexpr size_t kMetaOffFreeCount = 88;
inline constexpr size_t kMetaOffWalLsn = 96;
inline constexpr size_t kMetaOffEntries = 104;
inline constexpr size_t kMetaBodyEnd = 112;

// Sizes derived from the page size.
struct PageGeometry {
  size_t page_bytes = 0;
  size_t usable = 0;          // page_bytes - header - trailer
  size_t cell_max = 0;        // largest cell (slot excluded): usable / 4 - slot
  size_t key_max = 0;         // largest key
  size_t inline_value_max = 0;  // values above go to overflow pages (unversioned, key_max key)
  size_t overflow_data = 0;   // value bytes per overflow page
  size_t free_entries = 0;    // page numbers per free-list page
  static PageGeometry For(size_t page_bytes);
};

bool ValidPageBytes(size_t page_bytes);

struct Meta {
  uint64_t checkpoint = 0;
  uint64_t root = 0;  // 0: empty tree
  uint32_t height = 0;  // 0: empty; 1: the root is a leaf
  uint64_t page_count = kMetaPages;
  uint64_t free_head = 0;
  uint64_t free_count = 0;
  uint64_t wal_lsn = 1;  // the first WAL record not in this checkpoint
  uint64_t entries = 0;
};

// Raw accessors of a page image (REQUIRES: a validated page or one built here).
inline uint8_t PageTypeOf(const char* p) { return static_cast<uint8_t>(p[kOffType]); }
inline uint8_t LevelOf(const char* p) { return static_cast<uint8_t>(p[kOffLevel]); }
inline uint16_t CountOf(const char* p) { return DecodeFixed16(p + kOffCount); }
inline uint32_t AuxOf(const char* p) { return DecodeFixed32(p + kOffAux); }
inline uint64_t PageNoOf(const char* p) { return DecodeFixed64(p + kOffPageNo); }
inline uint64_t LsnOf(const char* p) { return DecodeFixed64(p + kOffLsn); }
inline uint64_t LinkOf(const char* p) { return DecodeFixed64(p + kOffLink); }
inline uint16_t SlotOf(const char* p, size_t i) {
  return DecodeFixed16(p + kHeaderBytes + kSlotBytes * i);
}

// A decoded leaf cell (views into the page).
struct LeafCell {
  std::string_view key;
  uint8_t flags = 0;
  uint64_t version = 0;
  std::string_view value;     // inline value (empty for overflow)
  uint64_t value_bytes = 0;   // total value bytes
  uint64_t overflow = 0;      // first overflow page (kCellOverflow)
  std::string_view raw;       // the whole cell
};

// Parse cell i of a validated leaf / branch.
LeafCell LeafCellAt(const char* page, size_t i);
std::string_view LeafKeyAt(const char* page, size_t i);
std::string_view BranchKeyAt(const char* page, size_t i);
// Child i of a branch with count n: 0 is the link field, i >= 1 is cell i-1's.
uint64_t BranchChildAt(const char* page, size_t i);

// Index of the first key >= target in a validated leaf.
size_t LeafLowerBound(const char* page, std::string_view target);
// Child index (0 = link, i = after key i-1) of a branch whose range holds target.
size_t BranchChildFor(const char* page, std::string_view target);

// Encodes a leaf cell.
void EncodeLeafCell(std::string* out, std::string_view key, uint8_t flags, uint64_t version,
                    std::string_view inline_value, uint64_t value_bytes, uint64_t overflow);
void EncodeBranchCell(std::string* out, std::string_view key, uint64_t child);

// Builds a branch/leaf page from encoded cells (in key order); REQUIRES fits.
// `cells` are views; they may point anywhere but into `page`.
size_t NodeBytes(size_t cell_bytes_total, size_t count);  // header + slots + cells
void BuildNode(char* page, size_t page_bytes, PageType type, uint8_t level, uint64_t page_no,
               uint64_t lsn, uint64_t link, const std::string_view* cells, size_t count);
void BuildOverflow(char* page, size_t page_bytes, uint64_t page_no, uint64_t lsn, uint64_t next,
                   std::string_view data);
void BuildFreeList(char* page, size_t page_bytes, uint64_t page_no, uint64_t lsn, uint64_t next,
                   const uint64_t* pages, size_t count);
void BuildMeta(char* page, size_t page_bytes, const Meta& meta);
// Sets the trailer checksum.
void SealPage(char* page, size_t page_bytes);

// Checks checksum, page number, type and (for nodes) every slot, cell and the
// key order. `where` names the file for messages. Corruption names the page
// and the byte offset in the file.
Status ValidatePage(const char* page, size_t page_bytes, uint64_t page_no,
                    const std::string& where);
// Validates and decodes a meta page; `page_bytes` is the size read.
Status DecodeMeta(const char* page, size_t page_bytes, uint64_t page_no, const std::string& where,
                  Meta* meta);

// Free-list entries of a validated free-list page.
inline uint64_t FreeEntryAt(const char* p, size_t i) {
  return DecodeFixed64(p + kHeaderBytes + 8 * i);
}
inline std::string_view OverflowData(const char* p) {
  return std::string_view(p + kHeaderBytes, AuxOf(p));
}

}  // namespace strata::btree

#include "btree/format.h"

#include <fmt/core.h>

#include <cstring>

#include "core/assert.h"
#include "core/checksum.h"

namespace strata::btree {

std::string_view PageTypeName(uint8_t type) {
  switch (type) {
    case static_cast<uint8_t>(PageType::kMeta):
      return "meta";
    case static_cast<uint8_t>(PageType::kBranch):
      return "branch";
    case static_cast<uint8_t>(PageType::kLeaf):
      return "leaf";
    case static_cast<uint8_t>(PageType::kOverflow):
      return "overflow";
    case static_cast<uint8_t>(PageType::kFreeList):
      return "freelist";
    default:
      return "invalid";
  }
}

bool ValidPageBytes(size_t page_bytes) {
  return page_bytes >= kPageBytesMin && page_bytes <= kPageBytesMax &&
         (page_bytes & (page_bytes - 1)) == 0;
}

PageGeometry PageGeometry::For(size_t page_bytes) {
  PageGeometry g;
  g.page_bytes = page_bytes;
  g.usable = page_bytes - kPageOverheadBytes;
  g.cell_max = g.usable / 4 - kSlotBytes;
  // flags + key length varint (<= 3 bytes) + version + value length varint
  // (<= 4 bytes for 16 MiB) + overflow page.
  g.key_max = g.cell_max - (1 + 3 + 8 + 4 + 8);
  // An unversioned value with an empty key is inline up to this.
  g.inline_value_max = g.cell_max - (1 + 1 + 3);
  g.overflow_data = g.usable;
  g.free_entries = g.usable / 8;
  return g;
}

namespace {

// Parses a leaf cell from `in` (bounded by the view); false if malformed.
bool ParseLeafCell(std::string_view in, LeafCell* cell) {
  const char* start = in.data();
  if (in.empty()) return false;
  cell->flags = static_cast<uint8_t>(in[0]);
  in.remove_prefix(1);
  if ((cell->flags & ~kCellFlagsMask) != 0) return false;
  if (!GetLengthPrefixed(&in, &cell->key)) return false;
  cell->version = 0;
  if (cell->flags & kCellVersioned) {
    if (!GetFixed64(&in, &cell->version)) return false;
  }
  if (cell->flags & kCellOverflow) {
    uint32_t bytes = 0;
    if (!GetVarint32(&in, &bytes) || !GetFixed64(&in, &cell->overflow)) return false;
    cell->value_bytes = bytes;
    cell->value = {};
  } else {
    if (!GetLengthPrefixed(&in, &cell->value)) return false;
    cell->value_bytes = cell->value.size();
    cell->overflow = 0;
  }
  cell->raw = std::string_view(start, static_cast<size_t>(in.data() - start));
  return true;
}

bool ParseBranchCell(std::string_view in, std::string_view* key, uint64_t* child, size_t* bytes) {
  const char* start = in.data();
  if (!GetLengthPrefixed(&in, key) || !GetFixed64(&in, child)) return false;
  *bytes = static_cast<size_t>(in.data() - start);
  return true;
}

void WriteHeader(char* page, PageType type, uint8_t level, uint16_t count, uint32_t aux,
                 uint64_t page_no, uint64_t lsn, uint64_t link) {
  page[kOffType] = static_cast<char>(type);
  page[kOffLevel] = static_cast<char>(level);
  EncodeFixed16(page + kOffCount, count);
  EncodeFixed32(page + kOffAux, aux);
  EncodeFixed64(page + kOffPageNo, page_no);
  EncodeFixed64(page + kOffLsn, lsn);
  EncodeFixed64(page + kOffLink, link);
}

}  // namespace

LeafCell LeafCellAt(const char* page, size_t i) {
  LeafCell cell;
  const size_t off = SlotOf(page, i);
  // Validated pages: the cell lies in [off, trailer).
  const bool ok = ParseLeafCell(std::string_view(page + off, kPageBytesMax), &cell);
  STRATA_ASSERT(ok);
  return cell;
}

std::string_view LeafKeyAt(const char* page, size_t i) {
  const char* p = page + SlotOf(page, i) + 1;
  uint32_t len = static_cast<uint8_t>(*p);
  if (len < 0x80) return std::string_view(p + 1, len);
  std::string_view in(p, 8);
  const bool ok = GetVarint32(&in, &len);
  STRATA_ASSERT(ok);
  return std::string_view(in.data(), len);
}

std::string_view BranchKeyAt(const char* page, size_t i) {
  const char* p = page + SlotOf(page, i);
  uint32_t len = static_cast<uint8_t>(*p);
  if (len < 0x80) return std::string_view(p + 1, len);
  std::string_view in(p, 8);
  const bool ok = GetVarint32(&in, &len);
  STRATA_ASSERT(ok);
  return std::string_view(in.data(), len);
}

uint64_t BranchChildAt(const char* page, size_t i) {
  if (i == 0) return LinkOf(page);
  const std::string_view key = BranchKeyAt(page, i - 1);
  return DecodeFixed64(key.data() + key.size());
}

size_t LeafLowerBound(const char* page, std::string_view target) {
  size_t lo = 0, hi = CountOf(page);
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (LeafKeyAt(page, mid) < target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

size_t BranchChildFor(const char* page, std::string_view target) {
  size_t lo = 0, hi = CountOf(page);  // the first key > target
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (BranchKeyAt(page, mid) <= target) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

void EncodeLeafCell(std::string* out, std::string_view key, uint8_t flags, uint64_t version,
                    std::string_view inline_value, uint64_t value_bytes, uint64_t overflow) {
  out->push_back(static_cast<char>(flags));
  PutLengthPrefixed(out, key);
  if (flags & kCellVersioned) PutFixed64(out, version);
  if (flags & kCellOverflow) {
    PutVarint32(out, static_cast<uint32_t>(value_bytes));
    PutFixed64(out, overflow);
  } else {
    PutLengthPrefixed(out, inline_value);
  }
}

void EncodeBranchCell(std::string* out, std::string_view key, uint64_t child) {
  PutLengthPrefixed(out, key);
  PutFixed64(out, child);
}

size_t NodeBytes(size_t cell_bytes_total, size_t count) {
  return kHeaderBytes + kSlotBytes * count + cell_bytes_total + kTrailerBytes;
}

void BuildNode(char* page, size_t page_bytes, PageType type, uint8_t level, uint64_t page_no,
               uint64_t lsn, uint64_t link, const std::string_view* cells, size_t count) {
  size_t total = 0;
  for (size_t i = 0; i < count; ++i) total += cells[i].size();
  STRATA_ASSERT(NodeBytes(total, count) <= page_bytes && count <= UINT16_MAX);
  size_t off = page_bytes - kTrailerBytes;
  for (size_t i = 0; i < count; ++i) {
    off -= cells[i].size();
    std::memcpy(page + off, cells[i].data(), cells[i].size());
    EncodeFixed16(page + kHeaderBytes + kSlotBytes * i, static_cast<uint16_t>(off));
  }
  const size_t slots_end = kHeaderBytes + kSlotBytes * count;
  std::memset(page + slots_end, 0, off - slots_end);
  WriteHeader(page, type, level, static_cast<uint16_t>(count), static_cast<uint32_t>(off), page_no,
              lsn, link);
  SealPage(page, page_bytes);
}

void BuildOverflow(char* page, size_t page_bytes, uint64_t page_no, uint64_t lsn, uint64_t next,
                   std::string_view data) {
  STRATA_ASSERT(data.size() <= page_bytes - kPageOverheadBytes);
  WriteHeader(page, PageType::kOverflow, 0, 0, static_cast<uint32_t>(data.size()), page_no, lsn,
              next);
  std::memcpy(page + kHeaderBytes, data.data(), data.size());
  std::memset(page + kHeaderBytes + data.size(), 0,
              page_bytes - kTrailerBytes - kHeaderBytes - data.size());
  SealPage(page, page_bytes);
}

void BuildFreeList(char* page, size_t page_bytes, uint64_t page_no, uint64_t lsn, uint64_t next,
                   const uint64_t* pages, size_t count) {
  STRATA_ASSERT(count * 8 <= page_bytes - kPageOverheadBytes && count <= UINT16_MAX);
  WriteHeader(page, PageType::kFreeList, 0, static_cast<uint16_t>(count), 0, page_no, lsn, next);
  for (size_t i = 0; i < count; ++i) EncodeFixed64(page + kHeaderBytes + 8 * i, pages[i]);
  std::memset(page + kHeaderBytes + 8 * count, 0,
              page_bytes - kTrailerBytes - kHeaderBytes - 8 * count);
  SealPage(page, page_bytes);
}

void BuildMeta(char* page, size_t page_bytes, const Meta& meta) {
  std::memset(page, 0, page_bytes);
  WriteHeader(page, PageType::kMeta, 0, 0, 0, meta.checkpoint % 2, meta.wal_lsn, 0);
  EncodeFixed64(page + kMetaOffMagic, kMetaMagic);
  EncodeFixed32(page + kMetaOffVersion, kFormatVersion);
  EncodeFixed32(page + kMetaOffPageBytes, static_cast<uint32_t>(page_bytes));
  EncodeFixed64(page + kMetaOffCheckpoint, meta.checkpoint);
  EncodeFixed64(page + kMetaOffRoot, meta.root);
  EncodeFixed32(page + kMetaOffHeight, meta.height);
  EncodeFixed64(page + kMetaOffPageCount, meta.page_count);
  EncodeFixed64(page + kMetaOffFreeHead, meta.free_head);
  EncodeFixed64(page + kMetaOffFreeCount, meta.free_count);
  EncodeFixed64(page + kMetaOffWalLsn, meta.wal_lsn);
  EncodeFixed64(page + kMetaOffEntries, meta.entries);
  SealPage(page, page_bytes);
}

void SealPage(char* page, size_t page_bytes) {
  EncodeFixed64(page + page_bytes - kTrailerBytes,
                    Checksum64(page, page_bytes - kTrailerBytes));
}

namespace {

Status PageCorruption(const std::string& where, uint64_t page_no, size_t page_bytes,
                      size_t offset_in_page, std::string_view what) {
  return Status::Corruption(fmt::format("{} page {} @ {}: {}", where, page_no,
                                        page_no * page_bytes + offset_in_page, what));
}

}  // namespace

Status ValidatePage(const char* page, size_t page_bytes, uint64_t page_no,
                    const std::string& where) {
  auto bad = [&](size_t off, std::string_view what) {
    return PageCorruption(where, page_no, page_bytes, off, what);
  };
  const uint64_t stored = DecodeFixed64(page + page_bytes - kTrailerBytes);
  if (stored != Checksum64(page, page_bytes - kTrailerBytes)) {
    return bad(page_bytes - kTrailerBytes, "checksum mismatch");
  }
  if (PageNoOf(page) != page_no) {
    return bad(kOffPageNo, fmt::format("page number field says {}", PageNoOf(page)));
  }
  const uint8_t type = PageTypeOf(page);
  const size_t end = page_bytes - kTrailerBytes;
  const size_t count = CountOf(page);
  switch (type) {
    case static_cast<uint8_t>(PageType::kOverflow):
      if (AuxOf(page) > end - kHeaderBytes) return bad(kOffAux, "overflow data length too big");
      if (count != 0) return bad(kOffCount, "overflow page with a count");
      return Status::Ok();
    case static_cast<uint8_t>(PageType::kFreeList):
      if (count * 8 > end - kHeaderBytes) return bad(kOffCount, "free-list count too big");
      return Status::Ok();
    case static_cast<uint8_t>(PageType::kLeaf):
    case static_cast<uint8_t>(PageType::kBranch):
      break;
    default:
      return bad(kOffType, fmt::format("page type {} is not a tree page", type));
  }
  const bool leaf = type == static_cast<uint8_t>(PageType::kLeaf);
  if (leaf != (LevelOf(page) == 0)) return bad(kOffLevel, "level does not match the page type");
  const size_t content = AuxOf(page);
  if (kHeaderBytes + kSlotBytes * count > content || content > end) {
    return bad(kOffAux, "slot array and content start overlap");
  }
  if (!leaf && count == 0) return bad(kOffCount, "branch without keys");
  std::string_view prev;
  for (size_t i = 0; i < count; ++i) {
    const size_t slot_off = kHeaderBytes + kSlotBytes * i;
    const size_t off = SlotOf(page, i);
    if (off < content || off >= end) return bad(slot_off, "slot points outside the cells");
    std::string_view in(page + off, end - off);
    std::string_view key;
    if (leaf) {
      LeafCell cell;
      if (!ParseLeafCell(in, &cell)) return bad(off, "malformed leaf cell");
      key = cell.key;
    } else {
      uint64_t child = 0;
      size_t bytes = 0;
      if (!ParseBranchCell(in, &key, &child, &bytes)) return bad(off, "malformed branch cell");
    }
    if (i > 0 && key <= prev) return bad(off, "keys out of order");
    prev = key;
  }
  return Status::Ok();
}

Status DecodeMeta(const char* page, size_t page_bytes, uint64_t page_no, const std::string& where,
                  Meta* meta) {
  auto bad = [&](size_t off, std::string_view what) {
    return PageCorruption(where, page_no, page_bytes, off, what);
  };
  if (page_bytes < kMetaBodyEnd + kTrailerBytes) return bad(0, "meta page truncated");
  if (DecodeFixed64(page + kMetaOffMagic) != kMetaMagic) return bad(kMetaOffMagic, "bad magic");
  if (DecodeFixed32(page + kMetaOffPageBytes) != page_bytes) {
    return bad(kMetaOffPageBytes, "page size field does not match");
  }
  const uint64_t stored = DecodeFixed64(page + page_bytes - kTrailerBytes);
  if (stored != Checksum64(page, page_bytes - kTrailerBytes)) {
    return bad(page_bytes - kTrailerBytes, "checksum mismatch");
  }
  if (PageTypeOf(page) != static_cast<uint8_t>(PageType::kMeta)) return bad(kOffType, "not a meta page");
  if (DecodeFixed32(page + kMetaOffVersion) != kFormatVersion) {
    return bad(kMetaOffVersion, "unsupported format version");
  }
  meta->checkpoint = DecodeFixed64(page + kMetaOffCheckpoint);
  if (PageNoOf(page) != page_no || meta->checkpoint % 2 != page_no) {
    return bad(kOffPageNo, "meta page in the wrong slot");
  }
  meta->root = DecodeFixed64(page + kMetaOffRoot);
  meta->height = DecodeFixed32(page + kMetaOffHeight);
  meta->page_count = DecodeFixed64(page + kMetaOffPageCount);
  meta->free_head = DecodeFixed64(page + kMetaOffFreeHead);
  meta->free_count = DecodeFixed64(page + kMetaOffFreeCount);
  meta->wal_lsn = DecodeFixed64(page + kMetaOffWalLsn);
  meta->entries = DecodeFixed64(page + kMetaOffEntries);
  if (meta->page_count < kMetaPages || meta->root >= meta->page_count ||
      (meta->root != 0 && meta->root < kMetaPages) || (meta->root == 0) != (meta->height == 0) ||
      meta->height > 64 || meta->free_head >= meta->page_count ||
      (meta->free_head != 0 && meta->free_head < kMetaPages) ||
      meta->free_count >= meta->page_count || meta->wal_lsn == 0) {
    return bad(kMetaOffRoot, "meta fields out of range");
  }
  return Status::Ok();
}

}  // namespace strata::btree

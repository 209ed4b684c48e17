#include "btree/check.h"

#include <fmt/core.h>

#include <optional>
#include <vector>

namespace strata::btree {

Status LoadNewestMeta(const io::RandomAccessFile& in, size_t* page_bytes, Meta* meta) {
  const std::string& file = in.path();
  char head[kMetaBodyEnd];
  size_t got = 0;
  STRATA_RETURN_IF_ERROR(in.Read(0, sizeof(head), head, &got));
  uint32_t stored = 0;
  if (got == sizeof(head) && DecodeFixed64(head + kMetaOffMagic) == kMetaMagic &&
      ValidPageBytes(DecodeFixed32(head + kMetaOffPageBytes))) {
    stored = DecodeFixed32(head + kMetaOffPageBytes);
  }
  if (stored == 0) {
    // Slot 0 may be torn; slot 1 sits at the page size, so try each size.
    for (size_t size = kPageBytesMin; size <= kPageBytesMax && stored == 0; size *= 2) {
      if (in.Read(size, sizeof(head), head, &got).ok() && got == sizeof(head) &&
          DecodeFixed64(head + kMetaOffMagic) == kMetaMagic &&
          DecodeFixed32(head + kMetaOffPageBytes) == size) {
        stored = static_cast<uint32_t>(size);
      }
    }
    if (stored == 0) return Status::Corruption(file + " page 0 @ 0: no valid meta page");
  }
  std::string page(stored, '\0');
  Meta metas[2];
  Status statuses[2];
  for (uint64_t slot = 0; slot < kMetaPages; ++slot) {
    statuses[slot] = in.Read(slot * stored, stored, page.data(), &got);
    if (statuses[slot].ok() && got != stored) {
      statuses[slot] = Status::Corruption(
          fmt::format("{} page {} @ {}: truncated meta page", file, slot, slot * stored));
    }
    if (statuses[slot].ok()) {
      statuses[slot] = DecodeMeta(page.data(), stored, slot, file, &metas[slot]);
    }
  }
  if (!statuses[0].ok() && !statuses[1].ok()) return statuses[0];
  const int best = !statuses[1].ok()   ? 0
                   : !statuses[0].ok() ? 1
                   : metas[1].checkpoint > metas[0].checkpoint ? 1
                                                               : 0;
  *meta = metas[best];
  *page_bytes = stored;
  return Status::Ok();
}

namespace {

class Checker {
 public:
  Checker(const io::RandomAccessFile& in, size_t page_bytes, CheckReport* report)
      : in_(in), page_bytes_(page_bytes), geo_(PageGeometry::For(page_bytes)), report_(report) {}

  Status Run() {
    const Meta& meta = report_->meta;
    seen_.assign(meta.page_count, 0);
    seen_[0] = seen_[1] = 1;
    report_->pages_by_type[static_cast<size_t>(PageType::kMeta)] = kMetaPages;
    if (meta.root != 0) {
      STRATA_RETURN_IF_ERROR(Visit(meta.root, meta.height - 1, std::nullopt, std::nullopt, true));
    }
    if (report_->entries != meta.entries) {
      return Status::Corruption(fmt::format("{} page {} @ {}: the tree holds {} entries, the meta says {}",
                                            file(), meta.checkpoint % 2,
                                            (meta.checkpoint % 2) * page_bytes_ + kMetaOffEntries,
                                            report_->entries, meta.entries));
    }
    // The free list.
    uint64_t no = meta.free_head;
    std::string buf;
    while (no != 0) {
      STRATA_RETURN_IF_ERROR(Claim(no, "free-list page"));
      STRATA_RETURN_IF_ERROR(Read(no, &buf));
      if (PageTypeOf(buf.data()) != static_cast<uint8_t>(PageType::kFreeList)) {
        return Bad(no, kOffType, fmt::format("a {} page linked from the free list",
                                             PageTypeName(PageTypeOf(buf.data()))));
      }
      ++report_->pages_by_type[static_cast<size_t>(PageType::kFreeList)];
      for (size_t i = 0; i < CountOf(buf.data()); ++i) {
        const uint64_t p = FreeEntryAt(buf.data(), i);
        if (p < kMetaPages || p >= meta.page_count) {
          return Bad(no, kHeaderBytes + 8 * i, fmt::format("free entry {} out of range", p));
        }
        if (seen_[p]) {
          return Bad(no, kHeaderBytes + 8 * i,
                     fmt::format("page {} is listed free but is also reachable or listed twice", p));
        }
        seen_[p] = 1;
        ++report_->free_pages;
      }
      no = LinkOf(buf.data());
    }
    if (report_->free_pages != meta.free_count) {
      return Status::Corruption(fmt::format("{}: the free list holds {} pages, the meta says {}",
                                            file(), report_->free_pages, meta.free_count));
    }
    for (uint64_t p = kMetaPages; p < meta.page_count; ++p) {
      if (!seen_[p]) return Bad(p, 0, "page is neither reachable nor free (leaked)");
    }
    return Status::Ok();
  }

 private:
  const std::string& file() const { return in_.path(); }

  Status Bad(uint64_t no, size_t off, std::string_view what) const {
    return Status::Corruption(
        fmt::format("{} page {} @ {}: {}", file(), no, no * page_bytes_ + off, what));
  }

  Status Claim(uint64_t no, std::string_view as) {
    if (no < kMetaPages || no >= seen_.size()) {
      return Status::Corruption(fmt::format("{}: reference to page {} ({}) outside [2, {})",
                                            file(), no, as, seen_.size()));
    }
    if (seen_[no]) return Bad(no, 0, fmt::format("page reached twice (as {})", as));
    seen_[no] = 1;
    return Status::Ok();
  }

  Status Read(uint64_t no, std::string* buf) const {
    buf->resize(page_bytes_);
    size_t got = 0;
    STRATA_RETURN_IF_ERROR(in_.Read(no * page_bytes_, page_bytes_, buf->data(), &got));
    if (got != page_bytes_) return Bad(no, got, "file ends inside the page");
    return ValidatePage(buf->data(), page_bytes_, no, file());
  }

  size_t Used(const char* p) const {
    return (page_bytes_ - kTrailerBytes - AuxOf(p)) + kSlotBytes * CountOf(p);
  }

  Status Visit(uint64_t no, uint32_t level, const std::optional<std::string>& lo,
               const std::optional<std::string>& hi, bool root) {
    STRATA_RETURN_IF_ERROR(Claim(no, level == 0 ? "leaf" : "branch"));
    std::string buf;
    STRATA_RETURN_IF_ERROR(Read(no, &buf));
    const char* p = buf.data();
    const uint8_t want = static_cast<uint8_t>(level == 0 ? PageType::kLeaf : PageType::kBranch);
    if (PageTypeOf(p) != want || LevelOf(p) != level) {
      return Bad(no, kOffType, fmt::format("a {} page at level {} where the tree has a {} at {}",
                                           PageTypeName(PageTypeOf(p)), LevelOf(p),
                                           PageTypeName(want), level));
    }
    const size_t count = CountOf(p);
    const size_t used = Used(p);
    if (!root && used < geo_.usable / 4) {
      return Bad(no, kOffAux, fmt::format("{} of {} usable bytes in use, below a quarter", used,
                                          geo_.usable));
    }
    if (root && level == 0 && count == 0) return Bad(no, kOffCount, "empty root leaf");
    const size_t decile = std::min<size_t>(10, used * 10 / geo_.usable);
    ++report_->pages_by_type[want];
    if (level == 0) {
      ++report_->leaf_fill[decile];
      for (size_t i = 0; i < count; ++i) {
        const LeafCell c = LeafCellAt(p, i);
        if ((lo && c.key < *lo) || (hi && c.key >= *hi)) {
          return Bad(no, SlotOf(p, i), "key outside the range its parent separators allow");
        }
        if (c.flags & kCellOverflow) STRATA_RETURN_IF_ERROR(CheckOverflow(no, SlotOf(p, i), c));
        ++report_->entries;
      }
      return Status::Ok();
    }
    ++report_->branch_fill[decile];
    if (count == 0) return Bad(no, kOffCount, "branch with one child");
    for (size_t i = 0; i < count; ++i) {
      const std::string_view key = BranchKeyAt(p, i);
      if ((lo && key < *lo) || (hi && key >= *hi)) {
        return Bad(no, SlotOf(p, i), "separator outside the range its parent allows");
      }
    }
    for (size_t i = 0; i <= count; ++i) {
      std::optional<std::string> clo = i == 0 ? lo : std::optional<std::string>(BranchKeyAt(p, i - 1));
      std::optional<std::string> chi = i == count ? hi : std::optional<std::string>(BranchKeyAt(p, i));
      STRATA_RETURN_IF_ERROR(Visit(BranchChildAt(p, i), level - 1, clo, chi, false));
    }
    return Status::Ok();
  }

  Status CheckOverflow(uint64_t leaf, size_t off, const LeafCell& c) {
    const uint64_t pages = (c.value_bytes + geo_.overflow_data - 1) / geo_.overflow_data;
    const size_t inline_bytes = 1 + VarintLength(c.key.size()) + c.key.size() +
                                ((c.flags & kCellVersioned) ? 8 : 0) +
                                VarintLength(c.value_bytes) + c.value_bytes;
    if (inline_bytes <= geo_.cell_max || pages == 0) {
      return Bad(leaf, off, "overflow cell for a value that fits inline");
    }
    uint64_t no = c.overflow;
    uint64_t bytes = 0;
    std::string buf;
    for (uint64_t k = 0; k < pages; ++k) {
      STRATA_RETURN_IF_ERROR(Claim(no, "overflow page"));
      STRATA_RETURN_IF_ERROR(Read(no, &buf));
      if (PageTypeOf(buf.data()) != static_cast<uint8_t>(PageType::kOverflow)) {
        return Bad(no, kOffType, "overflow chain reaches a non-overflow page");
      }
      ++report_->pages_by_type[static_cast<size_t>(PageType::kOverflow)];
      bytes += AuxOf(buf.data());
      no = LinkOf(buf.data());
    }
    if (no != 0 || bytes != c.value_bytes) {
      return Bad(leaf, off, fmt::format("overflow chain holds {} bytes, the cell says {}", bytes,
                                        c.value_bytes));
    }
    report_->overflow_bytes += bytes;
    return Status::Ok();
  }

  const io::RandomAccessFile& in_;
  const size_t page_bytes_;
  const PageGeometry geo_;
  CheckReport* report_;
  std::vector<uint8_t> seen_;
};

}  // namespace

Status CheckFile(io::FileSystem* fs, const std::string& file, CheckReport* report) {
  std::unique_ptr<io::RandomAccessFile> in;
  STRATA_RETURN_IF_ERROR(fs->NewRandomAccessFile(file, io::FileOptions{}, &in));
  return CheckFile(*in, report);
}

Status CheckFile(const io::RandomAccessFile& in, CheckReport* report) {
  *report = CheckReport();
  STRATA_RETURN_IF_ERROR(LoadNewestMeta(in, &report->page_bytes, &report->meta));
  STRATA_ASSIGN_OR_RETURN(uint64_t size, in.Size());
  // Divided, not multiplied: a crafted page count must not wrap the product.
  if (report->meta.page_count > size / report->page_bytes) {
    return Status::Corruption(fmt::format("{}: {} bytes, the meta says {} pages of {}", in.path(),
                                          size, report->meta.page_count, report->page_bytes));
  }
  Checker checker(in, report->page_bytes, report);
  return checker.Run();
}

}  // namespace strata::btree

#include "btree/inspect.h"

#include <fmt/core.h>

#include <cctype>

#include "btree/format.h"

namespace strata::btree {

namespace {

constexpr size_t kHexBytesPerLine = 16;
constexpr size_t kPreviewBytes = 24;

std::string Escape(std::string_view bytes) {
  std::string out;
  for (char c : bytes.substr(0, kPreviewBytes)) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isprint(u) && c != '\\' && c != '\'') {
      out.push_back(c);
    } else {
      out += fmt::format("\\x{:02x}", u);
    }
  }
  if (bytes.size() > kPreviewBytes) out += "...";
  return out;
}

}  // namespace

std::string HexDump(const char* data, size_t bytes, uint64_t base_offset) {
  std::string out;
  bool starred = false;
  for (size_t off = 0; off < bytes; off += kHexBytesPerLine) {
    const size_t n = std::min(kHexBytesPerLine, bytes - off);
    bool zero = true;
    for (size_t i = 0; i < n; ++i) zero = zero && data[off + i] == 0;
    if (zero && off > 0 && off + n < bytes) {
      if (!starred) out += "*\n";
      starred = true;
      continue;
    }
    starred = false;
    out += fmt::format("{:08x}  ", base_offset + off);
    std::string ascii;
    for (size_t i = 0; i < kHexBytesPerLine; ++i) {
      if (i < n) {
        const auto u = static_cast<unsigned char>(data[off + i]);
        out += fmt::format("{:02x} ", u);
        ascii.push_back(std::isprint(u) ? static_cast<char>(u) : '.');
      } else {
        out += "   ";
      }
      if (i == 7) out += ' ';
    }
    out += fmt::format(" |{}|\n", ascii);
  }
  return out;
}

Status DescribePage(const io::RandomAccessFile& in, size_t page_bytes, uint64_t no, bool hex,
                    std::string* out) {
  std::string buf(page_bytes, '\0');
  size_t got = 0;
  STRATA_RETURN_IF_ERROR(in.Read(no * page_bytes, page_bytes, buf.data(), &got));
  if (got != page_bytes) {
    return Status::NotFound(fmt::format("{}: no page {} (file ends at byte {})", in.path(), no,
                                        no * page_bytes + got));
  }
  const char* p = buf.data();
  const uint8_t type = PageTypeOf(p);
  Status valid;
  std::string body;
  if (no < kMetaPages) {
    Meta m;
    valid = DecodeMeta(p, page_bytes, no, in.path(), &m);
    if (valid.ok()) {
      body = fmt::format(
          "  checkpoint {}  root {}  height {}  pages {}  free head {}  free pages {}  wal_lsn {}"
          "  entries {}\n",
          m.checkpoint, m.root, m.height, m.page_count, m.free_head, m.free_count, m.wal_lsn,
          m.entries);
    }
  } else {
    valid = ValidatePage(p, page_bytes, no, in.path());
    if (valid.ok()) {
      const size_t count = CountOf(p);
      if (type == static_cast<uint8_t>(PageType::kLeaf)) {
        for (size_t i = 0; i < count; ++i) {
          const LeafCell c = LeafCellAt(p, i);
          body += fmt::format("  [{}] @{} '{}'", i, SlotOf(p, i), Escape(c.key));
          if (c.flags & kCellVersioned) body += fmt::format(" v{}", c.version);
          if (c.flags & kCellOverflow) {
            body += fmt::format(" -> overflow {} ({} bytes)\n", c.overflow, c.value_bytes);
          } else {
            body += fmt::format(" = '{}' ({} bytes)\n", Escape(c.value), c.value_bytes);
          }
        }
      } else if (type == static_cast<uint8_t>(PageType::kBranch)) {
        body += fmt::format("  child {}\n", LinkOf(p));
        for (size_t i = 0; i < count; ++i) {
          body += fmt::format("  [{}] @{} '{}' -> child {}\n", i, SlotOf(p, i),
                              Escape(BranchKeyAt(p, i)), BranchChildAt(p, i + 1));
        }
      } else if (type == static_cast<uint8_t>(PageType::kFreeList)) {
        body += " ";
        for (size_t i = 0; i < count; ++i) body += fmt::format(" {}", FreeEntryAt(p, i));
        body += "\n";
      } else if (type == static_cast<uint8_t>(PageType::kOverflow)) {
        body += fmt::format("  '{}'\n", Escape(OverflowData(p)));
      }
    }
  }
  *out = fmt::format("page {} @ {}: {} level {} count {} aux {} lsn {} link {}{}\n", no,
                     no * page_bytes, PageTypeName(type), LevelOf(p), CountOf(p), AuxOf(p),
                     LsnOf(p), LinkOf(p), valid.ok() ? "" : "  [" + valid.ToString() + "]");
  *out += body;
  if (hex) *out += HexDump(p, page_bytes, no * page_bytes);
  return valid;
}

}  // namespace strata::btree

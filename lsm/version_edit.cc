#include "lsm/version_edit.h"

#include <fmt/core.h>

#include "core/coding.h"

namespace strata::lsm {

namespace {

// On-disk field tags: never renumbered or reused; 0 is never valid.
enum class Tag : uint32_t {
  kWalLsn = 1,
  kNextFileNumber = 2,
  kLastSequence = 3,
  kRemovedFile = 4,
  kAddedFile = 5,
  kKeptFile = 6,  // format version 2
};

std::string Hex(std::string_view s) {
  std::string out;
  for (unsigned char c : s) out += fmt::format("{:02x}", c);
  return out;
}

std::string PrintableKey(std::string_view internal_key) {
  ParsedInternalKey p;
  if (!ParseInternalKey(internal_key, &p)) return "<bad key " + Hex(internal_key) + ">";
  bool printable = true;
  for (unsigned char c : p.user_key) printable = printable && c >= 0x20 && c < 0x7f;
  return fmt::format("'{}' @{} t{}", printable ? std::string(p.user_key) : "0x" + Hex(p.user_key),
                     p.sequence, static_cast<int>(p.type));
}

}  // namespace

void VersionEdit::AddFile(int level, const FileMetaData& f) {
  // The open table rides along so that LogAndApply can install it; only the
  // metadata is encoded.
  added_files_.emplace_back(level, f);
}

void VersionEdit::EncodeTo(std::string* dst) const {
  auto tag = [dst](Tag t) { PutVarint32(dst, static_cast<uint32_t>(t)); };
  if (wal_lsn_) {
    tag(Tag::kWalLsn);
    PutVarint64(dst, *wal_lsn_);
  }
  if (next_file_number_) {
    tag(Tag::kNextFileNumber);
    PutVarint64(dst, *next_file_number_);
  }
  if (last_sequence_) {
    tag(Tag::kLastSequence);
    PutVarint64(dst, *last_sequence_);
  }
  for (const auto& [level, number] : removed_files_) {
    tag(Tag::kRemovedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, number);
  }
  for (const auto& [level, f] : added_files_) {
    tag(Tag::kAddedFile);
    PutVarint32(dst, static_cast<uint32_t>(level));
    PutVarint64(dst, f.number);
    PutVarint64(dst, f.file_bytes);
    PutLengthPrefixed(dst, f.smallest);
    PutLengthPrefixed(dst, f.largest);
    PutVarint64(dst, f.smallest_seq);
    PutVarint64(dst, f.largest_seq);
    PutVarint64(dst, f.entry_count);
  }
  for (uint64_t number : kept_files_) {
    tag(Tag::kKeptFile);
    PutVarint64(dst, number);
  }
}

Status VersionEdit::DecodeFrom(std::string_view src, std::string_view where) {
  *this = VersionEdit();
  std::string_view in = src;
  auto bad = [&](std::string_view what) {
    return Status::Corruption(fmt::format("{} (edit byte {}): {}", where, src.size() - in.size(),
                                          what));
  };
  auto get_level = [&](int* level) {
    uint32_t v = 0;
    if (!GetVarint32(&in, &v) || v >= static_cast<uint32_t>(kLevelCount)) return false;
    *level = static_cast<int>(v);
    return true;
  };
  while (!in.empty()) {
    uint32_t tag = 0;
    if (!GetVarint32(&in, &tag)) return bad("truncated field tag");
    uint64_t v = 0;
    switch (static_cast<Tag>(tag)) {
      case Tag::kWalLsn:
        if (!GetVarint64(&in, &v)) return bad("truncated wal lsn");
        wal_lsn_ = v;
        break;
      case Tag::kNextFileNumber:
        if (!GetVarint64(&in, &v)) return bad("truncated next file number");
        next_file_number_ = v;
        break;
      case Tag::kLastSequence:
        if (!GetVarint64(&in, &v) || v > kMaxSequenceNumber) return bad("bad last sequence");
        last_sequence_ = v;
        break;
      case Tag::kRemovedFile: {
        int level = 0;
        if (!get_level(&level) || !GetVarint64(&in, &v)) return bad("bad removed file");
        removed_files_.emplace_back(level, v);
        break;
      }
      case Tag::kAddedFile: {
        int level = 0;
        FileMetaData f;
        std::string_view smallest, largest;
        ParsedInternalKey parsed;
        if (!get_level(&level) || !GetVarint64(&in, &f.number) ||
            !GetVarint64(&in, &f.file_bytes) || !GetLengthPrefixed(&in, &smallest) ||
            !GetLengthPrefixed(&in, &largest) || !GetVarint64(&in, &f.smallest_seq) ||
            !GetVarint64(&in, &f.largest_seq) || !GetVarint64(&in, &f.entry_count)) {
          return bad("truncated added file");
        }
        if (f.number == 0) return bad("added file numbered 0");
        if (!ParseInternalKey(smallest, &parsed) || !ParseInternalKey(largest, &parsed) ||
            CompareInternalKeys(smallest, largest) > 0) {
          return bad(fmt::format("added file {}: bad key range", f.number));
        }
        if (f.smallest_seq > f.largest_seq || f.largest_seq > kMaxSequenceNumber) {
          return bad(fmt::format("added file {}: bad sequence range", f.number));
        }
        f.smallest.assign(smallest);
        f.largest.assign(largest);
        added_files_.emplace_back(level, std::move(f));
        break;
      }
      case Tag::kKeptFile:
        if (!GetVarint64(&in, &v) || v == 0) return bad("bad kept file");
        kept_files_.push_back(v);
        break;
      default:
        return bad(fmt::format("unknown field tag {}", tag));
    }
  }
  return Status::Ok();
}

std::string VersionEdit::DebugString() const {
  std::string out;
  if (wal_lsn_) out += fmt::format("  wal_lsn {}\n", *wal_lsn_);
  if (next_file_number_) out += fmt::format("  next_file_number {}\n", *next_file_number_);
  if (last_sequence_) out += fmt::format("  last_sequence {}\n", *last_sequence_);
  for (const auto& [level, number] : removed_files_) {
    out += fmt::format("  remove L{} {:06}.sst\n", level, number);
  }
  for (const auto& [level, f] : added_files_) {
    out += fmt::format("  add L{} {:06}.sst {} bytes, {} entries, seq [{}, {}], keys [{} .. {}]\n",
                       level, f.number, f.file_bytes, f.entry_count, f.smallest_seq,
                       f.largest_seq, PrintableKey(f.smallest), PrintableKey(f.largest));
  }
  for (uint64_t number : kept_files_) out += fmt::format("  keep {:06}\n", number);
  return out;
}

}  // namespace strata::lsm

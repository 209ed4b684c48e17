#include "strata/write_batch.h"

#include <string>

#include "core/checksum.h"
#include "core/coding.h"
#include "strata/limits.h"

namespace strata {

namespace {

constexpr size_t kSequenceOffset = 0;
constexpr size_t kCountOffset = 8;

// Walks rep's entries; calls handler when non-null. Returns Corruption with
// the byte offset of the first malformed entry.
Status WalkRep(std::string_view rep, WriteBatch::Handler* handler, uint32_t* count_out) {
  if (rep.size() < WriteBatch::kHeaderBytes) {
    return Status::Corruption("write batch: " + std::to_string(rep.size()) +
                              " bytes is shorter than its header");
  }
  const uint32_t declared = DecodeFixed32(rep.data() + kCountOffset);
  std::string_view input = rep.substr(WriteBatch::kHeaderBytes);
  uint32_t found = 0;
  while (!input.empty()) {
    const size_t offset = rep.size() - input.size();
    auto bad = [&](std::string_view what) {
      return Status::Corruption("write batch @ " + std::to_string(offset) + ": " +
                                std::string(what));
    };
    const auto type = static_cast<BatchEntryType>(input[0]);
    input.remove_prefix(1);
    std::string_view key, value;
    uint64_t version = 0;
    if (!GetLengthPrefixed(&input, &key)) return bad("truncated key");
    if (key.size() > kKeyBytesMax) return bad("key exceeds kKeyBytesMax");
    Status s;
    switch (type) {
      case BatchEntryType::kPut:
        if (!GetLengthPrefixed(&input, &value)) return bad("truncated value");
        if (handler) s = handler->OnPut(key, value);
        break;
      case BatchEntryType::kDelete:
        if (handler) s = handler->OnDelete(key);
        break;
      case BatchEntryType::kDeleteRange:
        if (!GetLengthPrefixed(&input, &value)) return bad("truncated range end");
        if (value.size() > kKeyBytesMax) return bad("range end exceeds kKeyBytesMax");
        if (key.compare(value) >= 0) return bad("empty or inverted range (begin >= end)");
        if (handler) s = handler->OnDeleteRange(key, value);
        break;
      case BatchEntryType::kPutVersioned:
        if (!GetFixed64(&input, &version)) return bad("truncated version");
        if (!GetLengthPrefixed(&input, &value)) return bad("truncated value");
        if (handler) s = handler->OnPutVersioned(key, version, value);
        break;
      default:
        return bad("unknown entry type " + std::to_string(static_cast<int>(type)));
    }
    if (value.size() > kValueBytesMax) return bad("value exceeds kValueBytesMax");
    STRATA_RETURN_IF_ERROR(s);
    ++found;
  }
  if (found != declared) {
    return Status::Corruption("write batch: header says " + std::to_string(declared) +
                              " entries, found " + std::to_string(found));
  }
  if (count_out) *count_out = found;
  return Status::Ok();
}

}  // namespace

WriteBatch::WriteBatch() { Clear(); }

void WriteBatch::Clear() {
  rep_.assign(kHeaderBytes, '\0');
  status_ = Status::Ok();
}

uint32_t WriteBatch::Count() const { return DecodeFixed32(rep_.data() + kCountOffset); }

void WriteBatch::SetCount(uint32_t count) { EncodeFixed32(rep_.data() + kCountOffset, count); }

uint64_t WriteBatch::sequence() const { return DecodeFixed64(rep_.data() + kSequenceOffset); }

void WriteBatch::set_sequence(uint64_t sequence) {
  EncodeFixed64(rep_.data() + kSequenceOffset, sequence);
}

Status WriteBatch::CheckLimits(size_t key_bytes, size_t value_bytes) const {
  if (key_bytes > kKeyBytesMax) {
    return Status::InvalidArgument("key of " + std::to_string(key_bytes) +
                                   " bytes exceeds kKeyBytesMax (" +
                                   std::to_string(kKeyBytesMax) + ")");
  }
  if (value_bytes > kValueBytesMax) {
    return Status::InvalidArgument("value of " + std::to_string(value_bytes) +
                                   " bytes exceeds kValueBytesMax (" +
                                   std::to_string(kValueBytesMax) + ")");
  }
  // Worst-case framing: type + two varint32 + version.
  const size_t entry_bytes = 1 + 2 * kVarint32BytesMax + 8 + key_bytes + value_bytes;
  if (rep_.size() + entry_bytes > kWriteBatchBytesMax) {
    return Status::InvalidArgument("write batch would exceed kWriteBatchBytesMax (" +
                                   std::to_string(kWriteBatchBytesMax) + " bytes)");
  }
  if (Count() >= kWriteBatchCountMax) {
    return Status::InvalidArgument("write batch would exceed kWriteBatchCountMax entries");
  }
  return Status::Ok();
}

Status WriteBatch::Put(std::string_view key, std::string_view value) {
  STRATA_RETURN_IF_ERROR(CheckLimits(key.size(), value.size()));
  rep_.push_back(static_cast<char>(BatchEntryType::kPut));
  PutLengthPrefixed(&rep_, key);
  PutLengthPrefixed(&rep_, value);
  SetCount(Count() + 1);
  return Status::Ok();
}

Status WriteBatch::Delete(std::string_view key) {
  STRATA_RETURN_IF_ERROR(CheckLimits(key.size(), 0));
  rep_.push_back(static_cast<char>(BatchEntryType::kDelete));
  PutLengthPrefixed(&rep_, key);
  SetCount(Count() + 1);
  return Status::Ok();
}

Status WriteBatch::PutVersioned(std::string_view key, uint64_t version, std::string_view value) {
  STRATA_RETURN_IF_ERROR(CheckLimits(key.size(), value.size()));
  rep_.push_back(static_cast<char>(BatchEntryType::kPutVersioned));
  PutLengthPrefixed(&rep_, key);
  PutFixed64(&rep_, version);
  PutLengthPrefixed(&rep_, value);
  SetCount(Count() + 1);
  return Status::Ok();
}

Status WriteBatch::DeleteRange(std::string_view begin, std::string_view end) {
  if (begin.compare(end) >= 0) {
    Status s = Status::InvalidArgument(
        "DeleteRange: empty or inverted range (begin " + std::to_string(begin.size()) +
        " bytes must sort before end " + std::to_string(end.size()) + " bytes, bytewise)");
    if (status_.ok()) status_ = s;
    return s;
  }
  STRATA_RETURN_IF_ERROR(CheckLimits(begin.size(), 0));
  STRATA_RETURN_IF_ERROR(CheckLimits(end.size(), begin.size()));
  rep_.push_back(static_cast<char>(BatchEntryType::kDeleteRange));
  PutLengthPrefixed(&rep_, begin);
  PutLengthPrefixed(&rep_, end);
  SetCount(Count() + 1);
  return Status::Ok();
}

Status WriteBatch::Append(const WriteBatch& other) {
  if (!other.status_.ok() && status_.ok()) status_ = other.status_;
  const size_t body = other.rep_.size() - kHeaderBytes;
  if (rep_.size() + body > kWriteBatchBytesMax) {
    return Status::InvalidArgument("write batch would exceed kWriteBatchBytesMax");
  }
  if (static_cast<uint64_t>(Count()) + other.Count() > kWriteBatchCountMax) {
    return Status::InvalidArgument("write batch would exceed kWriteBatchCountMax entries");
  }
  rep_.append(other.rep_, kHeaderBytes, body);
  SetCount(Count() + other.Count());
  return Status::Ok();
}

Status WriteBatch::Iterate(Handler* handler) const { return WalkRep(rep_, handler, nullptr); }

std::string WriteBatch::Serialize() const {
  std::string out = rep_;
  PutFixed64(&out, Checksum64(rep_));
  return out;
}

Result<WriteBatch> WriteBatch::Parse(std::string_view data) {
  if (data.size() < kHeaderBytes + kChecksumBytes) {
    return Status::Corruption("write batch: " + std::to_string(data.size()) +
                              " bytes is too short for header and checksum");
  }
  if (data.size() > kWriteBatchBytesMax + kChecksumBytes) {
    return Status::Corruption("write batch: " + std::to_string(data.size()) +
                              " bytes exceeds kWriteBatchBytesMax");
  }
  std::string_view rep = data.substr(0, data.size() - kChecksumBytes);
  const uint64_t stored = DecodeFixed64(data.data() + rep.size());
  if (stored != Checksum64(rep)) {
    return Status::Corruption("write batch @ " + std::to_string(rep.size()) +
                              ": checksum mismatch");
  }
  return FromRep(std::string(rep));
}

Result<WriteBatch> WriteBatch::FromRep(std::string rep) {
  STRATA_RETURN_IF_ERROR(WalkRep(rep, nullptr, nullptr));
  WriteBatch batch;
  batch.rep_ = std::move(rep);
  return batch;
}

}  // namespace strata

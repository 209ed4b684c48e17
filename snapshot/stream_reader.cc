#include "snapshot/stream_reader.h"

#include <fmt/core.h>

#include "core/assert.h"
#include "core/checksum.h"
#include "core/coding.h"

namespace strata::snapshot {

namespace {

class Reader {
 public:
  Reader(const ByteSource& source, StreamVisitor* visitor) : source_(source), visitor_(visitor) {}

  Status Run() {
    STRATA_RETURN_IF_ERROR(ReadHeader());
    for (;;) {
      frame_offset_ = offset_;
      frame_name_ = fmt::format("chunk {}", info_.chunk_count);
      std::string type;
      STRATA_RETURN_IF_ERROR(ReadExact(1, &type, "the stream ends without a trailer"));
      if (type[0] == static_cast<char>(FrameType::kTrailer)) return ReadTrailer(type);
      if (type[0] != static_cast<char>(FrameType::kChunk)) {
        frame_name_ += " or trailer";
        return Bad(fmt::format("bad frame type {}", static_cast<uint8_t>(type[0])));
      }
      STRATA_RETURN_IF_ERROR(ReadChunk(type));
    }
  }

 private:
  Status Bad(std::string_view what) const {
    return Status::Corruption(
        fmt::format("snapshot stream {} @ {}: {}", frame_name_, frame_offset_, what));
  }

  // Appends exactly n bytes to *out; fewer is Corruption (truncated).
  Status ReadExact(size_t n, std::string* out, std::string_view truncated_what = "truncated") {
    const size_t start = out->size();
    out->resize(start + n);
    size_t have = 0;
    while (have < n) {
      size_t got = 0;
      STRATA_RETURN_IF_ERROR(source_(out->data() + start + have, n - have, &got));
      if (got == 0) {
        return Bad(fmt::format("{} (stream offset {})", truncated_what, offset_ + have));
      }
      have += got;
    }
    offset_ += n;
    return Status::Ok();
  }

  Status ReadHeader() {
    frame_offset_ = 0;
    frame_name_ = "header";
    std::string h;
    STRATA_RETURN_IF_ERROR(ReadExact(kHeaderFixedBytes, &h));
    if (std::string_view(h).substr(0, kStreamMagic.size()) != kStreamMagic) {
      return Bad("bad magic (not a snapshot stream)");
    }
    const size_t kind_bytes = static_cast<uint8_t>(h[kHeaderFixedBytes - 1]);
    if (kind_bytes == 0 || kind_bytes > kEngineKindBytesMax) {
      return Bad(fmt::format("engine kind of {} bytes", kind_bytes));
    }
    STRATA_RETURN_IF_ERROR(ReadExact(kind_bytes + kChecksumBytes, &h));
    const size_t covered = h.size() - kChecksumBytes;
    seed_ = DecodeFixed64(h.data() + covered);
    if (Checksum64(std::string_view(h).substr(0, covered)) != seed_) {
      return Bad("checksum mismatch");
    }
    const uint32_t version = DecodeFixed32(h.data() + 8);
    if (version != kStreamVersion) return Bad(fmt::format("unsupported version {}", version));
    header_.sequence = DecodeFixed64(h.data() + 12);
    header_.chunk_bytes = DecodeFixed32(h.data() + 20);
    header_.engine_kind = h.substr(kHeaderFixedBytes, kind_bytes);
    if (header_.chunk_bytes < kChunkBytesMin || header_.chunk_bytes > kChunkBytesMax) {
      return Bad(fmt::format("chunk_bytes {} out of range", header_.chunk_bytes));
    }
    info_.engine_kind = header_.engine_kind;
    info_.sequence = header_.sequence;
    return visitor_->OnHeader(header_);
  }

  Status ReadChunk(std::string type) {
    frame_ = std::move(type);
    STRATA_RETURN_IF_ERROR(ReadExact(kChunkHeaderBytes - 1, &frame_));
    const uint32_t index = DecodeFixed32(frame_.data() + 1);
    const uint32_t entry_count = DecodeFixed32(frame_.data() + 5);
    const uint32_t payload_bytes = DecodeFixed32(frame_.data() + 9);
    if (index != info_.chunk_count) return Bad(fmt::format("chunk index {}", index));
    if (payload_bytes > header_.chunk_bytes + kEntryBytesMax) {
      return Bad(fmt::format("payload of {} bytes exceeds the chunk bound", payload_bytes));
    }
    if (entry_count == 0 || entry_count > payload_bytes / 3) {
      return Bad(fmt::format("{} entries in {} payload bytes", entry_count, payload_bytes));
    }
    STRATA_RETURN_IF_ERROR(ReadExact(payload_bytes + kChecksumBytes, &frame_));
    const size_t covered = frame_.size() - kChecksumBytes;
    if (Checksum64(std::string_view(frame_).substr(0, covered), seed_) !=
        DecodeFixed64(frame_.data() + covered)) {
      return Bad("checksum mismatch");
    }
    STRATA_RETURN_IF_ERROR(
        DecodeEntries(std::string_view(frame_).substr(kChunkHeaderBytes, payload_bytes),
                      entry_count));
    STRATA_RETURN_IF_ERROR(visitor_->OnChunk(index, entries_));
    last_key_.assign(entries_.back().key);
    info_.chunk_count++;
    info_.entry_count += entry_count;
    info_.payload_bytes += payload_bytes;
    return Status::Ok();
  }

  Status DecodeEntries(std::string_view payload, uint32_t entry_count) {
    entries_.clear();
    std::string_view previous = last_key_;
    bool first_in_stream = info_.entry_count == 0;
    while (!payload.empty()) {
      const std::string what = fmt::format("entry {}", entries_.size());
      const auto type = static_cast<EntryType>(payload[0]);
      payload.remove_prefix(1);
      if (type != EntryType::kValue && type != EntryType::kVersionedValue) {
        return Bad(what + ": bad entry type");
      }
      StreamEntry e;
      if (!GetLengthPrefixed(&payload, &e.key) || e.key.size() > kKeyBytesMax) {
        return Bad(what + ": bad key length");
      }
      if (type == EntryType::kVersionedValue &&
          (!GetFixed64(&payload, &e.version) || e.version == 0)) {
        return Bad(what + ": bad version");
      }
      if (!GetLengthPrefixed(&payload, &e.value) || e.value.size() > kValueBytesMax) {
        return Bad(what + ": bad value length");
      }
      if (!first_in_stream && e.key <= previous) return Bad(what + ": keys out of order");
      first_in_stream = false;
      previous = e.key;
      entries_.push_back(e);
    }
    if (entries_.size() != entry_count) {
      return Bad(fmt::format("{} entries, the chunk header says {}", entries_.size(),
                             entry_count));
    }
    return Status::Ok();
  }

  Status ReadTrailer(std::string type) {
    frame_name_ = "trailer";
    std::string t = std::move(type);
    STRATA_RETURN_IF_ERROR(ReadExact(kTrailerBytes - 1, &t));
    const size_t covered = kTrailerBytes - kChecksumBytes;
    if (Checksum64(std::string_view(t).substr(0, covered), seed_) !=
        DecodeFixed64(t.data() + covered)) {
      return Bad("checksum mismatch");
    }
    const uint32_t chunk_count = DecodeFixed32(t.data() + 1);
    const uint64_t entry_count = DecodeFixed64(t.data() + 5);
    const uint64_t payload_bytes = DecodeFixed64(t.data() + 13);
    if (chunk_count != info_.chunk_count || entry_count != info_.entry_count ||
        payload_bytes != info_.payload_bytes) {
      return Bad(fmt::format("totals {} chunks, {} entries, {} bytes; read {}, {}, {}",
                             chunk_count, entry_count, payload_bytes, info_.chunk_count,
                             info_.entry_count, info_.payload_bytes));
    }
    char extra = 0;
    size_t got = 0;
    STRATA_RETURN_IF_ERROR(source_(&extra, 1, &got));
    if (got != 0) return Bad("bytes follow the trailer");
    info_.stream_bytes = offset_;
    return visitor_->OnEnd(info_);
  }

  const ByteSource& source_;
  StreamVisitor* const visitor_;
  uint64_t offset_ = 0;
  uint64_t frame_offset_ = 0;
  std::string frame_name_;
  uint64_t seed_ = 0;
  StreamHeader header_;
  StreamInfo info_;
  std::string frame_;
  std::vector<StreamEntry> entries_;
  std::string last_key_;
};

class VerifyVisitor final : public StreamVisitor {
 public:
  explicit VerifyVisitor(StreamInfo* info) : info_(info) {}
  Status OnHeader(const StreamHeader&) override { return Status::Ok(); }
  Status OnChunk(uint32_t, const std::vector<StreamEntry>&) override { return Status::Ok(); }
  Status OnEnd(const StreamInfo& info) override {
    if (info_ != nullptr) *info_ = info;
    return Status::Ok();
  }

 private:
  StreamInfo* const info_;
};

}  // namespace

ByteSource FileByteSource(io::SequentialFile* file) {
  return [file](char* buf, size_t n, size_t* bytes_read) { return file->Read(n, buf, bytes_read); };
}

Status ReadSnapshotStream(const ByteSource& source, StreamVisitor* visitor) {
  Reader reader(source, visitor);
  return reader.Run();
}

Status VerifySnapshotStream(const ByteSource& source, StreamInfo* info) {
  VerifyVisitor visitor(info);
  return ReadSnapshotStream(source, &visitor);
}

}  // namespace strata::snapshot

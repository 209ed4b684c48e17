#include "snapshot/stream_writer.h"

#include <fmt/core.h>

#include "core/assert.h"
#include "core/checksum.h"
#include "core/coding.h"

namespace strata::snapshot {

namespace {

std::string EncodeHeader(std::string_view kind, uint64_t sequence, uint32_t chunk_bytes) {
  std::string out(kStreamMagic);
  PutFixed32(&out, kStreamVersion);
  PutFixed64(&out, sequence);
  PutFixed32(&out, chunk_bytes);
  out.push_back(static_cast<char>(kind.size()));
  out.append(kind);
  PutFixed64(&out, Checksum64(out));
  return out;
}

// Builds chunks and the trailer; hands each finished frame to the sink.
class ChunkWriter {
 public:
  ChunkWriter(const ByteSink& sink, size_t chunk_bytes, uint64_t seed, StreamInfo* info)
      : sink_(sink), chunk_bytes_(chunk_bytes), seed_(seed), info_(info) {
    frame_.reserve(kChunkHeaderBytes + chunk_bytes + kChecksumBytes);
    StartChunk();
  }

  Status Add(std::string_view key, uint64_t version, std::string_view value) {
    const EntryType type = version == 0 ? EntryType::kValue : EntryType::kVersionedValue;
    frame_.push_back(static_cast<char>(type));
    PutLengthPrefixed(&frame_, key);
    if (type == EntryType::kVersionedValue) PutFixed64(&frame_, version);
    PutLengthPrefixed(&frame_, value);
    ++chunk_entries_;
    if (frame_.size() - kChunkHeaderBytes >= chunk_bytes_) return FinishChunk();
    return Status::Ok();
  }

  Status Finish() {
    if (chunk_entries_ > 0) STRATA_RETURN_IF_ERROR(FinishChunk());
    std::string trailer;
    trailer.push_back(static_cast<char>(FrameType::kTrailer));
    PutFixed32(&trailer, static_cast<uint32_t>(info_->chunk_count));
    PutFixed64(&trailer, info_->entry_count);
    PutFixed64(&trailer, info_->payload_bytes);
    PutFixed64(&trailer, Checksum64(trailer, seed_));
    STRATA_ASSERT(trailer.size() == kTrailerBytes);
    return Emit(trailer);
  }

 private:
  void StartChunk() {
    frame_.assign(kChunkHeaderBytes, '\0');
    chunk_entries_ = 0;
  }

  Status FinishChunk() {
    const size_t payload_bytes = frame_.size() - kChunkHeaderBytes;
    STRATA_ASSERT(payload_bytes <= kChunkPayloadBytesMax);
    STRATA_ASSERT(info_->chunk_count < UINT32_MAX);
    frame_[0] = static_cast<char>(FrameType::kChunk);
    EncodeFixed32(frame_.data() + 1, static_cast<uint32_t>(info_->chunk_count));
    EncodeFixed32(frame_.data() + 5, chunk_entries_);
    EncodeFixed32(frame_.data() + 9, static_cast<uint32_t>(payload_bytes));
    PutFixed64(&frame_, Checksum64(frame_, seed_));
    info_->chunk_count++;
    info_->entry_count += chunk_entries_;
    info_->payload_bytes += payload_bytes;
    STRATA_RETURN_IF_ERROR(Emit(frame_));
    StartChunk();
    return Status::Ok();
  }

  Status Emit(std::string_view bytes) {
    info_->stream_bytes += bytes.size();
    return sink_(bytes);
  }

  const ByteSink& sink_;
  const size_t chunk_bytes_;
  const uint64_t seed_;
  StreamInfo* const info_;
  std::string frame_;  // chunk header (filled at the end) + payload
  uint32_t chunk_entries_ = 0;
};

}  // namespace

Status WriteSnapshotStream(Engine* engine, const Snapshot& snapshot, const StreamOptions& options,
                           const ByteSink& sink, StreamInfo* info) {
  if (options.chunk_bytes < kChunkBytesMin || options.chunk_bytes > kChunkBytesMax) {
    return Status::InvalidArgument(fmt::format("snapshot stream: chunk_bytes {} not in [{}, {}]",
                                               options.chunk_bytes, kChunkBytesMin,
                                               kChunkBytesMax));
  }
  const std::string_view kind = engine->kind();
  if (kind.empty() || kind.size() > kEngineKindBytesMax) {
    return Status::InvalidArgument("snapshot stream: engine kind longer than 32 bytes");
  }
  StreamInfo local;
  local.engine_kind = std::string(kind);
  local.sequence = snapshot.sequence();
  const std::string header =
      EncodeHeader(kind, local.sequence, static_cast<uint32_t>(options.chunk_bytes));
  const uint64_t seed = DecodeFixed64(header.data() + header.size() - kChecksumBytes);
  local.stream_bytes = header.size();
  STRATA_RETURN_IF_ERROR(sink(header));

  ReadOptions read_options;
  read_options.snapshot = &snapshot;
  read_options.fill_cache = false;
  std::unique_ptr<Iterator> it = engine->NewIterator(read_options);
  ChunkWriter chunks(sink, options.chunk_bytes, seed, &local);
  std::string fallback_value;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::optional<uint64_t> version = it->version();
    std::string_view value = it->value();
    if (!version) {
      uint64_t v = 0;
      STRATA_RETURN_IF_ERROR(engine->GetVersioned(read_options, it->key(), &fallback_value, &v));
      version = v;
      value = fallback_value;
    }
    STRATA_RETURN_IF_ERROR(chunks.Add(it->key(), *version, value));
  }
  STRATA_RETURN_IF_ERROR(it->status());
  STRATA_RETURN_IF_ERROR(chunks.Finish());
  if (info != nullptr) *info = local;
  return Status::Ok();
}

Status WriteSnapshotFile(Engine* engine, const Snapshot& snapshot, const StreamOptions& options,
                         io::FileSystem* fs, const std::string& path, StreamInfo* info) {
  const std::string tmp = path + ".tmp";
  std::unique_ptr<io::WritableFile> file;
  STRATA_RETURN_IF_ERROR(fs->NewWritableFile(tmp, io::FileOptions{}, &file));
  Status s = WriteSnapshotStream(
      engine, snapshot, options, [&](std::string_view bytes) { return file->Append(bytes); },
      info);
  if (s.ok()) s = file->Sync();
  if (s.ok()) s = file->Close();
  if (s.ok()) s = fs->Rename(tmp, path);
  if (!s.ok()) {
    file.reset();
    (void)fs->RemoveFile(tmp);
    return s;
  }
  return fs->SyncDir(io::DirName(path));
}

}  // namespace strata::snapshot

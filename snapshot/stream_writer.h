// Snapshot stream writer: turns a pinned Snapshot of any engine into the
// chunked, checksummed stream of snapshot/FORMAT.md.
//
// The writer iterates the snapshot in key order and hands the stream to a
// sink in pieces: the header, then each chunk as soon as it is full, then the
// trailer. Memory: one chunk buffer (below chunk_bytes + one entry, i.e. at
// most kChunkPayloadBytesMax plus framing) and one iterator; the state's size
// does not matter. Versions stored by PutIfNewer travel with their values
// (from Iterator::version(), or GetVersioned where an engine's iterators do
// not carry them).
//
// Threading: one call per stream; the engine may take writes meanwhile (the
// snapshot pins what is streamed).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "io/file_system.h"
#include "snapshot/format.h"
#include "strata/engine.h"

namespace strata::snapshot {

struct StreamOptions {
  // A chunk is closed once its payload reaches this many bytes.
  // REQUIRES-as-input: kChunkBytesMin..kChunkBytesMax (else InvalidArgument).
  size_t chunk_bytes = kChunkBytesDefault;
};

struct StreamInfo {
  std::string engine_kind;
  uint64_t sequence = 0;
  uint64_t chunk_count = 0;
  uint64_t entry_count = 0;
  uint64_t payload_bytes = 0;  // sum of the chunks' payloads
  uint64_t stream_bytes = 0;   // everything, framing included
};

// Receives the stream in order; an error stops the writer and is returned.
using ByteSink = std::function<Status(std::string_view bytes)>;

// Streams `snapshot` (of `engine`) to `sink`. *info may be null.
Status WriteSnapshotStream(Engine* engine, const Snapshot& snapshot, const StreamOptions& options,
                           const ByteSink& sink, StreamInfo* info);

// The same stream as a file: written to path.tmp, synced, renamed to `path`
// and the directory synced, so `path` is complete or absent.
Status WriteSnapshotFile(Engine* engine, const Snapshot& snapshot, const StreamOptions& options,
                         io::FileSystem* fs, const std::string& path, StreamInfo* info);

}  // namespace strata::snapshot

// Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/) from
// real files the engines write: an LSM database (SSTables and their blocks
// and filter, the manifest, WAL segments and the write batches in them), a
// B+ tree data file, a snapshot stream and a log store's WAL records.
// Deterministic: fixed keys and values. Run by fuzz/make_corpus.sh.
//
//   strata_fuzz_seeds <scratch dir (emptied)> <corpus dir>
#include <fmt/core.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/coding.h"
#include "fuzz/fuzz_util.h"
#include "lsm/block.h"
#include "lsm/format.h"
#include "lsm/wal_payload.h"
#include "snapshot/stream_writer.h"
#include "strata/engine.h"
#include "replica/command.h"
#include "replica/kv_protocol.h"
#include "replica/log_store_io.h"
#include "strata/log_store.h"
#include "strata/write_batch.h"
#include "wal/format.h"
#include "wal/limits.h"
#include "wal/segment_scan.h"

namespace strata::fuzz {
namespace {

io::FileSystem* fs = nullptr;
std::string corpus;

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "make_seeds: %s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

std::string Read(const std::string& path) {
  std::string data;
  Check(io::ReadFileToString(fs, path, &data), path.c_str());
  return data;
}

// Writes corpus/<target>/<name> = mode byte + bytes.
void Seed(const std::string& target, const std::string& name, uint8_t mode,
          std::string_view bytes) {
  Check(fs->CreateDir(corpus + "/" + target), "mkdir");
  std::string data(1, static_cast<char>(mode));
  data.append(bytes);
  std::unique_ptr<io::WritableFile> f;
  Check(fs->NewWritableFile(corpus + "/" + target + "/" + name, io::FileOptions{}, &f), "seed");
  Check(f->Append(data), "seed");
  Check(f->Close(), "seed");
}

// The segment up to the end of its last record (the rest is zeros).
std::string TrimSegment(const std::string& seg, uint64_t seq, std::vector<std::string>* payloads) {
  wal::SegmentScan scan;
  Check(wal::ScanSegment(
            seg, seq, 0,
            [&](uint64_t, uint64_t, std::string_view payload) {
              payloads->emplace_back(payload);
              return Status::Ok();
            },
            &scan),
        "scan");
  return seg.substr(0, wal::AlignUp(scan.end_offset, 8));
}

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  Check(fs->ListDir(dir, &names), dir.c_str());
  std::sort(names.begin(), names.end());
  return names;
}

std::string Key(int i) { return fmt::format("key{:06d}", i); }

void FillEngine(Engine* db, int n, int salt) {
  WriteOptions wo;
  for (int i = 0; i < n; ++i) {
    Check(db->Put(wo, Key(i * 3 % n), fmt::format("value-{}-{}", salt, i)), "put");
    if (i % 7 == 0) Check(db->Delete(wo, Key(i)), "delete");
    if (i % 11 == 0) {
      bool applied = false;
      Check(db->PutIfNewer(wo, Key(i), 100 + i, "versioned", &applied), "put if newer");
    }
    if (i % 50 == 0) {
      WriteBatch b;
      Check(b.Put(Key(i + 1), "batched"), "batch");
      Check(b.Delete(Key(i + 2)), "batch");
      Check(b.PutVersioned(Key(i + 3), 7, "batched versioned"), "batch");
      Check(db->Write(wo, b), "write");
    }
  }
}

void LsmSeeds(const std::string& dir) {
  Options options;
  options.engine = "lsm";
  options.block_bytes = 1024;
  options.wal_segment_bytes = wal::kSegmentBytesMin;
  std::unique_ptr<Engine> db;
  Check(Open(options, dir, &db), "open lsm");
  FillEngine(db.get(), 300, 1);
  Check(db->Flush(), "flush");
  // A table of larger, compressible values (zstd blocks).
  for (int i = 0; i < 40; ++i) {
    Check(db->Put(WriteOptions{}, Key(1000 + i), std::string(300, static_cast<char>('a' + i % 3))),
          "put");
  }
  Check(db->Flush(), "flush");
  FillEngine(db.get(), 60, 2);  // stays in the WAL
  {
    std::unique_ptr<Snapshot> snap = db->GetSnapshot();
    snapshot::StreamOptions so;
    so.chunk_bytes = 512;
    std::string stream;
    Check(snapshot::WriteSnapshotStream(
              db.get(), *snap, so,
              [&](std::string_view b) {
                stream.append(b);
                return Status::Ok();
              },
              nullptr),
          "snapshot");
    Seed("snapshot", "lsm.snap", 1, stream);
    Seed("snapshot", "lsm-pieces.snap", 1 | (3 << 1), stream);
  }
  Check(db->Close(), "close");
  db.reset();

  int tables = 0;
  for (const std::string& name : List(dir)) {
    const std::string path = dir + "/" + name;
    if (name.ends_with(".sst")) {
      const std::string sst = Read(path);
      Seed("sstable", name, 1, sst);
      Seed("sstable", name + ".cached", 3, sst);
      lsm::Footer footer;
      Check(lsm::DecodeFooter(std::string_view(sst).substr(sst.size() - lsm::kFooterBytes),
                              sst.size(), name, &footer),
            "footer");
      auto block = [&](const lsm::BlockHandle& h) {
        std::string b = sst.substr(h.offset, h.bytes + lsm::kBlockTrailerBytes);
        Check(lsm::DecodeStoredBlock(h, name, &b), "block");
        return b;
      };
      const std::string index = block(footer.index);
      Seed("block", name + ".index", 0, index);
      Seed("block", name + ".properties", 2, block(footer.properties));
      if (!footer.filter.empty()) Seed("bloom", name + ".filter", 0, block(footer.filter));
      std::shared_ptr<const lsm::Block> ib;
      Check(lsm::Block::Parse(index, name, footer.index.offset, &ib), "index");
      std::unique_ptr<lsm::InternalIterator> it = ib->NewIterator();
      it->SeekToFirst();
      std::string_view v = it->value();
      lsm::BlockHandle first;
      if (it->Valid() && lsm::DecodeBlockHandle(&v, &first)) {
        Seed("block", name + ".data0", 0, block(first));
      }
      ++tables;
    } else if (name.starts_with("MANIFEST-")) {
      Seed("manifest", name, 1, Read(path));
    }
  }
  if (tables == 0) Check(Status::Corruption("no sstables written"), "lsm");
  std::string keys;
  for (int i = 0; i < 100; ++i) keys += Key(i) + "\n";
  Seed("bloom", "keys", 1 | (10 << 1), keys);

  for (const std::string& name : List(dir + "/wal")) {
    uint64_t seq = 0;
    if (wal::ParseFileName(name, &seq) != wal::FileKind::kSegment) continue;
    std::vector<std::string> payloads;
    const std::string seg = TrimSegment(Read(dir + "/wal/" + name), seq, &payloads);
    Seed("wal", name, 1, seg);
    Seed("wal", name + ".pit", 3, seg);
    for (size_t i = 0; i < payloads.size() && i < 8; ++i) {
      Seed("write_batch", fmt::format("{}.{}.payload", name, i), 2, payloads[i]);
      std::string rep;
      Check(lsm::DecodeWalPayload(payloads[i], name, &rep), "payload");
      Result<WriteBatch> b = WriteBatch::FromRep(rep);
      Check(b.status(), "batch");
      Seed("write_batch", fmt::format("{}.{}.batch", name, i), 1, b->Serialize());
    }
  }
}

void BtreeSeeds(const std::string& dir) {
  Options options;
  options.engine = "btree";
  options.block_bytes = 512;
  std::unique_ptr<Engine> db;
  Check(Open(options, dir, &db), "open btree");
  FillEngine(db.get(), 150, 3);
  Check(db->Put(WriteOptions{}, "big", std::string(1500, 'x')), "put big");  // overflow pages
  for (int i = 0; i < 150; i += 2) Check(db->Delete(WriteOptions{}, Key(i)), "delete");
  Check(db->Flush(), "checkpoint");
  {
    std::unique_ptr<Snapshot> snap = db->GetSnapshot();
    snapshot::StreamOptions so;
    so.chunk_bytes = 256;
    std::string stream;
    Check(snapshot::WriteSnapshotStream(
              db.get(), *snap, so,
              [&](std::string_view b) {
                stream.append(b);
                return Status::Ok();
              },
              nullptr),
          "snapshot");
    Seed("snapshot", "btree.snap", 1, stream);
  }
  Check(db->Close(), "close");
  db.reset();
  const std::string file = Read(dir + "/btree.db");
  Seed("btree", "btree.db", 1, file);
  Seed("btree", "btree.db.engine", 3, file);
}

void LogStoreSeeds(const std::string& dir) {
  LogStoreHostOptions options;
  options.segment_bytes = wal::kSegmentBytesMin;
  options.rewrite_lag_segments = 2;  // groups 1 and 2 go idle: rewrite records (kinds 6, 7)
  std::unique_ptr<LogStoreHost> host;
  Check(OpenLogStoreHost(options, dir, &host), "open log store");
  for (uint64_t group = 1; group <= 2; ++group) {
    LogStore* store = host->Group(group);
    std::vector<LogEntry> entries;
    for (uint64_t i = 1; i <= 20; ++i) {
      // Group 2 holds barriers and configuration changes too (record kind 4).
      const LogEntryType type = group == 2 && i % 4 == 0   ? LogEntryType::kBarrier
                                : group == 2 && i % 7 == 0 ? LogEntryType::kConfigChange
                                                           : LogEntryType::kCommand;
      entries.push_back(
          LogEntry{i, 1 + i / 8, fmt::format("entry {} of group {}", i, group), type});
    }
    Check(store->Append(entries, true), "append");
    Check(store->TruncateSuffix(15), "truncate");
    Check(store->SetHardState(HardState{3, 1, 12}), "hard state");
    if (group == 2) {
      Check(store->CompactPrefix(5, LogConfiguration{4, "voters 1 2 3"}), "compact");
    } else {
      Check(store->CompactPrefix(5), "compact");
    }
  }
  // Group 3 writes segments' worth and compacts as it goes; the idle groups'
  // live entries are rewritten at the head.
  LogStore* busy = host->Group(3);
  const std::string value(1000, 'b');
  for (uint64_t i = 1; i <= 400; ++i) {
    const std::vector<LogEntry> one{LogEntry{i, 1, value, LogEntryType::kCommand}};
    Check(busy->Append(one, false), "append");
    if (i % 50 == 0) Check(busy->CompactPrefix(i - 10), "compact");
  }
  Check(host->Sync(), "sync");
  if (host->Stats().rewrite_records == 0) Check(Status::Corruption("no rewrite happened"), "rewrite");
  host.reset();
  std::string framed;
  for (const std::string& name : List(dir)) {
    uint64_t seq = 0;
    if (wal::ParseFileName(name, &seq) != wal::FileKind::kSegment) continue;
    std::vector<std::string> payloads;
    TrimSegment(Read(dir + "/" + name), seq, &payloads);
    for (size_t i = 0; i < payloads.size(); ++i) {
      Seed("log_store", fmt::format("{}.{}", name, i), 0, payloads[i]);
      PutFixed16(&framed, static_cast<uint16_t>(payloads[i].size()));
      framed += payloads[i];
    }
  }
  Seed("log_store", "records", 1, framed);
}

void ReplicaSeeds() {
  replica::RaftSnapshotFile file;
  file.group = 1;
  file.index = 120;
  file.term = 3;
  file.configuration_index = 1;
  file.servers = {{1, 1, "127.0.0.1:7001"}, {2, 1, "127.0.0.1:7004"}, {3, 0, "127.0.0.1:7007"}};
  file.data = "SMN2 manifest bytes";
  Seed("replica", "snapshot-file", 0, replica::EncodeRaftSnapshotFile(file));
  WriteBatch batch;
  Check(batch.Put("key", "value"), "batch");
  Check(batch.Delete("gone"), "batch");
  Seed("replica", "command", 2, replica::EncodeCommand(7, 42, batch));
  replica::KvRequest request;
  request.op = replica::KvOp::kPut;
  request.client_id = 7;
  request.request_id = 43;
  request.key = "key";
  request.value = "value";
  Seed("replica", "request", 4, replica::EncodeRequest(request).substr(4));
  replica::KvResponse response;
  response.code = replica::KvCode::kOk;
  response.payload = replica::EncodeScanPayload({{"a", "1"}, {"b", "2"}}, true);
  Seed("replica", "response", 6, replica::EncodeResponse(response).substr(4));
}

}  // namespace
}  // namespace strata::fuzz

int main(int argc, char** argv) {
  using namespace strata;
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s SCRATCH_DIR CORPUS_DIR\n", argv[0]);
    return 2;
  }
  fuzz::fs = fuzz::PosixFs();
  const std::string scratch = argv[1];
  fuzz::corpus = argv[2];
  fuzz::Check(fuzz::fs->CreateDir(fuzz::corpus), "corpus dir");
  fuzz::LsmSeeds(scratch + "/lsm");
  fuzz::BtreeSeeds(scratch + "/btree");
  fuzz::LogStoreSeeds(scratch + "/logstore");
  fuzz::ReplicaSeeds();
  return 0;
}

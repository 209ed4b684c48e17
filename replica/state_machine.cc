#include "replica/state_machine.h"

#include <fmt/core.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/assert.h"
#include "core/coding.h"
#include "replica/command.h"
#include "snapshot/install.h"
#include "snapshot/stream_reader.h"

namespace strata::replica {

bool IsReservedKey(std::string_view key) { return key.starts_with(kReservedPrefix); }

std::string AppliedIndexKey() { return std::string(kReservedPrefix) + "applied"; }

std::string ClientKey(uint64_t client_id) {
  std::string key = std::string(kReservedPrefix) + "client/";
  PutFixed64(&key, client_id);
  return key;
}

namespace {

Status ReadFixed64Key(Engine* engine, const std::string& key, uint64_t* out,
                      const Snapshot* snapshot = nullptr) {
  std::string value;
  ReadOptions read;
  read.snapshot = snapshot;
  Status s = engine->Get(read, key, &value);
  if (s.IsNotFound()) {
    *out = 0;
    return Status::Ok();
  }
  STRATA_RETURN_IF_ERROR(s);
  if (value.size() != 8) {
    return Status::Corruption(
        fmt::format("replica: reserved key value of {} bytes, want 8", value.size()));
  }
  *out = DecodeFixed64(value.data());
  return Status::Ok();
}

std::string Fixed64Value(uint64_t v) {
  std::string s;
  PutFixed64(&s, v);
  return s;
}

}  // namespace

Status EngineStateMachine::ReadAppliedIndex(Engine* engine, uint64_t* index,
                                            const Snapshot* snapshot) {
  return ReadFixed64Key(engine, AppliedIndexKey(), index, snapshot);
}

Status EngineStateMachine::ServeStream(uint64_t min_index, uint64_t* applied,
                                       const snapshot::ByteSink& sink) {
  std::shared_lock<std::shared_mutex> lock(engine_mu_);
  if (!engine_) return Status::Busy("replica: engine is being replaced");
  std::unique_ptr<Snapshot> snap = engine_->GetSnapshot();
  STRATA_RETURN_IF_ERROR(ReadAppliedIndex(engine_.get(), applied, snap.get()));
  if (*applied < min_index) {
    return Status::Busy(fmt::format("replica: applied raft index {} < {}", *applied, min_index));
  }
  return snapshot::WriteSnapshotStream(engine_.get(), *snap, options_.stream, sink, nullptr);
}

EngineStateMachine::EngineStateMachine(const StateMachineOptions& options) : options_(options) {
  fsm_.version = 1;
  fsm_.data = this;
  fsm_.apply = &EngineStateMachine::ApplyTrampoline;
  fsm_.snapshot = &EngineStateMachine::SnapshotTrampoline;
  fsm_.restore = &EngineStateMachine::RestoreTrampoline;
}

EngineStateMachine::~EngineStateMachine() = default;

Status EngineStateMachine::Open(const StateMachineOptions& options,
                                std::unique_ptr<EngineStateMachine>* out) {
  std::unique_ptr<EngineStateMachine> sm(new EngineStateMachine(options));
  STRATA_RETURN_IF_ERROR(sm->OpenEngine());
  *out = std::move(sm);
  return Status::Ok();
}

Status EngineStateMachine::OpenEngine() {
  std::unique_lock<std::shared_mutex> lock(engine_mu_);
  engine_.reset();
  STRATA_RETURN_IF_ERROR(strata::Open(options_.engine_options, options_.db_dir, &engine_));
  return ReadAppliedIndex(engine_.get(), &applied_index_);
}

void EngineStateMachine::Fatal(const std::string& what) const {
  std::fprintf(stderr, "strata replica: FATAL: %s (db %s); stopping the node\n", what.c_str(),
               options_.db_dir.c_str());
  std::fflush(stderr);
  std::abort();
}

int EngineStateMachine::Apply(const raft_buffer* buf, void** result) {
  STRATA_ASSERT(raft_ != nullptr);
  const uint64_t index = raft_last_applied(raft_) + 1;
  if (index <= applied_index_) {
    ++stats_.skipped;
    *result = reinterpret_cast<void*>(static_cast<uintptr_t>(ApplyOutcome::kSkipped));
    return 0;
  }
  Result<Command> cmd =
      DecodeCommand(std::string_view(static_cast<const char*>(buf->base), buf->len));
  if (!cmd.ok()) Fatal(fmt::format("raft entry {}: {}", index, cmd.status().ToString()));

  bool duplicate = false;
  WriteBatch batch;
  if (cmd->client_id != 0) {
    uint64_t last = 0;
    Status s = ReadFixed64Key(engine_.get(), ClientKey(cmd->client_id), &last);
    if (!s.ok()) Fatal(fmt::format("raft entry {}: client table: {}", index, s.ToString()));
    duplicate = cmd->request_id <= last;
  }
  Status s;
  if (!duplicate) {
    s = batch.Append(cmd->batch);
    if (s.ok() && cmd->client_id != 0) {
      s = batch.Put(ClientKey(cmd->client_id), Fixed64Value(cmd->request_id));
    }
  }
  if (s.ok()) s = batch.Put(AppliedIndexKey(), Fixed64Value(index));
  if (s.ok()) s = engine_->Write(WriteOptions(), batch);
  if (!s.ok()) Fatal(fmt::format("raft entry {}: engine write: {}", index, s.ToString()));
  applied_index_ = index;
  ++stats_.applied;
  if (duplicate) ++stats_.duplicates;
  *result = reinterpret_cast<void*>(
      static_cast<uintptr_t>(duplicate ? ApplyOutcome::kDuplicate : ApplyOutcome::kApplied));
  return 0;
}

int EngineStateMachine::TakeSnapshot(raft_buffer* bufs[], unsigned* n_bufs) {
  STRATA_ASSERT(raft_ != nullptr);
  // Every entry up to raft_last_applied is applied (barriers and
  // configuration changes leave the engine alone), so the snapshot's index is
  // stored with a synced write: the engine is durable up to it before the
  // raft log may drop those entries.
  const uint64_t index = raft_last_applied(raft_);
  WriteBatch batch;
  Status s = batch.Put(AppliedIndexKey(), Fixed64Value(index));
  if (s.ok()) {
    WriteOptions sync;
    sync.sync = true;
    s = engine_->Write(sync, batch);
  }
  if (!s.ok()) Fatal(fmt::format("snapshot at raft index {}: {}", index, s.ToString()));
  applied_index_ = index;

  std::string out;
  if (options_.transport != nullptr) {
    PutFixed32(&out, kRemoteManifestMagic);
    PutFixed32(&out, static_cast<uint32_t>(options_.snapshot_source.size()));
    PutFixed64(&out, index);
    out.append(options_.snapshot_source);
    return HandToRaft(out, bufs, n_bufs);
  }
  PutFixed32(&out, kManifestMagic);
  PutFixed32(&out, 0);
  PutFixed64(&out, index);
  std::unique_ptr<Snapshot> snap = engine_->GetSnapshot();
  s = snapshot::WriteSnapshotStream(
      engine_.get(), *snap, options_.stream,
      [&out](std::string_view bytes) {
        out.append(bytes);
        return Status::Ok();
      },
      nullptr);
  if (!s.ok()) Fatal(fmt::format("snapshot stream at raft index {}: {}", index, s.ToString()));
  return HandToRaft(out, bufs, n_bufs);
}

int EngineStateMachine::HandToRaft(const std::string& out, raft_buffer* bufs[], unsigned* n_bufs) {
  raft_buffer* array = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  void* base = raft_malloc(out.size());
  if (array == nullptr || base == nullptr) Fatal("snapshot: out of memory");
  std::memcpy(base, out.data(), out.size());
  array[0].base = base;
  array[0].len = out.size();
  *bufs = array;
  *n_bufs = 1;
  ++stats_.snapshots;
  return 0;
}

int EngineStateMachine::Restore(raft_buffer* buf) {
  std::string_view data(static_cast<const char*>(buf->base), buf->len);
  const uint32_t magic = data.size() >= kManifestHeaderBytes ? DecodeFixed32(data.data()) : 0;
  if (magic != kManifestMagic && magic != kRemoteManifestMagic) {
    Fatal(fmt::format("restore: raft snapshot of {} bytes has no strata manifest at offset 0",
                      data.size()));
  }
  const uint64_t index = DecodeFixed64(data.data() + 8);
  if (index <= applied_index_) {
    // A restart (the engine already holds it) or a stale snapshot.
    ++stats_.restores_skipped;
    raft_free(buf->base);
    return 0;
  }
  if (magic == kManifestMagic) {
    std::string_view stream = data.substr(kManifestHeaderBytes);
    snapshot::ByteSource source = [&stream](char* out, size_t n, size_t* bytes_read) {
      const size_t take = std::min(n, stream.size());
      std::memcpy(out, stream.data(), take);
      stream.remove_prefix(take);
      *bytes_read = take;
      return Status::Ok();
    };
    const Status s = InstallStream(source, index);
    if (!s.ok()) Fatal(fmt::format("restore of raft index {}: {}", index, s.ToString()));
    raft_free(buf->base);
    return 0;
  }

  const uint32_t source_bytes = DecodeFixed32(data.data() + 4);
  if (data.size() != kManifestHeaderBytes + source_bytes) {
    Fatal(fmt::format("restore: manifest of {} bytes names a source of {} bytes", data.size(),
                      source_bytes));
  }
  const std::string preferred(data.substr(kManifestHeaderBytes));
  raft_free(buf->base);
  if (options_.transport == nullptr) {
    Fatal(fmt::format("restore of raft index {}: the manifest names out-of-band data at {:?} "
                      "but this node has no snapshot transport",
                      index, preferred));
  }
  // libraft 0.15 already reset its log to the snapshot: failing here would
  // leave raft applying entries it no longer has. Keep asking, then stop.
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.fetch_deadline_ms);
  auto backoff = std::chrono::milliseconds(50);
  Status last;
  for (;;) {
    last = options_.transport->Fetch(preferred, index, [&](const snapshot::ByteSource& source) {
      return InstallStream(source, index);
    });
    if (last.ok()) break;
    ++stats_.fetch_attempts_failed;
    std::fprintf(stderr, "strata replica: fetching raft snapshot %llu: %s\n",
                 static_cast<unsigned long long>(index), last.ToString().c_str());
    if (std::chrono::steady_clock::now() + backoff > deadline) {
      Fatal(fmt::format("restore of raft index {}: no member served it within {} ms: {}", index,
                        options_.fetch_deadline_ms, last.ToString()));
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(2000));
  }
  ++stats_.restores_fetched;
  return 0;
}

Status EngineStateMachine::InstallStream(const snapshot::ByteSource& source, uint64_t index) {
  snapshot::InstallInfo info;
  STRATA_RETURN_IF_ERROR(
      snapshot::PrepareInstall(source, options_.db_dir, options_.engine_options, &info));
  {
    std::unique_lock<std::shared_mutex> lock(engine_mu_);
    engine_.reset();  // the switch needs the old engine closed
    Status s = snapshot::CommitInstall(options_.db_dir, options_.engine_options, &info);
    if (!s.ok()) Fatal(fmt::format("restore of raft index {}: install: {}", index, s.ToString()));
  }
  Status s = OpenEngine();
  if (!s.ok()) Fatal(fmt::format("restore of raft index {}: reopen: {}", index, s.ToString()));
  // A member may serve a state past the manifest (never before it): the
  // entries in between are skipped by index when raft applies them.
  if (applied_index_ < index) {
    Fatal(fmt::format("restore: manifest says raft index {}, installed state holds {}", index,
                      applied_index_));
  }
  ++stats_.restores_installed;
  return Status::Ok();
}

int EngineStateMachine::ApplyTrampoline(raft_fsm* fsm, const raft_buffer* buf, void** result) {
  return static_cast<EngineStateMachine*>(fsm->data)->Apply(buf, result);
}
int EngineStateMachine::SnapshotTrampoline(raft_fsm* fsm, raft_buffer* bufs[], unsigned* n_bufs) {
  return static_cast<EngineStateMachine*>(fsm->data)->TakeSnapshot(bufs, n_bufs);
}
int EngineStateMachine::RestoreTrampoline(raft_fsm* fsm, raft_buffer* buf) {
  return static_cast<EngineStateMachine*>(fsm->data)->Restore(buf);
}

}  // namespace strata::replica

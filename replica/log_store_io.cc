#include "replica/log_store_io.h"

#include <fmt/core.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>

#include "core/checksum.h"
#include "core/coding.h"

namespace strata::replica {

namespace {

constexpr uint32_t kSnapshotFileMagic = 0x31535253;  // "SRS1"
constexpr uint32_t kSnapshotFileVersion = 1;
// magic, version, group, index, term, configuration_index, server count,
// data bytes (FORMAT.md).
constexpr size_t kSnapshotFileHeaderBytes = 4 + 4 + 8 + 8 + 8 + 8 + 4 + 8;
constexpr size_t kSnapshotFileTrailerBytes = 8;
constexpr uint32_t kServersMax = 1u << 16;
constexpr size_t kAddressBytesMax = 1024;
constexpr std::string_view kSnapshotPrefix = "snapshot-";
constexpr std::string_view kTmpSuffix = ".tmp";

bool ParseSnapshotName(std::string_view name, uint64_t* index) {
  if (name.size() != kSnapshotPrefix.size() + 20 || !name.starts_with(kSnapshotPrefix)) {
    return false;
  }
  const char* begin = name.data() + kSnapshotPrefix.size();
  const char* end = name.data() + name.size();
  auto [ptr, ec] = std::from_chars(begin, end, *index);
  return ec == std::errc() && ptr == end && RaftSnapshotFileName(*index) == name;
}

// The status a raft callback gets for a failed storage request.
int RaftCodeOf(const Status& s) {
  if (s.ok()) return 0;
  if (s.IsCorruption()) return RAFT_CORRUPT;
  if (s.IsNotFound()) return RAFT_NOTFOUND;
  return RAFT_IOERR;
}

}  // namespace

std::string RaftSnapshotFileName(uint64_t index) { return fmt::format("snapshot-{:020}", index); }

std::string EncodeRaftSnapshotFile(const RaftSnapshotFile& file) {
  std::string out;
  PutFixed32(&out, kSnapshotFileMagic);
  PutFixed32(&out, kSnapshotFileVersion);
  PutFixed64(&out, file.group);
  PutFixed64(&out, file.index);
  PutFixed64(&out, file.term);
  PutFixed64(&out, file.configuration_index);
  PutFixed32(&out, static_cast<uint32_t>(file.servers.size()));
  PutFixed64(&out, file.data.size());
  for (const RaftSnapshotFile::Server& server : file.servers) {
    PutFixed64(&out, server.id);
    out.push_back(static_cast<char>(server.role));
    PutLengthPrefixed(&out, server.address);
  }
  out.append(file.data);
  PutFixed64(&out, Checksum64(out));
  return out;
}

Status DecodeRaftSnapshotFile(std::string_view bytes, const std::string& path,
                              RaftSnapshotFile* file) {
  auto bad = [&path](std::string_view why) {
    return Status::Corruption(fmt::format("{}: raft snapshot file: {}", path, why));
  };
  if (bytes.size() < kSnapshotFileHeaderBytes + kSnapshotFileTrailerBytes) {
    return bad(fmt::format("{} bytes, shorter than header and checksum", bytes.size()));
  }
  const size_t body = bytes.size() - kSnapshotFileTrailerBytes;
  if (DecodeFixed64(bytes.data() + body) != Checksum64(bytes.substr(0, body))) {
    return bad("checksum mismatch");
  }
  const char* p = bytes.data();
  if (DecodeFixed32(p) != kSnapshotFileMagic) return bad("bad magic");
  if (DecodeFixed32(p + 4) != kSnapshotFileVersion) {
    return bad(fmt::format("unknown version {}", DecodeFixed32(p + 4)));
  }
  RaftSnapshotFile out;
  out.group = DecodeFixed64(p + 8);
  out.index = DecodeFixed64(p + 16);
  out.term = DecodeFixed64(p + 24);
  out.configuration_index = DecodeFixed64(p + 32);
  const uint32_t servers = DecodeFixed32(p + 40);
  const uint64_t data_bytes = DecodeFixed64(p + 44);
  if (out.index == 0 || out.term == 0) return bad("index or term is zero");
  if (out.configuration_index == 0 || out.configuration_index > out.index) {
    return bad(
        fmt::format("configuration index {} outside [1, {}]", out.configuration_index, out.index));
  }
  if (servers == 0 || servers > kServersMax) {
    return bad(fmt::format("{} servers in the configuration", servers));
  }
  std::string_view rest = bytes.substr(kSnapshotFileHeaderBytes, body - kSnapshotFileHeaderBytes);
  if (data_bytes > rest.size()) {
    return bad(fmt::format("data of {} bytes overruns the file", data_bytes));
  }
  std::string_view config = rest.substr(0, rest.size() - data_bytes);
  for (uint32_t k = 0; k < servers; ++k) {
    RaftSnapshotFile::Server server;
    std::string_view address;
    if (!GetFixed64(&config, &server.id) || config.empty()) return bad("truncated server entry");
    server.role = static_cast<uint8_t>(config[0]);
    config.remove_prefix(1);
    if (!GetLengthPrefixed(&config, &address)) return bad("truncated server address");
    if (server.id == 0) return bad("server id 0");
    if (server.role > RAFT_SPARE)
      return bad(fmt::format("server {} has role {}", server.id, server.role));
    if (address.empty() || address.size() > kAddressBytesMax ||
        address.find('\0') != std::string_view::npos) {
      return bad(fmt::format("server {} has a bad address", server.id));
    }
    for (const RaftSnapshotFile::Server& seen : out.servers) {
      if (seen.id == server.id) return bad(fmt::format("server {} listed twice", server.id));
    }
    server.address = std::string(address);
    out.servers.push_back(std::move(server));
  }
  if (!config.empty()) {
    return bad(fmt::format("{} stray bytes after the configuration", config.size()));
  }
  out.data = std::string(rest.substr(rest.size() - data_bytes));
  *file = std::move(out);
  return Status::Ok();
}

// --- requests and queues ---------------------------------------------------

struct LogStoreIo::Request {
  enum class Kind { kAppend, kTruncate, kSnapshotPut, kSnapshotGet, kClose };
  explicit Request(Kind k) : kind(k) {}
  Kind kind;
  // kAppend
  std::vector<LogEntry> entries;
  raft_io_append* append = nullptr;
  raft_io_append_cb append_cb = nullptr;
  uint64_t ticket = 0;
  // kTruncate
  uint64_t index = 0;
  // kSnapshotPut / kSnapshotGet
  unsigned trailing = 0;
  RaftSnapshotFile snapshot;  // put: all but data; get: what was read
  const raft_buffer* bufs = nullptr;
  unsigned n_bufs = 0;
  raft_io_snapshot_put* put = nullptr;
  raft_io_snapshot_put_cb put_cb = nullptr;
  raft_io_snapshot_get* get = nullptr;
  raft_io_snapshot_get_cb get_cb = nullptr;
  // outcome
  Status status;
};

class LogStoreIo::Queue {
 public:
  void Push(Request* r) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.push_back(r);
    }
    cv_.notify_one();
  }
  void PushAll(const std::vector<Request*>& rs) {
    if (rs.empty()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      items_.insert(items_.end(), rs.begin(), rs.end());
    }
    cv_.notify_one();
  }
  // Everything queued, in order; waits while nothing is.
  std::deque<Request*> PopAll() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !items_.empty(); });
    std::deque<Request*> out;
    out.swap(items_);
    return out;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Request*> items_;
};

// --- construction ----------------------------------------------------------

namespace {

LogStoreIo* Self(raft_io* io) { return static_cast<LogStoreIo*>(io->impl); }

}  // namespace

LogStoreIo::LogStoreIo(uv_loop_t* loop, const LogStoreIoOptions& options)
    : loop_(loop), options_(options), to_writer_(new Queue), to_syncer_(new Queue) {}

Status LogStoreIo::Create(uv_loop_t* loop, raft_uv_transport* transport,
                          const LogStoreIoOptions& options, std::unique_ptr<LogStoreIo>* out) {
  if (options.host == nullptr) return Status::InvalidArgument("LogStoreIo: no LogStoreHost");
  if (options.snapshot_dir.empty() || options.scratch_dir.empty()) {
    return Status::InvalidArgument("LogStoreIo: snapshot_dir and scratch_dir are required");
  }
  if (options.snapshot_dir == options.scratch_dir) {
    return Status::InvalidArgument("LogStoreIo: snapshot_dir and scratch_dir must differ");
  }
  if (options.append_chunk_bytes == 0) {
    return Status::InvalidArgument("LogStoreIo: append_chunk_bytes must be > 0");
  }
  std::unique_ptr<LogStoreIo> self(new LogStoreIo(loop, options));
  self->fs_ = options.file_system ? options.file_system : io::DefaultFileSystem();
  STRATA_RETURN_IF_ERROR(self->fs_->CreateDir(options.snapshot_dir));
  STRATA_RETURN_IF_ERROR(self->fs_->CreateDir(options.scratch_dir));
  self->log_ = options.host->Group(options.group);

  const int rv = raft_uv_init(&self->inner_, loop, options.scratch_dir.c_str(), transport);
  if (rv != 0) {
    return Status::IOError(
        fmt::format("raft_uv_init {}: {}", options.scratch_dir, self->inner_.errmsg));
  }
  self->inner_created_ = true;
  self->inner_.data = self.get();

  raft_io& io = self->io_;
  io.version = self->inner_.version;
  io.impl = self.get();
  io.init = [](raft_io* io, raft_id id, const char* address) {
    return Self(io)->Init(id, address);
  };
  io.close = [](raft_io* io, raft_io_close_cb cb) { Self(io)->Close(cb); };
  io.load = [](raft_io* io, raft_term* term, raft_id* voted_for, raft_snapshot** snapshot,
               raft_index* start_index, raft_entry** entries, size_t* n) {
    return Self(io)->Load(term, voted_for, snapshot, start_index, entries, n);
  };
  io.start = [](raft_io* io, unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
    return Self(io)->Start(msecs, tick, recv);
  };
  io.bootstrap = [](raft_io* io, const raft_configuration* conf) {
    return Self(io)->Bootstrap(conf);
  };
  io.recover = [](raft_io* io, const raft_configuration* conf) { return Self(io)->Recover(conf); };
  io.set_term = [](raft_io* io, raft_term term) { return Self(io)->SetTerm(term); };
  io.set_vote = [](raft_io* io, raft_id id) { return Self(io)->SetVote(id); };
  io.send = [](raft_io* io, raft_io_send* req, const raft_message* message, raft_io_send_cb cb) {
    LogStoreIo* self = Self(io);
    const int rv = self->inner_.send(&self->inner_, req, message, cb);
    if (rv != 0) std::snprintf(io->errmsg, sizeof(io->errmsg), "%s", self->inner_.errmsg);
    return rv;
  };
  io.append = [](raft_io* io, raft_io_append* req, const raft_entry entries[], unsigned n,
                 raft_io_append_cb cb) { return Self(io)->Append(req, entries, n, cb); };
  io.truncate = [](raft_io* io, raft_index index) { return Self(io)->Truncate(index); };
  io.snapshot_put = [](raft_io* io, unsigned trailing, raft_io_snapshot_put* req,
                       const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
    return Self(io)->SnapshotPut(trailing, req, snapshot, cb);
  };
  io.snapshot_get = [](raft_io* io, raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
    return Self(io)->SnapshotGet(req, cb);
  };
  io.time = [](raft_io* io) {
    LogStoreIo* self = Self(io);
    return self->inner_.time(&self->inner_);
  };
  io.random = [](raft_io* io, int min, int max) {
    LogStoreIo* self = Self(io);
    return self->inner_.random(&self->inner_, min, max);
  };
  if (self->inner_.async_work != nullptr) {
    io.async_work = [](raft_io* io, raft_io_async_work* req, raft_io_async_work_cb cb) {
      LogStoreIo* self = Self(io);
      return self->inner_.async_work(&self->inner_, req, cb);
    };
  }

  uv_async_init(loop, &self->async_, [](uv_async_t* handle) {
    static_cast<LogStoreIo*>(handle->data)->DrainCompleted();
  });
  self->async_.data = self.get();
  self->async_open_ = true;
  self->writer_ = std::thread([s = self.get()] { s->WriterLoop(); });
  self->syncer_ = std::thread([s = self.get()] { s->SyncerLoop(); });
  self->threads_started_ = true;
  *out = std::move(self);
  return Status::Ok();
}

LogStoreIo::~LogStoreIo() {
  if (threads_started_) {
    // Never closed: stop the workers (the loop will not run again).
    to_writer_->Push(new Request(Request::Kind::kClose));
    writer_.join();
    syncer_.join();
    for (Request* r : done_) delete r;
    done_.clear();
  }
  if (async_open_) uv_close(reinterpret_cast<uv_handle_t*>(&async_), nullptr);
  if (inner_created_) raft_uv_close(&inner_);
}

LogStoreIoStats LogStoreIo::stats() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return stats_;
}

int LogStoreIo::Fail(int code, const Status& s) {
  std::snprintf(io_.errmsg, sizeof(io_.errmsg), "%s", s.ToString().c_str());
  return code;
}

// --- forwarded to raft_uv --------------------------------------------------

int LogStoreIo::Init(raft_id id, const char* address) {
  const int rv = inner_.init(&inner_, id, address);
  if (rv != 0) {
    std::snprintf(io_.errmsg, sizeof(io_.errmsg), "%s", inner_.errmsg);
    return rv;
  }
  inner_initialised_ = true;
  return 0;
}

int LogStoreIo::Start(unsigned msecs, raft_io_tick_cb tick, raft_io_recv_cb recv) {
  tick_cb_ = tick;
  recv_cb_ = recv;
  const int rv = inner_.start(
      &inner_, msecs,
      [](raft_io* inner) {
        LogStoreIo* self = static_cast<LogStoreIo*>(inner->data);
        self->tick_cb_(&self->io_);
      },
      [](raft_io* inner, raft_message* message) {
        LogStoreIo* self = static_cast<LogStoreIo*>(inner->data);
        self->recv_cb_(&self->io_, message);
      });
  if (rv != 0) std::snprintf(io_.errmsg, sizeof(io_.errmsg), "%s", inner_.errmsg);
  return rv;
}

void LogStoreIo::Close(raft_io_close_cb cb) {
  close_cb_ = cb;
  Submit(new Request(Request::Kind::kClose));
}

void LogStoreIo::FinishClose() {
  writer_.join();
  syncer_.join();
  threads_started_ = false;
  async_open_ = false;
  uv_close(reinterpret_cast<uv_handle_t*>(&async_), [](uv_handle_t* handle) {
    LogStoreIo* self = static_cast<LogStoreIo*>(handle->data);
    if (!self->inner_initialised_) {
      if (self->close_cb_ != nullptr) self->close_cb_(&self->io_);
      return;
    }
    self->inner_.close(&self->inner_, [](raft_io* inner) {
      LogStoreIo* self = static_cast<LogStoreIo*>(inner->data);
      if (self->close_cb_ != nullptr) self->close_cb_(&self->io_);
    });
  });
}

// --- snapshot files --------------------------------------------------------

Status LogStoreIo::ListSnapshots(std::vector<uint64_t>* indexes) {
  indexes->clear();
  std::vector<std::string> names;
  STRATA_RETURN_IF_ERROR(fs_->ListDir(options_.snapshot_dir, &names));
  for (const std::string& name : names) {
    uint64_t index = 0;
    if (ParseSnapshotName(name, &index)) {
      indexes->push_back(index);
    } else if (name.ends_with(kTmpSuffix) &&
               ParseSnapshotName(std::string_view(name).substr(0, name.size() - kTmpSuffix.size()),
                                 &index)) {
      // A snapshot write that never reached its rename: never part of state.
      STRATA_RETURN_IF_ERROR(fs_->RemoveFile(io::JoinPath(options_.snapshot_dir, name)));
    }
  }
  std::sort(indexes->begin(), indexes->end());
  return Status::Ok();
}

Status LogStoreIo::ReadNewestSnapshot(bool* found, RaftSnapshotFile* file) {
  std::vector<uint64_t> indexes;
  STRATA_RETURN_IF_ERROR(ListSnapshots(&indexes));
  *found = !indexes.empty();
  if (!*found) return Status::Ok();
  const std::string path =
      io::JoinPath(options_.snapshot_dir, RaftSnapshotFileName(indexes.back()));
  std::string bytes;
  STRATA_RETURN_IF_ERROR(io::ReadFileToString(fs_.get(), path, &bytes));
  STRATA_RETURN_IF_ERROR(DecodeRaftSnapshotFile(bytes, path, file));
  if (file->index != indexes.back()) {
    return Status::Corruption(
        fmt::format("{}: raft snapshot file holds index {}", path, file->index));
  }
  if (file->group != options_.group) {
    return Status::Corruption(fmt::format("{}: raft snapshot file of group {}, not {}", path,
                                          file->group, options_.group));
  }
  return Status::Ok();
}

Status LogStoreIo::RemoveSnapshotsBelow(uint64_t index) {
  std::vector<uint64_t> indexes;
  STRATA_RETURN_IF_ERROR(ListSnapshots(&indexes));
  for (uint64_t old : indexes) {
    if (old >= index) break;
    STRATA_RETURN_IF_ERROR(
        fs_->RemoveFile(io::JoinPath(options_.snapshot_dir, RaftSnapshotFileName(old))));
  }
  return Status::Ok();
}

// Runs on the sync thread, after every earlier append was written.
Status LogStoreIo::PutSnapshot(Request* r) {
  size_t bytes = 0;
  for (unsigned k = 0; k < r->n_bufs; ++k) bytes += r->bufs[k].len;
  r->snapshot.data.reserve(bytes);
  for (unsigned k = 0; k < r->n_bufs; ++k) {
    r->snapshot.data.append(static_cast<const char*>(r->bufs[k].base), r->bufs[k].len);
  }
  const std::string path =
      io::JoinPath(options_.snapshot_dir, RaftSnapshotFileName(r->snapshot.index));
  STRATA_RETURN_IF_ERROR(
      io::WriteFileAtomically(fs_.get(), path, EncodeRaftSnapshotFile(r->snapshot)));
  r->snapshot.data.clear();
  r->snapshot.data.shrink_to_fit();
  // The file is durable: the log may now drop what it covers.
  if (r->trailing == 0) {
    STRATA_RETURN_IF_ERROR(log_->Reset(r->snapshot.index, r->snapshot.term));
  } else if (r->snapshot.index > r->trailing) {
    const uint64_t drop_through = r->snapshot.index - r->trailing;
    if (drop_through >= log_->FirstIndex()) {
      STRATA_RETURN_IF_ERROR(log_->CompactPrefix(drop_through));
    }
  }
  return RemoveSnapshotsBelow(r->snapshot.index);
}

// --- load, bootstrap, hard state (synchronous, on the loop thread) ----------

Status LogStoreIo::LoadState(HardState* hard, bool* have_snapshot, RaftSnapshotFile* snapshot,
                             std::vector<LogEntry>* entries) {
  STRATA_RETURN_IF_ERROR(ReadNewestSnapshot(have_snapshot, snapshot));
  uint64_t first = log_->FirstIndex();
  uint64_t last = log_->LastIndex();
  if (*have_snapshot) {
    if (first - 1 > snapshot->index) {
      return Status::Corruption(
          fmt::format("log {} starts at index {}, past its newest raft snapshot ({}, index {})",
                      options_.group, first, options_.snapshot_dir, snapshot->index));
    }
    bool holds = false;
    if (last >= snapshot->index) {
      Result<uint64_t> term = log_->Term(snapshot->index);
      holds = term.ok() && *term == snapshot->term;
    }
    if (!holds) {
      // An install wrote its snapshot file and stopped before the log reset.
      STRATA_RETURN_IF_ERROR(log_->Reset(snapshot->index, snapshot->term));
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++stats_.interrupted_installs_finished;
      first = snapshot->index + 1;
      last = snapshot->index;
    }
    STRATA_RETURN_IF_ERROR(RemoveSnapshotsBelow(snapshot->index));
  } else if (first > 1) {
    return Status::Corruption(
        fmt::format("log {} starts at index {} but {} holds no raft snapshot for the entries below",
                    options_.group, first, options_.snapshot_dir));
  }
  entries->clear();
  if (last >= first) {
    STRATA_RETURN_IF_ERROR(log_->Entries(first, last + 1, UINT64_MAX, entries));
    if (entries->size() != last + 1 - first) {
      return Status::Corruption(fmt::format("log {}: read {} entries of [{}, {}]", options_.group,
                                            entries->size(), first, last));
    }
  }
  *hard = log_->GetHardState();
  // Bootstrap writes its entry before the term (see Bootstrap): a crash in
  // between leaves an entry of a term the hard state does not know yet.
  if (!entries->empty()) hard->term = std::max(hard->term, entries->back().term);
  if (*have_snapshot) hard->term = std::max(hard->term, snapshot->term);
  next_index_ = last + 1;
  return Status::Ok();
}

int LogStoreIo::Load(raft_term* term, raft_id* voted_for, raft_snapshot** snapshot,
                     raft_index* start_index, raft_entry** entries, size_t* n_entries) {
  HardState hard;
  bool have_snapshot = false;
  RaftSnapshotFile file;
  std::vector<LogEntry> loaded;
  Status s = LoadState(&hard, &have_snapshot, &file, &loaded);
  if (!s.ok()) return Fail(RaftCodeOf(s), s);

  *term = hard.term;
  *voted_for = hard.vote;
  *snapshot = nullptr;
  *entries = nullptr;
  *n_entries = 0;
  *start_index = next_index_ - loaded.size();
  if (have_snapshot) {
    raft_snapshot* snap = MakeRaftSnapshot(file);
    if (snap == nullptr) return Fail(RAFT_NOMEM, Status::IOError("load: out of memory"));
    *snapshot = snap;
  }
  if (!loaded.empty()) {
    auto* array = static_cast<raft_entry*>(raft_calloc(loaded.size(), sizeof(raft_entry)));
    if (array == nullptr) return Fail(RAFT_NOMEM, Status::IOError("load: out of memory"));
    for (size_t k = 0; k < loaded.size(); ++k) {
      LogEntry& e = loaded[k];
      void* base = raft_malloc(std::max<size_t>(e.data.size(), 1));
      if (base == nullptr) {
        for (size_t j = 0; j < k; ++j) raft_free(array[j].batch);
        raft_free(array);
        return Fail(RAFT_NOMEM, Status::IOError("load: out of memory"));
      }
      std::memcpy(base, e.data.data(), e.data.size());
      array[k].term = e.term;
      array[k].type = static_cast<unsigned short>(e.type);
      array[k].buf.base = base;
      array[k].buf.len = e.data.size();
      array[k].batch = base;  // each entry is its own batch: raft frees it
      std::string().swap(e.data);
    }
    *entries = array;
    *n_entries = loaded.size();
  }
  return 0;
}

raft_snapshot* LogStoreIo::MakeRaftSnapshot(const RaftSnapshotFile& file) {
  auto* snap = static_cast<raft_snapshot*>(raft_calloc(1, sizeof(raft_snapshot)));
  if (snap == nullptr) return nullptr;
  snap->index = file.index;
  snap->term = file.term;
  snap->configuration_index = file.configuration_index;
  raft_configuration_init(&snap->configuration);
  for (const RaftSnapshotFile::Server& server : file.servers) {
    if (raft_configuration_add(&snap->configuration, server.id, server.address.c_str(),
                               server.role) != 0) {
      raft_configuration_close(&snap->configuration);
      raft_free(snap);
      return nullptr;
    }
  }
  snap->bufs = static_cast<raft_buffer*>(raft_malloc(sizeof(raft_buffer)));
  void* base = raft_malloc(std::max<size_t>(file.data.size(), 1));
  if (snap->bufs == nullptr || base == nullptr) {
    raft_free(snap->bufs);
    raft_free(base);
    raft_configuration_close(&snap->configuration);
    raft_free(snap);
    return nullptr;
  }
  std::memcpy(base, file.data.data(), file.data.size());
  snap->bufs[0].base = base;
  snap->bufs[0].len = file.data.size();
  snap->n_bufs = 1;
  return snap;
}

int LogStoreIo::Bootstrap(const raft_configuration* conf) {
  std::vector<uint64_t> snapshots;
  Status s = ListSnapshots(&snapshots);
  if (!s.ok()) return Fail(RAFT_IOERR, s);
  const HardState hard = log_->GetHardState();
  if (hard.term != 0 || log_->LastIndex() != 0 || log_->FirstIndex() != 1 || !snapshots.empty()) {
    return Fail(RAFT_CANTBOOTSTRAP,
                Status::InvalidArgument(
                    fmt::format("log {} already holds state (term {}, last index {}, {} snapshots)",
                                options_.group, hard.term, log_->LastIndex(), snapshots.size())));
  }
  raft_buffer buf{};
  const int rv = raft_configuration_encode(conf, &buf);
  if (rv != 0) return Fail(rv, Status::InvalidArgument("bootstrap: cannot encode configuration"));
  LogEntry entry;
  entry.index = 1;
  entry.term = 1;
  entry.type = LogEntryType::kConfigChange;
  entry.data.assign(static_cast<const char*>(buf.base), buf.len);
  raft_free(buf.base);
  // The entry first, then the term: the durable term covers the entry (one
  // WAL, synced in order), and a crash in between leaves the entry with
  // term 0, which load reads as term 1 (never a term without its entry).
  Result<uint64_t> ticket = log_->AppendAsync(std::span<const LogEntry>(&entry, 1));
  if (!ticket.ok()) return Fail(RAFT_IOERR, ticket.status());
  s = log_->SetHardState(HardState{1, 0, hard.commit});
  if (s.ok()) s = log_->WaitDurable(*ticket);
  if (!s.ok()) return Fail(RAFT_IOERR, s);
  next_index_ = 2;
  return 0;
}

int LogStoreIo::Recover(const raft_configuration* conf) {
  HardState hard;
  bool have_snapshot = false;
  RaftSnapshotFile file;
  std::vector<LogEntry> loaded;
  Status s = LoadState(&hard, &have_snapshot, &file, &loaded);
  if (!s.ok()) return Fail(RaftCodeOf(s), s);
  raft_buffer buf{};
  const int rv = raft_configuration_encode(conf, &buf);
  if (rv != 0) return Fail(rv, Status::InvalidArgument("recover: cannot encode configuration"));
  LogEntry entry;
  entry.index = next_index_;
  entry.term = !loaded.empty() ? loaded.back().term : have_snapshot ? file.term : 1;
  entry.type = LogEntryType::kConfigChange;
  entry.data.assign(static_cast<const char*>(buf.base), buf.len);
  raft_free(buf.base);
  s = log_->Append(std::span<const LogEntry>(&entry, 1), /*sync=*/true);
  if (!s.ok()) return Fail(RAFT_IOERR, s);
  ++next_index_;
  return 0;
}

int LogStoreIo::SetTerm(raft_term term) {
  const HardState hard = log_->GetHardState();
  const Status s = log_->SetHardState(HardState{term, 0, hard.commit});
  return s.ok() ? 0 : Fail(RAFT_IOERR, s);
}

int LogStoreIo::SetVote(raft_id server_id) {
  const HardState hard = log_->GetHardState();
  const Status s = log_->SetHardState(HardState{hard.term, server_id, hard.commit});
  return s.ok() ? 0 : Fail(RAFT_IOERR, s);
}

// --- asynchronous requests -------------------------------------------------

int LogStoreIo::Append(raft_io_append* req, const raft_entry entries[], unsigned n,
                       raft_io_append_cb cb) {
  auto* r = new Request(Request::Kind::kAppend);
  r->append = req;
  r->append_cb = cb;
  r->entries.resize(n);
  for (unsigned k = 0; k < n; ++k) {
    if (entries[k].type < RAFT_COMMAND || entries[k].type > RAFT_CHANGE) {
      delete r;
      return Fail(RAFT_INVALID, Status::InvalidArgument(
                                    fmt::format("append: entry of type {}", entries[k].type)));
    }
    LogEntry& e = r->entries[k];
    e.index = next_index_ + k;
    e.term = entries[k].term;
    e.type = static_cast<LogEntryType>(entries[k].type);
    e.data.assign(static_cast<const char*>(entries[k].buf.base), entries[k].buf.len);
  }
  next_index_ += n;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.appends;
    stats_.entries_appended += n;
  }
  Submit(r);
  return 0;
}

int LogStoreIo::Truncate(raft_index index) {
  if (index == 0 || index > next_index_) {
    return Fail(RAFT_INVALID, Status::InvalidArgument(fmt::format("truncate at {} outside [1, {}]",
                                                                  index, next_index_)));
  }
  auto* r = new Request(Request::Kind::kTruncate);
  r->index = index;
  next_index_ = index;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.truncations;
  }
  Submit(r);
  return 0;
}

int LogStoreIo::SnapshotPut(unsigned trailing, raft_io_snapshot_put* req,
                            const raft_snapshot* snapshot, raft_io_snapshot_put_cb cb) {
  auto* r = new Request(Request::Kind::kSnapshotPut);
  r->put = req;
  r->put_cb = cb;
  r->trailing = trailing;
  r->snapshot.group = options_.group;
  r->snapshot.index = snapshot->index;
  r->snapshot.term = snapshot->term;
  r->snapshot.configuration_index = snapshot->configuration_index;
  for (unsigned k = 0; k < snapshot->configuration.n; ++k) {
    const raft_server& server = snapshot->configuration.servers[k];
    r->snapshot.servers.push_back(RaftSnapshotFile::Server{
        server.id, static_cast<uint8_t>(server.role), std::string(server.address)});
  }
  r->bufs = snapshot->bufs;  // raft keeps them alive until the callback
  r->n_bufs = snapshot->n_bufs;
  if (trailing == 0) next_index_ = snapshot->index + 1;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++(trailing == 0 ? stats_.installs : stats_.snapshots_taken);
  }
  Submit(r);
  return 0;
}

int LogStoreIo::SnapshotGet(raft_io_snapshot_get* req, raft_io_snapshot_get_cb cb) {
  auto* r = new Request(Request::Kind::kSnapshotGet);
  r->get = req;
  r->get_cb = cb;
  {
    std::lock_guard<std::mutex> lock(stats_mu_);
    ++stats_.snapshot_gets;
  }
  Submit(r);
  return 0;
}

void LogStoreIo::Submit(Request* r) { to_writer_->Push(r); }

Status LogStoreIo::Failed() const {
  std::lock_guard<std::mutex> lock(fail_mu_);
  return failed_;
}

void LogStoreIo::SetFailed(const Status& s) {
  std::lock_guard<std::mutex> lock(fail_mu_);
  if (failed_.ok()) failed_ = s;
}

// Writes appends and truncations in order; hands everything with a
// completion to the sync thread, in the same order. Appends queued back to
// back (consecutive indexes: a truncation or a snapshot between them ends a
// run) share their log records: one WAL write instead of one per request.
void LogStoreIo::WriterLoop() {
  for (;;) {
    std::deque<Request*> queued = to_writer_->PopAll();
    std::vector<Request*> forward;
    while (!queued.empty()) {
      Request* r = queued.front();
      queued.pop_front();
      const Request::Kind kind = r->kind;
      if (kind == Request::Kind::kAppend) {
        std::vector<Request*> run{r};
        while (!queued.empty() && queued.front()->kind == Request::Kind::kAppend) {
          run.push_back(queued.front());
          queued.pop_front();
        }
        WriteAppends(run);
        forward.insert(forward.end(), run.begin(), run.end());
      } else if (kind == Request::Kind::kTruncate) {
        Status s = Failed();
        if (s.ok()) s = log_->TruncateSuffix(r->index);
        if (!s.ok()) {
          // No callback to report it to: every later append fails with it.
          std::fprintf(stderr, "strata LogStoreIo: log %llu: truncate at %llu: %s\n",
                       static_cast<unsigned long long>(options_.group),
                       static_cast<unsigned long long>(r->index), s.ToString().c_str());
          SetFailed(s);
        }
        delete r;
      } else {
        forward.push_back(r);
        if (kind == Request::Kind::kClose) {
          to_syncer_->PushAll(forward);
          return;
        }
      }
    }
    to_syncer_->PushAll(forward);
  }
}

// One run of append requests with consecutive indexes: their entries go to
// the log in records of at most append_chunk_bytes; every request of the run
// gets the ticket of the last record and the run's status.
void LogStoreIo::WriteAppends(const std::vector<Request*>& run) {
  std::vector<LogEntry> entries;
  if (run.size() == 1) {
    entries.swap(run[0]->entries);
  } else {
    for (Request* r : run) {
      for (LogEntry& e : r->entries) entries.push_back(std::move(e));
      std::vector<LogEntry>().swap(r->entries);
    }
  }
  Status status = Failed();
  uint64_t ticket = 0;
  size_t begin = 0;
  while (status.ok() && begin < entries.size()) {
    size_t end = begin;
    uint64_t bytes = 0;
    do {
      bytes += entries[end].data.size();
      ++end;
    } while (end < entries.size() &&
             bytes + entries[end].data.size() <= options_.append_chunk_bytes);
    Result<uint64_t> written =
        log_->AppendAsync(std::span<const LogEntry>(entries.data() + begin, end - begin));
    if (written.ok()) {
      ticket = *written;
    } else {
      status = written.status();
      SetFailed(status);
    }
    begin = end;
  }
  for (Request* r : run) {
    r->ticket = ticket;
    r->status = status;
  }
}

// Waits for each append's durability in order and runs snapshot requests;
// completions go back to the loop in the same order, in batches (one wake-up
// of the loop per batch; a snapshot request first hands on what is done).
void LogStoreIo::SyncerLoop() {
  for (;;) {
    std::deque<Request*> queued = to_syncer_->PopAll();
    std::vector<Request*> completed;
    auto hand_on = [&] {
      if (completed.empty()) return;
      {
        std::lock_guard<std::mutex> lock(done_mu_);
        done_.insert(done_.end(), completed.begin(), completed.end());
      }
      completed.clear();
      uv_async_send(&async_);
    };
    // One wait covers every append of the batch (a ticket implies all
    // earlier ones); later appends in it then find their ticket synced.
    bool closing = false;
    for (Request* r : queued) {
      switch (r->kind) {
        case Request::Kind::kAppend:
          if (r->status.ok() && r->ticket != 0) {
            r->status = log_->WaitDurable(r->ticket);
            if (!r->status.ok()) SetFailed(r->status);
          }
          break;
        case Request::Kind::kSnapshotPut:
          hand_on();
          r->status = Failed();
          if (r->status.ok()) r->status = PutSnapshot(r);
          break;
        case Request::Kind::kSnapshotGet: {
          hand_on();
          bool found = false;
          r->status = ReadNewestSnapshot(&found, &r->snapshot);
          if (r->status.ok() && !found) {
            r->status = Status::NotFound(fmt::format("{}: no raft snapshot of log {}",
                                                     options_.snapshot_dir, options_.group));
          }
          break;
        }
        case Request::Kind::kClose:
          closing = true;
          break;
        default:
          break;
      }
      completed.push_back(r);
    }
    hand_on();
    if (closing) return;
  }
}

void LogStoreIo::DrainCompleted() {
  std::deque<Request*> done;
  {
    std::lock_guard<std::mutex> lock(done_mu_);
    done.swap(done_);
  }
  for (Request* r : done) Complete(r);
}

void LogStoreIo::Complete(Request* r) {
  std::unique_ptr<Request> owned(r);
  const int code = RaftCodeOf(r->status);
  if (code != 0) Fail(code, r->status);
  switch (r->kind) {
    case Request::Kind::kAppend:
      r->append_cb(r->append, code);
      break;
    case Request::Kind::kSnapshotPut:
      r->put_cb(r->put, code);
      break;
    case Request::Kind::kSnapshotGet: {
      if (code != 0) {
        r->get_cb(r->get, nullptr, code);
        break;
      }
      raft_snapshot* snap = MakeRaftSnapshot(r->snapshot);
      r->get_cb(r->get, snap, snap == nullptr ? RAFT_NOMEM : 0);
      break;
    }
    case Request::Kind::kClose:
      owned.reset();
      FinishClose();
      break;
    case Request::Kind::kTruncate:
      break;
  }
}

}  // namespace strata::replica

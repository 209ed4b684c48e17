#include "replica/kv_node.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstring>
#include <memory>
#include <set>

#include "core/assert.h"
#include "core/coding.h"
#include "replica/command.h"
#include "replica/kv_protocol.h"
#include "replica/log_store_io.h"
#include "replica/raft_c.h"
#include "replica/snapshot_transport.h"
#include "replica/state_machine.h"
#include "strata/engine.h"
#include "strata/log_store.h"

namespace strata::replica {

Status ParsePeers(std::string_view text, std::vector<std::pair<uint64_t, std::string>>* peers) {
  peers->clear();
  std::set<uint64_t> ids;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    const size_t eq = item.find('=');
    uint64_t id = 0;
    if (eq == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("peer {:?}: want ID=HOST:PORT", item));
    }
    auto [ptr, ec] = std::from_chars(item.data(), item.data() + eq, id);
    if (ec != std::errc() || ptr != item.data() + eq || id == 0) {
      return Status::InvalidArgument(fmt::format("peer {:?}: bad id", item));
    }
    std::string host;
    uint16_t port = 0;
    STRATA_RETURN_IF_ERROR(ParseAddress(item.substr(eq + 1), &host, &port));
    if (!ids.insert(id).second) {
      return Status::InvalidArgument(fmt::format("peer id {} given twice", id));
    }
    peers->emplace_back(id, std::string(item.substr(eq + 1)));
  }
  return Status::Ok();
}

namespace {

Status MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) {
    return Status::IOError(fmt::format("{}: mkdir: {}", path, std::strerror(errno)));
  }
  return Status::Ok();
}

// mkdir -p: the data directory's parents too.
Status MakeDirs(const std::string& path) {
  for (size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    STRATA_RETURN_IF_ERROR(MakeDir(path.substr(0, slash)));
  }
  return MakeDir(path);
}

Status RaftError(std::string_view what, int rv) {
  return Status::IOError(fmt::format("{}: {} ({})", what, raft_strerror(rv), rv));
}

class Node;

constexpr uint64_t kNoDelayPeriodMs = 5;

// One client connection. Requests are served one at a time, in order.
struct Conn {
  uv_tcp_t handle;
  Node* node = nullptr;
  std::string in;
  bool busy = false;     // a request is in flight
  bool closing = false;  // uv_close called
  int refs = 1;          // the handle + every in-flight raft request
};

struct WriteReq {
  uv_write_t req;
  std::string data;
};

struct ApplyReq {
  struct raft_apply req;
  Conn* conn;
};

struct BarrierReq {
  struct raft_barrier req;
  Conn* conn;
  KvRequest request;
};

class Node {
 public:
  explicit Node(const KvNodeOptions& options) : options_(options) {}

  Status Run();

 private:
  Status Start();
  void Stop();
  bool IsLeader() { return raft_state(&raft_) == RAFT_LEADER; }

  void OnConnection();
  void OnRead(Conn* conn, ssize_t nread, const uv_buf_t* buf);
  void ProcessNext(Conn* conn);
  void Handle(Conn* conn, KvRequest request);
  void HandleWrite(Conn* conn, const KvRequest& request);
  void Reply(Conn* conn, KvCode code, std::string payload);
  void RedirectOrRetry(Conn* conn);
  void ServeRead(Conn* conn, const KvRequest& request);
  std::string StatusText();
  void CloseConn(Conn* conn);
  void Unref(Conn* conn);

  static void ApplyCb(struct raft_apply* req, int status, void* result);
  static void BarrierCb(struct raft_barrier* req, int status);

  KvNodeOptions options_;
  std::unique_ptr<SnapshotTransport> snapshot_transport_;  // outlives sm_
  std::unique_ptr<EngineStateMachine> sm_;
  std::unique_ptr<TcpSnapshotServer> snapshot_server_;  // stopped before sm_ goes
  uv_loop_t loop_{};
  raft_uv_transport transport_{};
  raft_io io_{};                        // raft_log "uv"
  std::unique_ptr<LogStoreHost> log_host_;  // raft_log "strata"
  std::unique_ptr<LogStoreIo> log_io_;
  raft_io* raft_io_ = nullptr;  // &io_ or log_io_->io()
  raft raft_{};
  uv_tcp_t server_{};
  uv_timer_t nodelay_timer_{};
  uv_signal_t sigterm_{};
  uv_signal_t sigint_{};
  std::set<Conn*> conns_;
  bool stopping_ = false;
  bool raft_inited_ = false;
};

Status Node::Run() {
  STRATA_RETURN_IF_ERROR(Start());
  uv_run(&loop_, UV_RUN_DEFAULT);
  uv_loop_close(&loop_);
  return Status::Ok();
}

Status Node::Start() {
  if (options_.id == 0) return Status::InvalidArgument("--id must be >= 1");
  std::string host;
  uint16_t port = 0;
  STRATA_RETURN_IF_ERROR(ParseAddress(options_.listen, &host, &port));
  bool self_listed = false;
  for (const auto& [id, address] : options_.peers) {
    if (id == options_.id) {
      if (address != options_.listen) {
        return Status::InvalidArgument(fmt::format("--peers names {} for id {}, --listen says {}",
                                                   address, id, options_.listen));
      }
      self_listed = true;
    }
  }
  if (!self_listed) options_.peers.emplace_back(options_.id, options_.listen);
  bool known = false;
  for (const std::string& kind : RegisteredEngineKinds()) known |= kind == options_.engine;
  if (!known) {
    std::string kinds;
    for (const std::string& kind : RegisteredEngineKinds()) kinds += " " + kind;
    return Status::InvalidArgument(fmt::format(
        "engine kind {:?} is not built into this strata (available:{})", options_.engine, kinds));
  }

  if (options_.raft_log != "strata" && options_.raft_log != "uv") {
    return Status::InvalidArgument(
        fmt::format("raft log {:?}: want \"strata\" or \"uv\"", options_.raft_log));
  }
  const std::string raft_dir = options_.data_dir + "/raft";
  const std::string log_dir = options_.data_dir + "/raftlog";
  // A data directory keeps the raft log it was created with: the other kind
  // would find no state, bootstrap afresh and vote again in old terms.
  struct stat st{};
  const bool has_log_store = ::stat(log_dir.c_str(), &st) == 0;
  const bool has_uv_state = ::stat((raft_dir + "/metadata1").c_str(), &st) == 0 ||
                            ::stat((raft_dir + "/metadata2").c_str(), &st) == 0;
  if (options_.raft_log == "uv" && has_log_store) {
    return Status::InvalidArgument(fmt::format(
        "{} holds a strata raft log ({}): serve it with --raft-log strata", options_.data_dir,
        log_dir));
  }
  if (options_.raft_log == "strata" && has_uv_state) {
    return Status::InvalidArgument(fmt::format(
        "{} holds raft_uv state ({}/metadata*): serve it with --raft-log uv", options_.data_dir,
        raft_dir));
  }
  STRATA_RETURN_IF_ERROR(MakeDirs(options_.data_dir));
  STRATA_RETURN_IF_ERROR(MakeDir(raft_dir));
  // Out-of-band raft snapshots: every member serves streams on raft port + 2.
  STRATA_ASSIGN_OR_RETURN(std::string snapshot_address, SnapshotAddressFor(options_.listen));
  std::vector<std::string> other_members;
  for (const auto& [id, address] : options_.peers) {
    if (id == options_.id) continue;
    STRATA_ASSIGN_OR_RETURN(std::string member, SnapshotAddressFor(address));
    other_members.push_back(std::move(member));
  }
  snapshot_transport_ =
      std::make_unique<TcpSnapshotTransport>(std::move(other_members), TcpSnapshotOptions{});
  StateMachineOptions sm_options;
  sm_options.engine_options.engine = options_.engine;
  sm_options.db_dir = options_.data_dir + "/db";
  sm_options.transport = snapshot_transport_.get();
  sm_options.snapshot_source = snapshot_address;
  STRATA_RETURN_IF_ERROR(EngineStateMachine::Open(sm_options, &sm_));
  STRATA_RETURN_IF_ERROR(TcpSnapshotServer::Start(
      snapshot_address,
      [sm = sm_.get()](uint64_t min_index, uint64_t* applied, const snapshot::ByteSink& sink) {
        return sm->ServeStream(min_index, applied, sink);
      },
      TcpSnapshotOptions{}, &snapshot_server_));

  int rv = uv_loop_init(&loop_);
  if (rv != 0) return Status::IOError(fmt::format("uv_loop_init: {}", uv_strerror(rv)));
  rv = raft_uv_tcp_init(&transport_, &loop_);
  if (rv != 0) return RaftError("raft_uv_tcp_init", rv);
  if (options_.raft_log == "uv") {
    rv = raft_uv_init(&io_, &loop_, raft_dir.c_str(), &transport_);
    if (rv != 0) return RaftError("raft_uv_init " + raft_dir, rv);
    raft_io_ = &io_;
  } else {
    LogStoreHostOptions host_options;
    STRATA_RETURN_IF_ERROR(OpenLogStoreHost(host_options, log_dir, &log_host_));
    LogStoreIoOptions io_options;
    io_options.host = log_host_.get();
    io_options.group = 1;
    io_options.snapshot_dir = options_.data_dir + "/raftsnap";
    io_options.scratch_dir = raft_dir;
    STRATA_RETURN_IF_ERROR(LogStoreIo::Create(&loop_, &transport_, io_options, &log_io_));
    raft_io_ = log_io_->io();
  }
  rv = raft_init(&raft_, raft_io_, sm_->fsm(), options_.id, options_.listen.c_str());
  if (rv != 0) return Status::IOError(fmt::format("raft_init: {}", raft_errmsg(&raft_)));
  raft_inited_ = true;
  raft_.data = this;
  sm_->set_raft(&raft_);

  raft_configuration conf;
  raft_configuration_init(&conf);
  for (const auto& [id, address] : options_.peers) {
    rv = raft_configuration_add(&conf, id, address.c_str(), RAFT_VOTER);
    if (rv != 0) {
      raft_configuration_close(&conf);
      return RaftError("raft_configuration_add", rv);
    }
  }
  rv = raft_bootstrap(&raft_, &conf);
  raft_configuration_close(&conf);
  if (rv != 0 && rv != RAFT_CANTBOOTSTRAP) return RaftError("raft_bootstrap", rv);

  raft_set_election_timeout(&raft_, options_.election_timeout_ms);
  raft_set_heartbeat_timeout(&raft_, options_.heartbeat_timeout_ms);
  raft_set_snapshot_threshold(&raft_, options_.snapshot_threshold);
  raft_set_snapshot_trailing(&raft_, options_.snapshot_trailing);
  raft_set_pre_vote(&raft_, true);
  rv = raft_start(&raft_);
  if (rv != 0) {
    return Status::IOError(fmt::format("raft_start on {}: {} ({})", options_.listen,
                                       raft_strerror(rv), raft_errmsg(&raft_)));
  }

  // The client port.
  STRATA_ASSIGN_OR_RETURN(std::string client_address, ClientAddressFor(options_.listen));
  uv_tcp_init(&loop_, &server_);
  server_.data = this;
  sockaddr_in addr{};
  rv = uv_ip4_addr(host.c_str(), port + 1, &addr);
  if (rv == 0) rv = uv_tcp_bind(&server_, reinterpret_cast<const sockaddr*>(&addr), 0);
  if (rv == 0) {
    rv = uv_listen(reinterpret_cast<uv_stream_t*>(&server_), 64, [](uv_stream_t* s, int status) {
      if (status == 0) static_cast<Node*>(s->data)->OnConnection();
    });
  }
  if (rv != 0) {
    return Status::IOError(fmt::format("client port {}: {}", client_address, uv_strerror(rv)));
  }

  // raft_uv's transport never sets TCP_NODELAY on its sockets (and does not
  // expose them): a message sent behind an unacknowledged one then waits for
  // the peer's delayed ACK, up to 40 ms. Every few milliseconds, every TCP
  // handle of the loop gets it (a setsockopt per handle; new connections
  // are covered within one period).
  uv_timer_init(&loop_, &nodelay_timer_);
  if (options_.tcp_nodelay) {
    uv_timer_start(
        &nodelay_timer_,
        [](uv_timer_t* timer) {
          uv_walk(
              timer->loop,
              [](uv_handle_t* h, void*) {
                if (h->type == UV_TCP && uv_is_closing(h) == 0) {
                  uv_tcp_nodelay(reinterpret_cast<uv_tcp_t*>(h), 1);
                }
              },
              nullptr);
        },
        0, kNoDelayPeriodMs);
  }

  for (uv_signal_t* sig : {&sigterm_, &sigint_}) {
    uv_signal_init(&loop_, sig);
    sig->data = this;
  }
  auto on_signal = [](uv_signal_t* sig, int) { static_cast<Node*>(sig->data)->Stop(); };
  uv_signal_start(&sigterm_, on_signal, SIGTERM);
  uv_signal_start(&sigint_, on_signal, SIGINT);
  fmt::print(stderr, "raftkv node {}: raft {} client {} engine {} raft log {} applied index {}\n",
             options_.id, options_.listen, client_address, options_.engine, options_.raft_log,
             sm_->applied_index());
  return Status::Ok();
}

void Node::Stop() {
  if (stopping_) return;
  stopping_ = true;
  uv_close(reinterpret_cast<uv_handle_t*>(&nodelay_timer_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigterm_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&sigint_), nullptr);
  uv_close(reinterpret_cast<uv_handle_t*>(&server_), nullptr);
  for (Conn* conn : std::set<Conn*>(conns_)) CloseConn(conn);
  raft_close(&raft_, [](raft* r) {
    Node* node = static_cast<Node*>(r->data);
    if (node->log_io_) {
      node->log_io_.reset();  // its raft_io closed before raft called back
    } else {
      raft_uv_close(&node->io_);
    }
    raft_uv_tcp_close(&node->transport_);
  });
}

void Node::OnConnection() {
  Conn* conn = new Conn();
  conn->node = this;
  uv_tcp_init(&loop_, &conn->handle);
  conn->handle.data = conn;
  if (uv_accept(reinterpret_cast<uv_stream_t*>(&server_),
                reinterpret_cast<uv_stream_t*>(&conn->handle)) != 0) {
    conn->closing = true;
    uv_close(reinterpret_cast<uv_handle_t*>(&conn->handle),
             [](uv_handle_t* h) { delete static_cast<Conn*>(h->data); });
    return;
  }
  conns_.insert(conn);
  uv_tcp_nodelay(&conn->handle, 1);
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(&conn->handle),
      [](uv_handle_t*, size_t suggested, uv_buf_t* buf) {
        buf->base = new char[suggested];
        buf->len = suggested;
      },
      [](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
        Conn* conn = static_cast<Conn*>(s->data);
        conn->node->OnRead(conn, nread, buf);
        delete[] buf->base;
      });
}

void Node::OnRead(Conn* conn, ssize_t nread, const uv_buf_t* buf) {
  if (nread < 0) {
    CloseConn(conn);
    return;
  }
  conn->in.append(buf->base, static_cast<size_t>(nread));
  ProcessNext(conn);
}

void Node::ProcessNext(Conn* conn) {
  if (conn->busy || conn->closing || stopping_) return;
  if (conn->in.size() < 4) return;
  const uint32_t body_bytes = DecodeFixed32(conn->in.data());
  if (body_bytes > kMaxFrameBytes) {
    CloseConn(conn);  // not our protocol
    return;
  }
  if (conn->in.size() < 4 + size_t{body_bytes}) return;
  KvRequest request;
  Status s = DecodeRequest(std::string_view(conn->in).substr(4, body_bytes), &request);
  conn->in.erase(0, 4 + size_t{body_bytes});
  conn->busy = true;
  if (!s.ok()) {
    Reply(conn, KvCode::kError, s.ToString());
    return;
  }
  Handle(conn, std::move(request));
}

void Node::Reply(Conn* conn, KvCode code, std::string payload) {
  conn->busy = false;
  if (conn->closing) return;
  WriteReq* w = new WriteReq();
  w->data = EncodeResponse(KvResponse{code, std::move(payload)});
  uv_buf_t buf = uv_buf_init(w->data.data(), static_cast<unsigned>(w->data.size()));
  w->req.data = w;
  const int rv = uv_write(&w->req, reinterpret_cast<uv_stream_t*>(&conn->handle), &buf, 1,
                          [](uv_write_t* req, int) { delete static_cast<WriteReq*>(req->data); });
  if (rv != 0) {
    delete w;
    CloseConn(conn);
    return;
  }
  ProcessNext(conn);
}

void Node::RedirectOrRetry(Conn* conn) {
  raft_id leader_id = 0;
  const char* leader_address = nullptr;
  raft_leader(&raft_, &leader_id, &leader_address);
  if (leader_id == 0 || leader_id == options_.id || leader_address == nullptr) {
    Reply(conn, KvCode::kRetry, "no leader known");
    return;
  }
  Result<std::string> client = ClientAddressFor(leader_address);
  if (!client.ok()) {
    Reply(conn, KvCode::kRetry, client.status().ToString());
    return;
  }
  Reply(conn, KvCode::kRedirect, *client);
}

void Node::Handle(Conn* conn, KvRequest request) {
  switch (request.op) {
    case KvOp::kStatus:
      Reply(conn, KvCode::kOk, StatusText());
      return;
    case KvOp::kPut:
    case KvOp::kDelete:
      HandleWrite(conn, request);
      return;
    case KvOp::kGet:
    case KvOp::kScan: {
      if (request.op == KvOp::kGet && request.key.starts_with("\xff\xff")) {
        Reply(conn, KvCode::kError, "keys starting with 0xff 0xff are reserved");
        return;
      }
      if (request.op == KvOp::kScan && request.value.size() != 4) {
        Reply(conn, KvCode::kError, "scan: the value must be a fixed32 page limit");
        return;
      }
      if (!IsLeader()) {
        RedirectOrRetry(conn);
        return;
      }
      BarrierReq* b = new BarrierReq();
      b->conn = conn;
      b->request = std::move(request);
      b->req.data = b;
      const int rv = raft_barrier(&raft_, &b->req, &Node::BarrierCb);
      if (rv != 0) {
        delete b;
        Reply(conn, KvCode::kRetry, fmt::format("raft_barrier: {}", raft_strerror(rv)));
        return;
      }
      ++conn->refs;
      return;
    }
  }
}

void Node::HandleWrite(Conn* conn, const KvRequest& request) {
  if (request.client_id == 0 || request.request_id == 0) {
    Reply(conn, KvCode::kError, "writes need a client id and a request id (both >= 1)");
    return;
  }
  if (request.key.starts_with("\xff\xff")) {
    Reply(conn, KvCode::kError, "keys starting with 0xff 0xff are reserved");
    return;
  }
  WriteBatch batch;
  Status s =
      request.op == KvOp::kPut ? batch.Put(request.key, request.value) : batch.Delete(request.key);
  // Room for the state machine's own two keys in the same batch.
  if (s.ok() && batch.ApproximateSize() + 256 > kWriteBatchBytesMax) {
    s = Status::InvalidArgument("write too large");
  }
  if (!s.ok()) {
    Reply(conn, KvCode::kError, s.ToString());
    return;
  }
  if (!IsLeader()) {
    RedirectOrRetry(conn);
    return;
  }
  const std::string command = EncodeCommand(request.client_id, request.request_id, batch);
  raft_buffer buf;
  buf.len = command.size();
  buf.base = raft_malloc(buf.len);
  STRATA_ASSERT(buf.base != nullptr);
  std::memcpy(buf.base, command.data(), buf.len);
  ApplyReq* a = new ApplyReq();
  a->conn = conn;
  a->req.data = a;
  const int rv = raft_apply(&raft_, &a->req, &buf, 1, &Node::ApplyCb);
  if (rv != 0) {
    raft_free(buf.base);
    delete a;
    Reply(conn, KvCode::kRetry, fmt::format("raft_apply: {}", raft_strerror(rv)));
    return;
  }
  ++conn->refs;
}

void Node::ApplyCb(struct raft_apply* req, int status, void*) {
  ApplyReq* a = static_cast<ApplyReq*>(req->data);
  Conn* conn = a->conn;
  delete a;
  Node* node = conn->node;
  if (status == 0) {
    node->Reply(conn, KvCode::kOk, "");
  } else {
    // RAFT_LEADERSHIPLOST: the entry may still commit; the client retries
    // with the same request id and the state machine drops the duplicate.
    node->Reply(conn, KvCode::kRetry, fmt::format("raft apply: {}", raft_strerror(status)));
  }
  node->Unref(conn);
}

void Node::BarrierCb(struct raft_barrier* req, int status) {
  BarrierReq* b = static_cast<BarrierReq*>(req->data);
  Conn* conn = b->conn;
  Node* node = conn->node;
  if (status != 0) {
    node->Reply(conn, KvCode::kRetry, fmt::format("raft barrier: {}", raft_strerror(status)));
  } else {
    node->ServeRead(conn, b->request);
  }
  delete b;
  node->Unref(conn);
}

void Node::ServeRead(Conn* conn, const KvRequest& request) {
  Engine* engine = sm_->engine();
  if (request.op == KvOp::kGet) {
    std::string value;
    Status s = engine->Get(ReadOptions(), request.key, &value);
    if (s.IsNotFound()) {
      Reply(conn, KvCode::kNotFound, "");
    } else if (!s.ok()) {
      Reply(conn, KvCode::kError, s.ToString());
    } else {
      Reply(conn, KvCode::kOk, std::move(value));
    }
    return;
  }
  uint32_t limit = DecodeFixed32(request.value.data());
  if (limit == 0 || limit > kScanPageMax) limit = kScanPageMax;
  ReadOptions ro;
  ro.upper_bound = std::string("\xff\xff");
  std::unique_ptr<Iterator> it = engine->NewIterator(ro);
  std::vector<KvPair> pairs;
  size_t bytes = 0;
  bool more = false;
  for (it->Seek(request.key); it->Valid(); it->Next()) {
    if (pairs.size() >= limit || bytes > kMaxFrameBytes / 2) {
      more = true;
      break;
    }
    pairs.push_back(KvPair{std::string(it->key()), std::string(it->value())});
    bytes += pairs.back().key.size() + pairs.back().value.size() + 10;
  }
  if (!it->status().ok()) {
    Reply(conn, KvCode::kError, it->status().ToString());
    return;
  }
  Reply(conn, KvCode::kOk, EncodeScanPayload(pairs, more));
}

std::string Node::StatusText() {
  static const char* const kStates[] = {"unavailable", "follower", "candidate", "leader"};
  const int state = raft_state(&raft_);
  raft_id leader_id = 0;
  const char* leader_address = nullptr;
  raft_leader(&raft_, &leader_id, &leader_address);
  const StateMachineStats& st = sm_->stats();
  return fmt::format(
      "id={} state={} leader={} last_applied={} engine_applied={} applied={} skipped={} "
      "duplicates={} snapshots={} restores_installed={} restores_skipped={} restores_fetched={} "
      "streams_served={} raft_log={}",
      options_.id, state >= 0 && state <= 3 ? kStates[state] : "?", leader_id,
      raft_last_applied(&raft_), sm_->applied_index(), st.applied, st.skipped, st.duplicates,
      st.snapshots, st.restores_installed, st.restores_skipped, st.restores_fetched,
      snapshot_server_ ? snapshot_server_->streams_served() : 0, options_.raft_log);
}

void Node::CloseConn(Conn* conn) {
  if (conn->closing) return;
  conn->closing = true;
  conns_.erase(conn);
  uv_close(reinterpret_cast<uv_handle_t*>(&conn->handle), [](uv_handle_t* h) {
    Conn* c = static_cast<Conn*>(h->data);
    c->node->Unref(c);
  });
}

void Node::Unref(Conn* conn) {
  if (--conn->refs == 0) delete conn;
}

}  // namespace

Status RunKvNode(const KvNodeOptions& options) {
  // A peer or client that went away must not kill the node through a write
  // on its socket (libuv leaves SIGPIPE alone).
  ::signal(SIGPIPE, SIG_IGN);
  Node node(options);
  return node.Run();
}

}  // namespace strata::replica

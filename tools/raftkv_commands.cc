// `strata raftkv serve|put|get|delete|scan|status`: a replicated KV store on
// libraft (replica/kv_node.h, replica/kv_client.h); `strata raftkv
// snapshot-file FILE` dumps and verifies a raft snapshot file of the strata
// raft log (replica/FORMAT.md).
//
// Exit statuses: 0 ok, 1 not found, 2 usage (or a request the node refused),
// 3 no leader answered in time (or an I/O error).
#include <fmt/core.h>

#include <memory>
#include <string>
#include <vector>

#include "core/checksum.h"
#include "core/coding.h"
#include "replica/kv_client.h"
#include "replica/kv_node.h"
#include "replica/log_store_io.h"
#include "replica/state_machine.h"
#include "io/file_system.h"
#include "tools/commands.h"

namespace strata::tools {

namespace {

struct RaftkvArgs {
  // serve
  uint64_t id = 0;
  std::string listen;
  std::string peers;
  std::string data;
  std::string engine = "lsm";
  std::string raft_log = "strata";
  unsigned election_timeout_ms = 1000;
  unsigned heartbeat_timeout_ms = 100;
  unsigned snapshot_threshold = 1024;
  unsigned snapshot_trailing = 128;
  // clients
  std::string cluster;
  int timeout_ms = 10000;
  std::string key;
  std::string value;
  std::string start;
  bool hash = false;
  // snapshot-file
  std::string file;
};

// Prints a raft snapshot file: header, configuration, and what its data is
// (an out-of-band manifest or an inline stream). Corruption if it is damaged.
Status RunSnapshotFile(const std::string& path) {
  std::string bytes;
  STRATA_RETURN_IF_ERROR(io::ReadFileToString(io::DefaultFileSystem().get(), path, &bytes));
  replica::RaftSnapshotFile file;
  STRATA_RETURN_IF_ERROR(replica::DecodeRaftSnapshotFile(bytes, path, &file));
  fmt::print(
      "file {}\nbytes {}\nchecksum ok\ngroup {}\nindex {}\nterm {}\nconfiguration_index {}\n", path,
      bytes.size(), file.group, file.index, file.term, file.configuration_index);
  static const char* const kRoles[] = {"standby", "voter", "spare"};
  for (const auto& server : file.servers) {
    fmt::print("server {} {} {}\n", server.id, kRoles[server.role], server.address);
  }
  fmt::print("data_bytes {}\n", file.data.size());
  const std::string_view data = file.data;
  if (data.size() >= replica::kManifestHeaderBytes) {
    const uint32_t magic = DecodeFixed32(data.data());
    const uint64_t index = DecodeFixed64(data.data() + 8);
    if (magic == replica::kRemoteManifestMagic) {
      fmt::print("manifest out-of-band raft_index {} source {}\n", index,
                 data.substr(replica::kManifestHeaderBytes));
    } else if (magic == replica::kManifestMagic) {
      fmt::print("manifest inline raft_index {} stream_bytes {}\n", index,
                 data.size() - replica::kManifestHeaderBytes);
    }
  }
  return Status::Ok();
}

Result<replica::KvClientOptions> ClientOptions(const RaftkvArgs& args) {
  replica::KvClientOptions options;
  options.timeout_ms = args.timeout_ms;
  std::string_view rest = args.cluster;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string address(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    std::string host;
    uint16_t port = 0;
    STRATA_RETURN_IF_ERROR(replica::ParseAddress(address, &host, &port));
    options.cluster.push_back(std::move(address));
  }
  if (options.cluster.empty()) return Status::InvalidArgument("--cluster names no node");
  return options;
}

Status RunServe(const RaftkvArgs& args) {
  replica::KvNodeOptions options;
  options.id = args.id;
  options.listen = args.listen;
  STRATA_RETURN_IF_ERROR(replica::ParsePeers(args.peers, &options.peers));
  options.data_dir = args.data;
  options.engine = args.engine;
  options.raft_log = args.raft_log;
  options.election_timeout_ms = args.election_timeout_ms;
  options.heartbeat_timeout_ms = args.heartbeat_timeout_ms;
  options.snapshot_threshold = args.snapshot_threshold;
  options.snapshot_trailing = args.snapshot_trailing;
  return replica::RunKvNode(options);
}

Status RunClient(const RaftkvArgs& args, std::string_view op) {
  STRATA_ASSIGN_OR_RETURN(replica::KvClientOptions options, ClientOptions(args));
  replica::KvClient client(options);
  if (op == "put") return client.Put(args.key, args.value);
  if (op == "delete") return client.Delete(args.key);
  if (op == "get") {
    std::string value;
    STRATA_RETURN_IF_ERROR(client.Get(args.key, &value));
    fmt::print("{}\n", value);
    return Status::Ok();
  }
  if (op == "status") {
    for (const std::string& address : options.cluster) {
      std::string text;
      Status s = client.NodeStatus(address, &text);
      fmt::print("{} {}\n", address, s.ok() ? text : "unreachable: " + s.ToString());
    }
    return Status::Ok();
  }
  // scan
  uint64_t count = 0;
  Checksummer hash;
  STRATA_RETURN_IF_ERROR(client.Scan(args.start, [&](const replica::KvPair& p) {
    ++count;
    if (args.hash) {
      std::string framed;
      PutVarint32(&framed, static_cast<uint32_t>(p.key.size()));
      framed += p.key;
      PutVarint32(&framed, static_cast<uint32_t>(p.value.size()));
      framed += p.value;
      hash.Update(framed);
    } else {
      fmt::print("{}\t{}\n", p.key, p.value);
    }
  }));
  if (args.hash) fmt::print("{} {:016x}\n", count, hash.Digest());
  return Status::Ok();
}

}  // namespace

void RegisterRaftkvCommands(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<RaftkvArgs>();
  CLI::App* raftkv = app.add_subcommand(
      "raftkv", "A replicated KV store on raft (exit 0 ok, 1 not found, 2 usage, 3 no leader)");
  raftkv->require_subcommand(1);

  CLI::App* serve = raftkv->add_subcommand(
      "serve", "Run one node; clients connect to the raft port + 1; SIGTERM stops it");
  serve->add_option("--id", args->id, "This node's raft id (>= 1)")->required();
  serve->add_option("--listen", args->listen, "Raft address 127.0.0.1:PORT")->required();
  serve->add_option("--peers", args->peers, "Every member: ID=ADDR,ID=ADDR,...")->required();
  serve->add_option("--data", args->data, "Data directory (raft log and db/ inside)")->required();
  serve->add_option("--engine", args->engine, "Engine kind for a new db (lsm|btree)");
  serve->add_option("--raft-log", args->raft_log,
                    "Where raft keeps its log, term and vote: strata (a LogStore in raftlog/, "
                    "the default) or uv (stock raft_uv files in raft/)")
      ->check(CLI::IsMember({"strata", "uv"}));
  serve->add_option("--election-timeout-ms", args->election_timeout_ms);
  serve->add_option("--heartbeat-timeout-ms", args->heartbeat_timeout_ms);
  serve->add_option("--snapshot-threshold", args->snapshot_threshold,
                    "Applied entries between raft snapshots");
  serve->add_option("--snapshot-trailing", args->snapshot_trailing,
                    "Entries kept in the log behind a snapshot");
  serve->callback([=] { *exit_code = ExitFor(RunServe(*args)); });

  auto add_client = [&](const char* name, const char* help) {
    CLI::App* cmd = raftkv->add_subcommand(name, help);
    cmd->add_option("--cluster", args->cluster, "Client addresses ADDR,ADDR,...")->required();
    cmd->add_option("--timeout-ms", args->timeout_ms, "Give up after this long (exit 3)");
    return cmd;
  };
  CLI::App* put = add_client("put", "Store KEY VALUE through raft");
  put->add_option("KEY", args->key)->required();
  put->add_option("VALUE", args->value)->required();
  put->callback([=] { *exit_code = ExitFor(RunClient(*args, "put")); });
  CLI::App* get = add_client("get", "Print KEY's value, read linearizably (exit 1 if absent)");
  get->add_option("KEY", args->key)->required();
  get->callback([=] { *exit_code = ExitFor(RunClient(*args, "get")); });
  CLI::App* del = add_client("delete", "Delete KEY through raft");
  del->add_option("KEY", args->key)->required();
  del->callback([=] { *exit_code = ExitFor(RunClient(*args, "delete")); });
  CLI::App* scan = add_client("scan", "Print key<TAB>value lines from --start on");
  scan->add_option("--start", args->start, "First key (inclusive)");
  scan->add_flag("--hash", args->hash, "Print only the count and an XXH3 hash of the pairs");
  scan->callback([=] { *exit_code = ExitFor(RunClient(*args, "scan")); });
  CLI::App* status = add_client("status", "Print each node's raft status (not linearizable)");
  status->callback([=] { *exit_code = ExitFor(RunClient(*args, "status")); });

  CLI::App* snapshot_file = raftkv->add_subcommand(
      "snapshot-file", "Dump and verify a raft snapshot file (<data>/raftsnap/snapshot-*)");
  snapshot_file->add_option("FILE", args->file)->required();
  snapshot_file->callback([=] { *exit_code = ExitFor(RunSnapshotFile(args->file)); });
}

}  // namespace strata::tools

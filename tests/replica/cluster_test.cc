// Three `strata raftkv serve` processes on loopback, for every registered
// engine kind and both raft logs (strata's LogStore through LogStoreIo, and
// stock raft_uv files): 10,000 writes
// through the client, a follower SIGKILLed and restarted (catch-up from the
// log, then far enough behind to need a snapshot install), the leader
// SIGKILLed (a new leader takes over), and at the end every node's engine
// holds identical contents containing every acknowledged write. Waits poll
// with deadlines; nothing asserts on timing.
#include <fcntl.h>
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "core/coding.h"
#include "replica/kv_client.h"
#include "replica/log_store_io.h"
#include "replica/state_machine.h"
#include "tests/replica/replica_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::replica {
namespace {

using Clock = std::chrono::steady_clock;
constexpr auto kPollDeadline = std::chrono::seconds(60);

class NodeProcess {
 public:
  NodeProcess(std::vector<std::string> args, std::string log)
      : args_(std::move(args)), log_(std::move(log)) {}
  ~NodeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  void Start() {
    ASSERT_LT(pid_, 0);
    pid_ = ::fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      const int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, STDERR_FILENO);
        ::dup2(fd, STDOUT_FILENO);
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(STRATA_CLI));
      for (std::string& a : args_) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(STRATA_CLI, argv.data());
      ::_exit(127);
    }
  }
  // SIGKILL: a crash.
  void Kill() {
    ASSERT_GT(pid_, 0);
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  // SIGTERM and wait (bounded); returns the exit status, -1 if it did not exit.
  int Stop() {
    if (pid_ <= 0) return -1;
    ::kill(pid_, SIGTERM);
    const Clock::time_point deadline = Clock::now() + std::chrono::seconds(30);
    int status = 0;
    while (Clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }
  bool running() const { return pid_ > 0; }

 private:
  std::vector<std::string> args_;
  std::string log_;
  pid_t pid_ = -1;
};

uint64_t Field(const std::string& status, const std::string& name) {
  const std::string needle = " " + name + "=";
  const size_t at = (" " + status).find(needle);
  if (at == std::string::npos) return UINT64_MAX;
  return std::stoull(status.substr(at + needle.size() - 1));
}
std::string StateOf(const std::string& status) {
  const size_t at = status.find("state=");
  if (at == std::string::npos) return "";
  return status.substr(at + 6, status.find(' ', at) - at - 6);
}

// Runs the CLI; *out (if given) gets its stdout.
int RunCli(const std::string& args, std::string* out = nullptr) {
  if (out != nullptr) {
    const char* err = args.find("2>&1") == std::string::npos ? " 2>/dev/null" : "";
    FILE* p = ::popen(fmt::format("{} {}{}", STRATA_CLI, args, err).c_str(), "r");
    if (p == nullptr) return -1;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out->append(buf, n);
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  const std::string cmd = fmt::format("{} {} >/dev/null 2>&1", STRATA_CLI, args);
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// One cluster per registered engine kind and raft log
// (`raftkv serve --engine KIND --raft-log LOG`).
class ClusterTest : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {
 protected:
  static constexpr int kNodes = 3;

  void SetUp() override {
    // Ports from the pid, so concurrent test processes do not collide, and
    // below the kernel's ephemeral range (32768-60999 by default): a node
    // that keeps connecting to a peer which is down can be handed the peer's
    // own port as its local port (a TCP self-connect), and the peer then
    // cannot bind it when it restarts.
    // Each node: raft port, client port (+1), snapshot service (+2).
    const int base = 20000 + static_cast<int>(::getpid() % 1200) * 10;
    std::string peers;
    for (int i = 0; i < kNodes; ++i) {
      raft_[i] = fmt::format("127.0.0.1:{}", base + 3 * i);
      client_[i] = fmt::format("127.0.0.1:{}", base + 3 * i + 1);
      peers += fmt::format("{}{}={}", i == 0 ? "" : ",", i + 1, raft_[i]);
    }
    for (int i = 0; i < kNodes; ++i) {
      nodes_[i] = std::make_unique<NodeProcess>(
          std::vector<std::string>{"raftkv", "serve", "--id", std::to_string(i + 1), "--listen",
                                   raft_[i], "--peers", peers, "--data", DataDir(i),
                                   "--snapshot-threshold", "200", "--snapshot-trailing", "20",
                                   "--engine", EngineKind(), "--raft-log", RaftLog()},
          dir_.Join(fmt::format("node{}.log", i + 1)));
      nodes_[i]->Start();
    }
    KvClientOptions options;
    options.cluster.assign(client_.begin(), client_.end());
    options.timeout_ms = 30000;
    client_lib_ = std::make_unique<KvClient>(options);
  }

  static std::string EngineKind() { return std::get<0>(GetParam()); }
  static std::string RaftLog() { return std::get<1>(GetParam()); }
  std::string DataDir(int i) const { return dir_.Join(fmt::format("n{}", i + 1)); }
  std::string ClusterFlag() const {
    return fmt::format("{},{},{}", client_[0], client_[1], client_[2]);
  }

  std::optional<std::string> StatusText(int i) {
    KvClientOptions options;
    options.cluster = {client_[i]};
    options.timeout_ms = 500;
    KvClient c(options);
    std::string text;
    if (!c.NodeStatus(client_[i], &text).ok()) return std::nullopt;
    return text;
  }

  // Polls until one node says it is leader; returns its index.
  int WaitForLeader() {
    const Clock::time_point deadline = Clock::now() + kPollDeadline;
    while (Clock::now() < deadline) {
      for (int i = 0; i < kNodes; ++i) {
        if (!nodes_[i]->running()) continue;
        std::optional<std::string> s = StatusText(i);
        if (s && StateOf(*s) == "leader") return i;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
  }

  // Polls until node i's engine holds every entry the leader applied.
  bool WaitCaughtUp(int i) {
    const Clock::time_point deadline = Clock::now() + kPollDeadline;
    while (Clock::now() < deadline) {
      const int leader = WaitForLeader();
      if (leader < 0) return false;
      std::optional<std::string> ls = StatusText(leader);
      std::optional<std::string> s = StatusText(i);
      if (ls && s && Field(*s, "last_applied") >= Field(*ls, "last_applied")) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  void Write(int n) {
    for (int k = 0; k < n; ++k, ++seq_) {
      const std::string key = fmt::format("key{:05}", seq_ % 1500);
      if (seq_ % 37 == 36) {
        Status s = client_lib_->Delete(key);
        ASSERT_TRUE(s.ok()) << seq_ << ": " << s.ToString();
        expected_.erase(key);
      } else {
        const std::string value = fmt::format("v{}-{}", seq_, std::string(seq_ % 23, 'x'));
        Status s = client_lib_->Put(key, value);
        ASSERT_TRUE(s.ok()) << seq_ << ": " << s.ToString();
        expected_[key] = value;
      }
    }
  }

  int Follower() {
    const int leader = WaitForLeader();
    return leader < 0 ? -1 : (leader + 1) % kNodes;
  }

  strata::testing::ScratchDir dir_;
  std::array<std::string, kNodes> raft_;
  std::array<std::string, kNodes> client_;
  std::array<std::unique_ptr<NodeProcess>, kNodes> nodes_;
  std::unique_ptr<KvClient> client_lib_;
  std::map<std::string, std::string> expected_;
  uint64_t seq_ = 0;
};

// 10,000 client writes in all (Put, and every 37th a Delete).
TEST_P(ClusterTest, KillsRestartsAndIdenticalEngines) {
  const int first_leader = WaitForLeader();
  ASSERT_GE(first_leader, 0);
  std::optional<std::string> leader_status = StatusText(first_leader);
  ASSERT_TRUE(leader_status);
  EXPECT_NE(leader_status->find("raft_log=" + RaftLog()), std::string::npos) << *leader_status;
  Write(5000);

  // A follower crashes briefly: it catches up from the log.
  const int f1 = Follower();
  ASSERT_GE(f1, 0);
  nodes_[f1]->Kill();
  Write(30);
  nodes_[f1]->Start();
  ASSERT_TRUE(WaitCaughtUp(f1));
  std::optional<std::string> st = StatusText(f1);
  ASSERT_TRUE(st);
  EXPECT_GT(Field(*st, "skipped") + Field(*st, "restores_skipped"), 0u) << *st;

  // Again, far behind: the leader's log no longer has what it needs.
  nodes_[f1]->Kill();
  Write(2000);
  nodes_[f1]->Start();
  ASSERT_TRUE(WaitCaughtUp(f1));
  st = StatusText(f1);
  ASSERT_TRUE(st);
  EXPECT_GE(Field(*st, "restores_installed"), 1u) << *st;
  // Out of band: the manifest came through raft, the state over the
  // snapshot service of another member.
  EXPECT_GE(Field(*st, "restores_fetched"), 1u) << *st;

  // The leader crashes: a new one takes over and writes go on.
  const int old_leader = WaitForLeader();
  ASSERT_GE(old_leader, 0);
  nodes_[old_leader]->Kill();
  Write(2970);
  const int new_leader = WaitForLeader();
  ASSERT_GE(new_leader, 0);
  EXPECT_NE(new_leader, old_leader);
  nodes_[old_leader]->Start();
  for (int i = 0; i < kNodes; ++i) ASSERT_TRUE(WaitCaughtUp(i)) << i;

  // The CLI: linearizable get, exit statuses.
  const auto some = expected_.begin();
  EXPECT_EQ(RunCli(fmt::format("raftkv get --cluster {} {}", ClusterFlag(), some->first)), 0);
  EXPECT_EQ(RunCli(fmt::format("raftkv get --cluster {} no-such-key", ClusterFlag())), 1);
  EXPECT_EQ(RunCli(fmt::format("raftkv put --cluster {} cli-key cli-value", ClusterFlag())), 0);
  expected_["cli-key"] = "cli-value";
  EXPECT_EQ(RunCli("raftkv put --cluster 127.0.0.1:1 --timeout-ms 300 k v"), 3);
  EXPECT_EQ(RunCli(fmt::format("raftkv put --cluster {} onlykey", ClusterFlag())), 2);
  // A reserved key (0xff 0xff ...) is refused: a usage error.
  EXPECT_EQ(
      RunCli(fmt::format("raftkv put --cluster {} \"$(printf '\\377\\377x')\" v", ClusterFlag())),
      2);
  std::string value;
  EXPECT_EQ(RunCli(fmt::format("raftkv get --cluster {} cli-key", ClusterFlag()), &value), 0);
  EXPECT_EQ(value, "cli-value\n");
  std::string hash;
  EXPECT_EQ(RunCli(fmt::format("raftkv scan --hash --cluster {}", ClusterFlag()), &hash), 0);
  EXPECT_EQ(hash.substr(0, hash.find(' ')), std::to_string(expected_.size())) << hash;

  // Every acknowledged write (and no deleted key) through a linearizable scan.
  std::map<std::string, std::string> scanned;
  ASSERT_TRUE(client_lib_->Scan("", [&](const KvPair& p) { scanned[p.key] = p.value; }).ok());
  EXPECT_EQ(scanned, expected_);

  // Identical engines: wait until every node applied the same, stop, compare.
  for (int i = 0; i < kNodes; ++i) ASSERT_TRUE(WaitCaughtUp(i)) << i;
  for (int i = 0; i < kNodes; ++i) EXPECT_EQ(nodes_[i]->Stop(), 0) << i;
  std::vector<testing::Contents> contents;
  for (int i = 0; i < kNodes; ++i) {
    std::unique_ptr<Engine> engine;
    Options options = testing::TestEngineOptions();
    options.engine = "";  // the directory's kind
    options.create_if_missing = false;
    ASSERT_TRUE(strata::Open(options, DataDir(i) + "/db", &engine).ok());
    // Everything but the applied index (a snapshot stores its own raft index,
    // which counts barriers; nodes snapshot at different indexes).
    testing::Contents all = testing::ReadAll(engine.get());
    std::erase_if(all, [](const auto& e) { return std::get<0>(e) == AppliedIndexKey(); });
    contents.push_back(std::move(all));
    EXPECT_EQ(testing::UserContents(engine.get()).size(), expected_.size());
    EXPECT_EQ(engine->kind(), EngineKind());
    // The raft state lives where --raft-log said.
    EXPECT_EQ(std::filesystem::exists(DataDir(i) + "/raftlog"), RaftLog() == "strata");
    EXPECT_EQ(std::filesystem::exists(DataDir(i) + "/raft/metadata1") ||
                  std::filesystem::exists(DataDir(i) + "/raft/metadata2"),
              RaftLog() == "uv");
  }
  EXPECT_EQ(contents[1], contents[0]);
  EXPECT_EQ(contents[2], contents[0]);
  EXPECT_EQ(seq_, 10000u);
}

INSTANTIATE_TEST_SUITE_P(
    Kinds, ClusterTest,
    ::testing::Combine(::testing::ValuesIn(RegisteredEngineKinds()),
                       ::testing::Values(std::string("strata"), std::string("uv"))),
    [](const ::testing::TestParamInfo<std::tuple<std::string, std::string>>& info) {
      return std::get<0>(info.param) + "_" + std::get<1>(info.param);
    });

TEST(ClusterUsageTest, UnknownEngineKindIsAUsageError) {
  strata::testing::ScratchDir dir;
  std::string out;
  const int code =
      RunCli(fmt::format("raftkv serve --id 1 --listen 127.0.0.1:1 --peers 1=127.0.0.1:1 --data {} "
                         "--engine no-such-kind 2>&1",
                         dir.Join("n")),
             &out);
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("engine kind \"no-such-kind\" is not built into this strata"),
            std::string::npos)
      << out;
  EXPECT_EQ(RunCli("raftkv serve --id 1 --listen 127.0.0.1:1 --peers bogus --data x"), 2);
  EXPECT_EQ(RunCli("raftkv serve --id 1 --listen 127.0.0.1:1 --peers 1=127.0.0.1:1 --data x "
                   "--raft-log sqlite"),
            2);
}

// `strata raftkv snapshot-file` prints a raft snapshot file and refuses a
// damaged one.
TEST(ClusterUsageTest, SnapshotFileToolDumpsAndVerifies) {
  strata::testing::ScratchDir dir;
  RaftSnapshotFile file;
  file.group = 1;
  file.index = 77;
  file.term = 4;
  file.configuration_index = 3;
  file.servers = {{1, RAFT_VOTER, "127.0.0.1:7001"}, {2, RAFT_SPARE, "127.0.0.1:7004"}};
  PutFixed32(&file.data, kRemoteManifestMagic);
  PutFixed32(&file.data, 14);
  PutFixed64(&file.data, 77);
  file.data += "127.0.0.1:7003";
  const std::string path = dir.Join(RaftSnapshotFileName(77));
  std::string bytes = EncodeRaftSnapshotFile(file);
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  std::string out;
  EXPECT_EQ(RunCli(fmt::format("raftkv snapshot-file {}", path), &out), 0);
  for (const char* line : {"index 77\n", "term 4\n", "server 1 voter 127.0.0.1:7001\n",
                           "server 2 spare 127.0.0.1:7004\n",
                           "manifest out-of-band raft_index 77 source 127.0.0.1:7003\n"}) {
    EXPECT_NE(out.find(line), std::string::npos) << line << " in:\n" << out;
  }
  bytes[20] ^= 1;
  {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  out.clear();
  EXPECT_EQ(RunCli(fmt::format("raftkv snapshot-file {} 2>&1", path), &out), 3);
  EXPECT_NE(out.find("checksum mismatch"), std::string::npos) << out;
}

// A data directory keeps the raft log it was created with: serving it with
// the other kind would bootstrap an empty log beside the real one.
TEST(ClusterUsageTest, DataDirectoryOfTheOtherRaftLogIsRefused) {
  strata::testing::ScratchDir dir;
  const std::string uv_node = dir.Join("uv-node");
  std::filesystem::create_directories(uv_node + "/raft");
  { std::FILE* f = std::fopen((uv_node + "/raft/metadata1").c_str(), "w"); std::fclose(f); }
  std::string out;
  EXPECT_EQ(RunCli(fmt::format("raftkv serve --id 1 --listen 127.0.0.1:1 --peers 1=127.0.0.1:1 "
                               "--data {} --raft-log strata 2>&1",
                               uv_node),
                   &out),
            2);
  EXPECT_NE(out.find("serve it with --raft-log uv"), std::string::npos) << out;
  EXPECT_FALSE(std::filesystem::exists(uv_node + "/raftlog"));

  const std::string strata_node = dir.Join("strata-node");
  std::filesystem::create_directories(strata_node + "/raftlog");
  out.clear();
  EXPECT_EQ(RunCli(fmt::format("raftkv serve --id 1 --listen 127.0.0.1:1 --peers 1=127.0.0.1:1 "
                               "--data {} --raft-log uv 2>&1",
                               strata_node),
                   &out),
            2);
  EXPECT_NE(out.find("serve it with --raft-log strata"), std::string::npos) << out;
}

}  // namespace
}  // namespace strata::replica

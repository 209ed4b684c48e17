// EngineStateMachine driven directly (no raft core): the applied index is
// stored with each batch and survives reopening, entries the engine holds are
// skipped, duplicates are dropped, and snapshots restore (or skip) correctly.
// raft_last_applied(r) reads r->last_applied, so a zeroed struct raft with
// that field set stands in for the raft core.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <map>
#include <string>

#include "core/coding.h"
#include "replica/command.h"
#include "replica/snapshot_transport.h"
#include "snapshot/stream_reader.h"
#include "tests/replica/replica_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::replica {
namespace {

using testing::MapTransport;
using testing::OpenStateMachine;
using testing::ReadAll;
using testing::UserContents;

class DirectRaft {
 public:
  explicit DirectRaft(EngineStateMachine* sm) : sm_(sm) { Attach(sm); }
  void Attach(EngineStateMachine* sm) {
    sm_ = sm;
    sm_->set_raft(&r_);
  }
  // Applies `entry` as raft index last_applied + 1 and advances.
  ApplyOutcome Apply(const std::string& entry) {
    raft_buffer buf;
    buf.base = const_cast<char*>(entry.data());
    buf.len = entry.size();
    void* result = nullptr;
    EXPECT_EQ(sm_->fsm()->apply(sm_->fsm(), &buf, &result), 0);
    ++r_.last_applied;
    return static_cast<ApplyOutcome>(reinterpret_cast<uintptr_t>(result));
  }
  void set_last_applied(raft_index i) { r_.last_applied = i; }
  raft_index last_applied() const { return r_.last_applied; }
  // The snapshot buffer, copied out and freed as raft would.
  std::string Snapshot() {
    raft_buffer* bufs = nullptr;
    unsigned n = 0;
    EXPECT_EQ(sm_->fsm()->snapshot(sm_->fsm(), &bufs, &n), 0);
    EXPECT_EQ(n, 1u);
    std::string out(static_cast<char*>(bufs[0].base), bufs[0].len);
    raft_free(bufs[0].base);
    raft_free(bufs);
    return out;
  }
  void Restore(const std::string& snapshot) {
    raft_buffer buf;
    buf.len = snapshot.size();
    buf.base = raft_malloc(buf.len);
    std::memcpy(buf.base, snapshot.data(), buf.len);
    EXPECT_EQ(sm_->fsm()->restore(sm_->fsm(), &buf), 0);  // takes ownership
  }

 private:
  EngineStateMachine* sm_;
  struct raft r_ {};
};

std::string PutCommand(uint64_t client, uint64_t request, const std::string& key,
                       const std::string& value) {
  WriteBatch batch;
  EXPECT_TRUE(batch.Put(key, value).ok());
  return EncodeCommand(client, request, batch);
}

std::string GetValue(Engine* engine, const std::string& key) {
  std::string value;
  Status s = engine->Get(ReadOptions(), key, &value);
  return s.ok() ? value : "<" + s.ToString() + ">";
}

TEST(StateMachineTest, AppliedIndexIsStoredWithEachBatchAndRestartSkips) {
  strata::testing::ScratchDir dir;
  {
    auto sm = OpenStateMachine(dir.Join("db"));
    ASSERT_NE(sm, nullptr);
    EXPECT_EQ(sm->applied_index(), 0u);
    DirectRaft raft(sm.get());
    raft.set_last_applied(1);  // entry 1 is the bootstrap configuration
    for (int i = 0; i < 10; ++i) {
      EXPECT_EQ(raft.Apply(PutCommand(0, 0, "k" + std::to_string(i), "v1")),
                ApplyOutcome::kApplied);
    }
    EXPECT_EQ(sm->applied_index(), 11u);
    uint64_t stored = 0;
    ASSERT_TRUE(EngineStateMachine::ReadAppliedIndex(sm->engine(), &stored).ok());
    EXPECT_EQ(stored, 11u);
  }
  // Restart: libraft re-applies from its last snapshot (none: index 2 on).
  auto sm = OpenStateMachine(dir.Join("db"));
  ASSERT_NE(sm, nullptr);
  EXPECT_EQ(sm->applied_index(), 11u);
  DirectRaft raft(sm.get());
  raft.set_last_applied(1);
  for (int i = 0; i < 10; ++i) {
    // Different values: a re-applied entry must not be written again.
    EXPECT_EQ(raft.Apply(PutCommand(0, 0, "k" + std::to_string(i), "v2")), ApplyOutcome::kSkipped);
  }
  EXPECT_EQ(GetValue(sm->engine(), "k3"), "v1");
  EXPECT_EQ(sm->stats().skipped, 10u);
  EXPECT_EQ(raft.Apply(PutCommand(0, 0, "k3", "v3")), ApplyOutcome::kApplied);
  EXPECT_EQ(GetValue(sm->engine(), "k3"), "v3");
  EXPECT_EQ(sm->applied_index(), 12u);
}

TEST(StateMachineTest, DuplicateRequestsAreDroppedButAdvanceTheIndex) {
  strata::testing::ScratchDir dir;
  auto sm = OpenStateMachine(dir.Join("db"));
  ASSERT_NE(sm, nullptr);
  DirectRaft raft(sm.get());
  EXPECT_EQ(raft.Apply(PutCommand(42, 1, "a", "first")), ApplyOutcome::kApplied);
  EXPECT_EQ(raft.Apply(PutCommand(42, 1, "a", "retry")), ApplyOutcome::kDuplicate);
  EXPECT_EQ(raft.Apply(PutCommand(42, 2, "b", "x")), ApplyOutcome::kApplied);
  EXPECT_EQ(raft.Apply(PutCommand(42, 1, "a", "late retry")), ApplyOutcome::kDuplicate);
  EXPECT_EQ(raft.Apply(PutCommand(43, 1, "a", "other client")), ApplyOutcome::kApplied);
  EXPECT_EQ(GetValue(sm->engine(), "a"), "other client");
  EXPECT_EQ(sm->applied_index(), 5u);
  EXPECT_EQ(sm->stats().duplicates, 2u);
}

TEST(StateMachineTest, SnapshotRestoresIntoAFreshNodeAndStaleSnapshotsAreSkipped) {
  strata::testing::ScratchDir dir;
  auto leader = OpenStateMachine(dir.Join("a"));
  ASSERT_NE(leader, nullptr);
  DirectRaft raft(leader.get());
  for (int i = 0; i < 300; ++i) {
    raft.Apply(PutCommand(9, i + 1, "key" + std::to_string(i), std::string(i % 50, 'x')));
  }
  raft.set_last_applied(raft.last_applied() + 2);  // e.g. two barriers: no FSM call
  const std::string snap = raft.Snapshot();
  EXPECT_EQ(leader->applied_index(), 302u);

  // A fresh follower installs it (atomically, through snapshot/install.h).
  auto follower = OpenStateMachine(dir.Join("b"));
  ASSERT_NE(follower, nullptr);
  ASSERT_TRUE(follower->engine()->Put(WriteOptions(), "junk", "gone after install").ok());
  DirectRaft fraft(follower.get());
  fraft.Restore(snap);
  EXPECT_EQ(follower->stats().restores_installed, 1u);
  EXPECT_EQ(follower->applied_index(), 302u);
  EXPECT_EQ(ReadAll(follower->engine()), ReadAll(leader->engine()));

  // More entries, then the old snapshot arrives late: skipped.
  fraft.set_last_applied(302);
  EXPECT_EQ(fraft.Apply(PutCommand(9, 1000, "newer", "y")), ApplyOutcome::kApplied);
  fraft.Restore(snap);
  EXPECT_EQ(follower->stats().restores_skipped, 1u);
  EXPECT_EQ(GetValue(follower->engine(), "newer"), "y");

  // The installed state survives reopening with its applied index.
  follower.reset();
  auto reopened = OpenStateMachine(dir.Join("b"));
  ASSERT_NE(reopened, nullptr);
  EXPECT_EQ(reopened->applied_index(), 303u);
  EXPECT_EQ(UserContents(reopened->engine()).size(), 301u);
}

TEST(StateMachineDeathTest, CorruptEntryStopsTheNodeLoudly) {
  strata::testing::ScratchDir dir;
  EXPECT_DEATH(
      {
        auto sm = OpenStateMachine(dir.Join("db"));
        DirectRaft raft(sm.get());
        std::string entry = PutCommand(0, 0, "k", "v");
        entry[0] ^= 1;
        raft.Apply(entry);
      },
      "FATAL: raft entry 1: .*bad magic");
}

std::unique_ptr<EngineStateMachine> OpenWithTransport(const std::string& dir,
                                                      SnapshotTransport* transport,
                                                      const std::string& source,
                                                      int deadline_ms = 120000) {
  StateMachineOptions options;
  options.engine_options = testing::TestEngineOptions();
  options.db_dir = dir;
  options.transport = transport;
  options.snapshot_source = source;
  options.fetch_deadline_ms = deadline_ms;
  std::unique_ptr<EngineStateMachine> sm;
  EXPECT_TRUE(EngineStateMachine::Open(options, &sm).ok());
  return sm;
}

// With a transport, a raft snapshot is a manifest of a few bytes naming its
// taker; the follower fetches a state at or past its index from a member
// (past: the leader applied more meanwhile) and skips what that state holds.
TEST(StateMachineTest, OutOfBandSnapshotIsAManifestAndTheStateIsFetched) {
  strata::testing::ScratchDir dir;
  MapTransport transport;
  auto leader = OpenWithTransport(dir.Join("a"), &transport, "A");
  ASSERT_NE(leader, nullptr);
  transport.members["A"] = leader.get();
  DirectRaft raft(leader.get());
  for (int i = 0; i < 300; ++i) {
    raft.Apply(PutCommand(9, i + 1, "key" + std::to_string(i), std::string(i % 50, 'x')));
  }
  const std::string manifest = raft.Snapshot();
  EXPECT_EQ(manifest.size(), kManifestHeaderBytes + 1);
  EXPECT_EQ(manifest.substr(kManifestHeaderBytes), "A");
  for (int i = 300; i < 310; ++i) raft.Apply(PutCommand(9, i + 1, "late" + std::to_string(i), "v"));

  auto follower = OpenWithTransport(dir.Join("b"), &transport, "B");
  ASSERT_NE(follower, nullptr);
  DirectRaft fraft(follower.get());
  fraft.Restore(manifest);
  EXPECT_EQ(follower->stats().restores_fetched, 1u);
  EXPECT_EQ(follower->applied_index(), 310u);  // past the manifest's 300
  EXPECT_EQ(ReadAll(follower->engine()), ReadAll(leader->engine()));
  // raft then re-applies 301..310 from its log: all skipped.
  fraft.set_last_applied(300);
  for (int i = 300; i < 310; ++i) {
    EXPECT_EQ(fraft.Apply(PutCommand(9, i + 1, "late" + std::to_string(i), "v")),
              ApplyOutcome::kSkipped);
  }
  EXPECT_EQ(fraft.Apply(PutCommand(9, 311, "next", "v")), ApplyOutcome::kApplied);
}

// A member that is behind the manifest answers Busy, a stream cut short fails
// the install (the follower's database is untouched), and the next member's
// complete stream installs.
TEST(StateMachineTest, FetchSkipsMembersBehindAndStreamsCutShort) {
  strata::testing::ScratchDir dir;
  MapTransport transport;
  auto full = OpenWithTransport(dir.Join("full"), &transport, "C");
  auto behind = OpenWithTransport(dir.Join("behind"), &transport, "A");
  auto cut = OpenWithTransport(dir.Join("cut"), &transport, "B");
  for (EngineStateMachine* sm : {full.get(), cut.get()}) {
    DirectRaft raft(sm);
    for (int i = 0; i < 200; ++i) raft.Apply(PutCommand(1, i + 1, "k" + std::to_string(i), "v"));
  }
  DirectRaft(behind.get()).Apply(PutCommand(1, 1, "k0", "v"));
  transport.members = {{"A", behind.get()}, {"B", cut.get()}, {"C", full.get()}};
  transport.cut["B"] = 1000;
  DirectRaft taker(full.get());
  taker.set_last_applied(200);
  // The manifest as if "A" (behind) had taken it.
  std::string named = taker.Snapshot().substr(0, kManifestHeaderBytes);
  EncodeFixed32(named.data() + 4, 1);
  named += "A";

  auto follower = OpenWithTransport(dir.Join("f"), &transport, "F");
  ASSERT_TRUE(follower->engine()->Put(WriteOptions(), "junk", "gone after install").ok());
  DirectRaft fraft(follower.get());
  fraft.Restore(named);
  EXPECT_EQ(transport.asked, (std::vector<std::string>{"A", "B", "C"}));
  EXPECT_EQ(follower->applied_index(), 200u);
  EXPECT_EQ(ReadAll(follower->engine()), ReadAll(full->engine()));
  EXPECT_EQ(GetValue(follower->engine(), "junk").substr(0, 10), "<NotFound:");
}

// The TCP service: a stream from another member's server; members that are
// behind, cut off or not listening are reported and skipped.
TEST(StateMachineTest, TcpSnapshotServiceStreamsBetweenMembers) {
  strata::testing::ScratchDir dir;
  MapTransport unused;
  auto leader = OpenWithTransport(dir.Join("a"), &unused, "x");
  DirectRaft raft(leader.get());
  for (int i = 0; i < 500; ++i) {
    raft.Apply(PutCommand(2, i + 1, "k" + std::to_string(i), std::string(100, 'v')));
  }
  const int base = 31000 + static_cast<int>(::getpid() % 700) * 4;
  auto addr = [base](int k) { return fmt::format("127.0.0.1:{}", base + k); };
  std::unique_ptr<TcpSnapshotServer> good, behind, broken;
  ASSERT_TRUE(TcpSnapshotServer::Start(
                  addr(0),
                  [&](uint64_t min, uint64_t* applied, const snapshot::ByteSink& sink) {
                    return leader->ServeStream(min, applied, sink);
                  },
                  {}, &good)
                  .ok());
  ASSERT_TRUE(TcpSnapshotServer::Start(
                  addr(1),
                  [](uint64_t min, uint64_t* applied, const snapshot::ByteSink&) {
                    *applied = 7;
                    return Status::Busy(fmt::format("behind {}", min));
                  },
                  {}, &behind)
                  .ok());
  ASSERT_TRUE(TcpSnapshotServer::Start(
                  addr(2),
                  [&](uint64_t min, uint64_t* applied, const snapshot::ByteSink& sink) {
                    size_t sent = 0;
                    Status s = leader->ServeStream(min, applied, [&](std::string_view b) {
                      if (sent > 4000) return Status::IOError("disk died mid-stream");
                      sent += b.size();
                      return sink(b);
                    });
                    return s;
                  },
                  {}, &broken)
                  .ok());

  TcpSnapshotOptions options;
  options.io_timeout_ms = 2000;
  TcpSnapshotTransport failing({addr(1), addr(2), addr(3)}, options);
  size_t consumed = 0;
  Status s = failing.Fetch(addr(1), 500, [&](const snapshot::ByteSource& source) {
    ++consumed;
    snapshot::StreamInfo info;
    return snapshot::VerifySnapshotStream(source, &info);
  });
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(consumed, 1u);  // only the broken member started a stream
  EXPECT_NE(s.ToString().find("has applied raft index 7 only, 500 wanted"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.ToString().find(addr(3)), std::string::npos) << s.ToString();

  // Clients that send a foreign request, or half of one, are hung up on
  // without a byte and the server goes on serving.
  for (const std::string& request :
       {std::string("GET / HTTP/1.0\r\n\r\n"), std::string("SSR1\x01\x02", 6)}) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(base));
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
    ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
    ::shutdown(fd, SHUT_WR);
    char reply[64];
    // End of stream, or a reset when the server closed with bytes unread.
    EXPECT_LE(::recv(fd, reply, sizeof(reply), 0), 0) << "the server answered a foreign request";
    ::close(fd);
  }

  TcpSnapshotTransport working({addr(1), addr(0)}, options);
  auto installed = OpenWithTransport(dir.Join("c"), &working, "G");
  DirectRaft taker(leader.get());
  taker.set_last_applied(500);
  const std::string manifest = taker.Snapshot();
  std::string named = manifest.substr(0, kManifestHeaderBytes);
  const std::string source = addr(1);  // behind: the transport moves on
  EncodeFixed32(named.data() + 4, static_cast<uint32_t>(source.size()));
  named += source;
  DirectRaft(installed.get()).Restore(named);
  EXPECT_EQ(installed->stats().restores_fetched, 1u);
  EXPECT_EQ(ReadAll(installed->engine()), ReadAll(leader->engine()));
  EXPECT_EQ(good->streams_served(), 1u);
}

TEST(StateMachineDeathTest, AFetchThatNeverSucceedsStopsTheNode) {
  strata::testing::ScratchDir dir;
  std::string manifest;
  PutFixed32(&manifest, kRemoteManifestMagic);
  PutFixed32(&manifest, 1);
  PutFixed64(&manifest, 50);
  manifest += "Z";
  EXPECT_DEATH(
      {
        MapTransport nobody;
        auto sm = OpenWithTransport(dir.Join("db"), &nobody, "F", /*deadline_ms=*/300);
        DirectRaft(sm.get()).Restore(manifest);
      },
      "FATAL: restore of raft index 50: no member served it within 300 ms");
  EXPECT_DEATH(
      {
        auto sm = OpenStateMachine(dir.Join("db2"));
        DirectRaft(sm.get()).Restore(manifest);
      },
      "FATAL: restore of raft index 50: the manifest names out-of-band data at \"Z\"");
}

}  // namespace
}  // namespace strata::replica

// EngineStateMachine driven directly (no raft core): the applied index is
// stored with each batch and survives reopening, entries the engine holds are
// skipped, duplicates are dropped, and snapshots restore (or skip) correctly.
// raft_last_applied(r) reads r->last_applied, so a zeroed struct raft with
// that field set stands in for the raft core.
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "replica/command.h"
#include "tests/replica/replica_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::replica {
namespace {

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

}  // namespace
}  // namespace strata::replica

// The state-machine adapter under libraft's own deterministic fixture
// (raft/fixture.h: in-process servers on simulated time): multi-entry
// applies, a paused follower that needs a snapshot install, a partitioned
// leader. Each server has its own real LSM engine.
#include <fmt/core.h>
#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include <raft/fixture.h>
}

#include "replica/command.h"
#include "tests/replica/replica_test_util.h"
#include "tests/testing/test_util.h"

namespace strata::replica {
namespace {

using testing::MapTransport;
using testing::OpenStateMachine;
using testing::ReadAll;
using testing::UserContents;

constexpr unsigned kMaxMsecs = 60000;  // simulated time

class FixtureCluster {
 public:
  // out_of_band: snapshots are manifests and followers fetch the state from
  // another server's state machine (an in-process SnapshotTransport).
  explicit FixtureCluster(unsigned n, bool out_of_band = false) : f_(new raft_fixture()) {
    EXPECT_EQ(raft_fixture_initialize(f_.get()), 0);
    for (unsigned i = 0; i < n; ++i) {
      const std::string name = "server" + std::to_string(i);
      sms_.push_back(OpenStateMachine(dir_.Join("db" + std::to_string(i)),
                                      out_of_band ? &transport_ : nullptr, name));
      EXPECT_NE(sms_.back(), nullptr);
      transport_.members[name] = sms_.back().get();
      EXPECT_EQ(raft_fixture_grow(f_.get(), sms_.back()->fsm()), 0);
      sms_.back()->set_raft(raft_fixture_get(f_.get(), i));
    }
    raft_configuration conf;
    EXPECT_EQ(raft_fixture_configuration(f_.get(), n, &conf), 0);
    EXPECT_EQ(raft_fixture_bootstrap(f_.get(), &conf), 0);
    raft_configuration_close(&conf);
  }
  ~FixtureCluster() { raft_fixture_close(f_.get()); }

  void Start() { EXPECT_EQ(raft_fixture_start(f_.get()), 0); }
  raft_fixture* f() { return f_.get(); }
  raft* server(unsigned i) { return raft_fixture_get(f_.get(), i); }
  EngineStateMachine* sm(unsigned i) { return sms_[i].get(); }

  // Proposes one raft_apply with one entry per value (keys "k<seq>").
  void Propose(unsigned leader, std::vector<std::string> values) {
    std::vector<raft_buffer> bufs;
    for (const std::string& value : values) {
      WriteBatch batch;
      EXPECT_TRUE(batch.Put(fmt::format("k{:06}", next_key_++), value).ok());
      const std::string entry = EncodeCommand(1, next_request_++, batch);
      raft_buffer buf;
      buf.len = entry.size();
      buf.base = raft_malloc(buf.len);
      std::memcpy(buf.base, entry.data(), buf.len);
      bufs.push_back(buf);
    }
    auto req = std::make_unique<struct raft_apply>();
    req->data = this;
    const int rv = raft_apply(
        server(leader), req.get(), bufs.data(), static_cast<unsigned>(bufs.size()),
        [](struct raft_apply* r, int status, void* result) {
          auto* self = static_cast<FixtureCluster*>(r->data);
          if (status == 0 &&
              result == reinterpret_cast<void*>(static_cast<uintptr_t>(ApplyOutcome::kApplied))) {
            ++self->callbacks_ok_;
          }
          ++self->callbacks_;
        });
    EXPECT_EQ(rv, 0) << raft_strerror(rv);
    expected_entries_ += values.size();
    requests_.push_back(std::move(req));
  }

  // Steps until server i (n: every server) has every proposed entry.
  bool StepUntilAllApplied(std::vector<unsigned> servers) {
    struct Arg {
      FixtureCluster* self;
      std::vector<unsigned> servers;
    } arg{this, std::move(servers)};
    return raft_fixture_step_until(
        f_.get(),
        [](raft_fixture*, void* p) {
          auto* a = static_cast<Arg*>(p);
          for (unsigned i : a->servers) {
            if (UserContents(a->self->sm(i)->engine()).size() != a->self->expected_entries_) {
              return false;
            }
          }
          return true;
        },
        &arg, kMaxMsecs);
  }

  size_t callbacks() const { return callbacks_; }
  size_t callbacks_ok() const { return callbacks_ok_; }
  size_t expected_entries() const { return expected_entries_; }

 private:
  strata::testing::ScratchDir dir_;
  MapTransport transport_;  // before the state machines that use it
  std::unique_ptr<raft_fixture> f_;
  std::vector<std::unique_ptr<EngineStateMachine>> sms_;
  std::vector<std::unique_ptr<struct raft_apply>> requests_;
  uint64_t next_key_ = 0;
  uint64_t next_request_ = 1;
  size_t expected_entries_ = 0;
  size_t callbacks_ = 0;
  size_t callbacks_ok_ = 0;
};

// Values of lengths that make most entries not a multiple of 8 unpadded.
std::vector<std::string> Values(size_t n, size_t seed) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::string((seed * 7 + i * 3) % 29, 'a' + i % 26));
  return out;
}

TEST(FixtureTest, SingleAndMultiEntryAppliesGiveIdenticalEngines) {
  FixtureCluster c(3);
  c.Start();
  raft_fixture_elect(c.f(), 0);
  for (size_t i = 0; i < 20; ++i) c.Propose(0, Values(1, i));
  for (size_t i = 0; i < 5; ++i) c.Propose(0, Values(4 + i, i));  // multi-entry batches
  ASSERT_TRUE(c.StepUntilAllApplied({0, 1, 2}));
  EXPECT_EQ(c.expected_entries(), 20u + 4 + 5 + 6 + 7 + 8);
  EXPECT_EQ(c.callbacks(), 25u);  // one callback per raft_apply call
  EXPECT_EQ(c.callbacks_ok(), 25u);
  const auto leader = ReadAll(c.sm(0)->engine());
  EXPECT_EQ(ReadAll(c.sm(1)->engine()), leader);
  EXPECT_EQ(ReadAll(c.sm(2)->engine()), leader);
  EXPECT_EQ(c.sm(1)->applied_index(), c.sm(0)->applied_index());
}

class FixtureSnapshotTest : public ::testing::TestWithParam<bool> {};

// A paused follower falls behind the leader's compacted log and catches up
// by InstallSnapshot: the stream inline in the raft snapshot, or out of band
// (a manifest through raft, the state fetched from a server).
TEST_P(FixtureSnapshotTest, PausedFollowerCatchesUpBySnapshotInstall) {
  const bool out_of_band = GetParam();
  FixtureCluster c(3, out_of_band);
  for (unsigned i = 0; i < 3; ++i) {
    raft_set_snapshot_threshold(c.server(i), 16);
    raft_set_snapshot_trailing(c.server(i), 4);
  }
  c.Start();
  raft_fixture_elect(c.f(), 0);
  c.Propose(0, Values(3, 1));
  ASSERT_TRUE(c.StepUntilAllApplied({0, 1, 2}));

  raft_fixture_kill(c.f(), 2);
  for (size_t i = 0; i < 40; ++i) c.Propose(0, Values(1 + i % 3, i));
  ASSERT_TRUE(c.StepUntilAllApplied({0, 1}));
  EXPECT_GE(c.sm(0)->stats().snapshots, 1u);
  EXPECT_EQ(c.sm(2)->stats().restores_installed, 0u);

  raft_fixture_revive(c.f(), 2);
  ASSERT_TRUE(c.StepUntilAllApplied({0, 1, 2}));
  EXPECT_GE(c.sm(2)->stats().restores_installed, 1u);
  EXPECT_EQ(c.sm(2)->stats().restores_fetched,
            out_of_band ? c.sm(2)->stats().restores_installed : 0);
  // Entries after the snapshot arrive by log and apply on top.
  c.Propose(0, Values(5, 99));
  ASSERT_TRUE(c.StepUntilAllApplied({0, 1, 2}));
  EXPECT_EQ(UserContents(c.sm(2)->engine()), UserContents(c.sm(0)->engine()));
}

INSTANTIATE_TEST_SUITE_P(Transfer, FixtureSnapshotTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("OutOfBand") : std::string("Inline");
                         });

TEST(FixtureTest, PartitionedLeaderIsReplacedAndRejoins) {
  FixtureCluster c(3);
  c.Start();
  raft_fixture_elect(c.f(), 0);
  c.Propose(0, Values(6, 2));
  ASSERT_TRUE(c.StepUntilAllApplied({0, 1, 2}));

  raft_fixture_disconnect(c.f(), 0, 1);
  raft_fixture_disconnect(c.f(), 0, 2);
  raft_fixture_disconnect(c.f(), 1, 0);
  raft_fixture_disconnect(c.f(), 2, 0);
  ASSERT_TRUE(raft_fixture_step_until_state_is(c.f(), 0, RAFT_FOLLOWER, kMaxMsecs));
  // Server 1 or 2 becomes leader (the fixture's has_leader wants every
  // server to agree, which the partitioned one cannot).
  ASSERT_TRUE(raft_fixture_step_until(
      c.f(),
      [](raft_fixture* f, void*) {
        return raft_state(raft_fixture_get(f, 1)) == RAFT_LEADER ||
               raft_state(raft_fixture_get(f, 2)) == RAFT_LEADER;
      },
      nullptr, kMaxMsecs));
  const unsigned leader = raft_state(c.server(1)) == RAFT_LEADER ? 1 : 2;
  for (size_t i = 0; i < 10; ++i) c.Propose(leader, Values(3, i));
  ASSERT_TRUE(c.StepUntilAllApplied({1, 2}));

  raft_fixture_reconnect(c.f(), 0, 1);
  raft_fixture_reconnect(c.f(), 0, 2);
  raft_fixture_reconnect(c.f(), 1, 0);
  raft_fixture_reconnect(c.f(), 2, 0);
  ASSERT_TRUE(c.StepUntilAllApplied({0, 1, 2}));
  EXPECT_EQ(UserContents(c.sm(0)->engine()), UserContents(c.sm(leader)->engine()));
}

}  // namespace
}  // namespace strata::replica

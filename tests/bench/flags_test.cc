#include "bench/driver/flags.h"

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "bench/driver/runner.h"

namespace strata::bench {
namespace {

const std::vector<std::string> kEngines = {"lsm", "rocksdb", "lmdb"};

Result<BenchConfig> Parse(std::vector<std::string> args) {
  return ParseBenchFlags(args, kEngines);
}

TEST(BenchFlagsTest, DefaultsAreDbBenchLike) {
  Result<BenchConfig> c = Parse({});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->num, 1000000u);
  EXPECT_EQ(c->key_size, 16u);
  EXPECT_EQ(c->value_size, 100u);
  EXPECT_EQ(c->read_ops(), c->num);
  EXPECT_EQ(c->engines, kEngines);
  EXPECT_EQ(c->benchmarks.front(), "fillseq");
  EXPECT_DOUBLE_EQ(c->compressibility, 0.5);
}

TEST(BenchFlagsTest, ParsesBothValueForms) {
  Result<BenchConfig> c =
      Parse({"--num=5000", "--threads", "4", "--sync", "--engines=lmdb,rocksdb",
             "--benchmarks=fillrandom,readrandom", "--json=/tmp/x.json", "--csv", "--reads=7",
             "--use_existing_db=false", "--compression_ratio=0.25", "--baseline=rocksdb"});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->num, 5000u);
  EXPECT_EQ(c->threads, 4u);
  EXPECT_TRUE(c->sync);
  EXPECT_EQ(c->engines, (std::vector<std::string>{"lmdb", "rocksdb"}));
  EXPECT_EQ(c->benchmarks, (std::vector<std::string>{"fillrandom", "readrandom"}));
  EXPECT_EQ(c->json.path, "/tmp/x.json");
  EXPECT_TRUE(c->csv.to_stdout());
  EXPECT_EQ(c->read_ops(), 7u);
  EXPECT_FALSE(c->use_existing_db);
  EXPECT_DOUBLE_EQ(c->compressibility, 0.75);
}

TEST(BenchFlagsTest, LaterFlagWins) {
  Result<BenchConfig> c = Parse({"--engines=lsm", "--num=10", "--engines=lmdb", "--num=20"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->engines, (std::vector<std::string>{"lmdb"}));
  EXPECT_EQ(c->num, 20u);
}

TEST(BenchFlagsTest, QuickSuiteAndWorkloads) {
  Result<BenchConfig> c = Parse({"--quick"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->num, 200000u);
  EXPECT_EQ(c->benchmarks, (std::vector<std::string>{"fillrandom", "readrandom", "seekrandom",
                                                     "ycsb-a", "ycsb-c"}));
  c = Parse({"--workload=e"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->benchmarks, (std::vector<std::string>{"ycsb-e"}));
  c = Parse({"--benchmarks=fillseq", "--workload=d"});
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->benchmarks, (std::vector<std::string>{"fillseq", "ycsb-d"}));
}

void ExpectInvalid(std::vector<std::string> args, const std::string& fragment) {
  Result<BenchConfig> c = Parse(args);
  ASSERT_FALSE(c.ok()) << args.front();
  EXPECT_TRUE(c.status().IsInvalidArgument());
  EXPECT_NE(c.status().message().find(fragment), std::string::npos) << c.status().message();
}

TEST(BenchFlagsTest, RejectsBadInputWithClearMessages) {
  ExpectInvalid({"--bogus=1"}, "unknown flag --bogus");
  ExpectInvalid({"--num=12x"}, "--num=12x: expected a non-negative integer");
  ExpectInvalid({"--num=-3"}, "--num=-3");
  ExpectInvalid({"--num=0"}, "--num=0: expected an integer in [1,");
  ExpectInvalid({"--key_size=4"}, "--key_size=4");
  ExpectInvalid({"--compressibility=1.5"}, "--compressibility=1.5");
  ExpectInvalid({"--sync=maybe"}, "--sync=maybe");
  ExpectInvalid({"--engines=foodb"}, "unknown or unbuilt engine 'foodb' (built: lsm, rocksdb, lmdb)");
  ExpectInvalid({"--baseline=leveldb"}, "'leveldb'");
  ExpectInvalid({"--engines=lsm", "--baseline=lmdb"}, "--baseline=lmdb is not in --engines");
  ExpectInvalid({"--benchmarks=fillrandom,readfast"}, "unknown workload 'readfast'");
  ExpectInvalid({"--workload=g"}, "--workload=g: expected a|b|c|d|e|f");
  ExpectInvalid({"--device-model=tape"}, "--device-model=tape: expected hdd|ssd");
  ExpectInvalid({"--profile=nvme"}, "--profile=nvme");
  ExpectInvalid({"--num"}, "--num needs a value");
  ExpectInvalid({"stray"}, "unexpected argument 'stray'");
  ExpectInvalid({"--benchmarks=ycsb-custom"}, "needs --property_file");
}

TEST(BenchFlagsTest, RunBenchMainExitsWithStatus2OnUsageErrors) {
  const ChildCommand child;
  EXPECT_EQ(RunBenchMain({"--bogus"}, child), 2);
  EXPECT_EQ(RunBenchMain({"--num=ten"}, child), 2);
  EXPECT_EQ(RunBenchMain({"--engines=nosuchdb"}, child), 2);
  EXPECT_EQ(RunBenchMain({"--property_file=/nonexistent/x.properties"}, child), 2);
  EXPECT_EQ(RunBenchMain({"--help"}, child), 0);
}

int RunCli(const std::string& args) {
  const std::string cmd = std::string(STRATA_CLI_PATH) + " bench " + args + " 2>/dev/null";
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(BenchFlagsTest, StrataCliExitsWithStatus2OnUsageErrors) {
  EXPECT_EQ(RunCli("--bogus"), 2);
  EXPECT_EQ(RunCli("--num=1e9x"), 2);
  EXPECT_EQ(RunCli("--engines=nosuchdb"), 2);
  EXPECT_EQ(RunCli("--help >/dev/null"), 0);
}

}  // namespace
}  // namespace strata::bench

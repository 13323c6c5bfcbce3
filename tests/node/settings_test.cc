// The settings declared once (node/settings_table.cc): config/node.toml agrees with the
// declaration, every key has its flag, a flag and its key give the same Config, and errors name
// what the user typed; a command may take the flags (and file sections) of some sections only.
#include "node/settings.h"

#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "node/options_from_config.h"
#include "node/setting.h"

namespace gl::node {
namespace {

const std::string kShippedFile = std::string(GL_SOURCE_DIR) + "/config/node.toml";

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// `text` with its one `from` replaced by `to`.
std::string Replaced(std::string text, const std::string& from, const std::string& to) {
  const std::size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

class ConfigSettingsTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& text) {
    std::ofstream(path_) << text;
    return path_;
  }
  void TearDown() override { std::remove(path_.c_str()); }

  // The Config that `run` would start with from `flags` alone, or the error it would print.
  Result<Config> FromFlags(const std::string& flags) {
    CLI::App app;
    SettingFlags setting_flags(app);
    try {
      app.parse(flags, /*program_name_included=*/false);
    } catch (const CLI::ParseError& e) {
      return Status::InvalidArgument(e.what());
    }
    Config c;
    if (Status s = setting_flags.Apply(c); !s.ok()) return s;
    return c;
  }

  // One file per test: ctest -j runs the tests of this fixture in parallel processes.
  std::string path_ = ::testing::TempDir() + "/settings_test_" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name() + ".toml";
};

TEST_F(ConfigSettingsTest, ShippedNodeTomlListsEveryDeclaredKeyWithItsDefault) {
  Status s = CheckDefaultsFile(kShippedFile);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST_F(ConfigSettingsTest, ShippedNodeTomlSaysWhyAboveEveryKey) {
  std::istringstream lines(ReadText(kShippedFile));
  std::string line, previous;
  int keys = 0;
  while (std::getline(lines, line)) {
    if (line.find(" = ") != std::string::npos && line[0] != '#') {
      EXPECT_EQ(previous.rfind("# ", 0), 0u) << "no comment line above `" << line << "`";
      ++keys;
    }
    previous = line;
  }
  EXPECT_EQ(keys, static_cast<int>(DeclaredSettings().size()) - 1);  // all but the flag-only --fresh
}

TEST_F(ConfigSettingsTest, DefaultsFileCheckFailsOnAnyDisagreement) {
  const std::string shipped = ReadText(kShippedFile);
  Status s = CheckDefaultsFile(Write(Replaced(shipped, "\nhidden = 128\n", "\nhidden = 64\n")));
  EXPECT_NE(s.message().find("hidden = 64, but the declared default is `hidden = 128`"), std::string::npos)
      << s.ToString();

  s = CheckDefaultsFile(Write(Replaced(shipped, "\nhidden = 128\n", "\n")));
  EXPECT_NE(s.message().find("[training] has no `hidden = 128`"), std::string::npos) << s.ToString();

  s = CheckDefaultsFile(Write(shipped + "surplus = 1\n"));
  EXPECT_NE(s.message().find("unknown key 'surplus'"), std::string::npos) << s.ToString();

  s = CheckDefaultsFile(Write(Replaced(shipped, "\ngossip_interval_s =", "\ninterval_s =")));
  EXPECT_NE(s.message().find("has no `gossip_interval_s = 3`"), std::string::npos) << s.ToString();
}

TEST_F(ConfigSettingsTest, EveryFileKeyHasTheFlagOfItsName) {
  CLI::App app;
  SettingFlags flags(app);
  int in_file = 0;
  for (const auto& setting : DeclaredSettings()) {
    std::string expected = "--" + setting->key();
    std::replace(expected.begin(), expected.end(), '_', '-');
    EXPECT_EQ(setting->flag(), expected);
    EXPECT_NO_THROW(app.get_option(expected)) << setting->key();
    if (setting->section() != nullptr) ++in_file;
  }
  EXPECT_GE(in_file, 50);
}

TEST_F(ConfigSettingsTest, FlagAndKeyGiveTheSameConfig) {
  Config from_file;
  ASSERT_TRUE(LoadConfigFile(Write("[node]\n"
                                   "listen = \"127.0.0.1:0\"\n"
                                   "peers = [\"10.0.0.2:7070\", \"[fe80::1]:7070\"]\n"
                                   "discovery = \"static\"\n"
                                   "role = \"coordinator\"\n"
                                   "encrypt = true\n"
                                   "io_nice = 3\n"
                                   "[training]\n"
                                   "batch_size = 16\n"
                                   "learning_rate = 0.05\n"
                                   "class_weighting = true\n"
                                   "seed = 7\n"
                                   "[gossip]\n"
                                   "gossip_interval_s = 0.5\n"
                                   "exchange_timeout_s = 2\n"
                                   "clip_window = 5\n"
                                   "merge = \"trimmed-mean\"\n"
                                   "[coordinator]\n"
                                   "strategy = \"fedavg\"\n"
                                   "server_optimizer = \"adam\"\n"
                                   "server_tau = 0.01\n"
                                   "client_optimizer = \"sgd\"\n"),
                             from_file)
                  .ok());
  Result<Config> from_flags = FromFlags(
      "--listen 127.0.0.1:0 --peers 10.0.0.2:7070 --peers [fe80::1]:7070 --discovery static --role coordinator "
      "--encrypt --io-nice 3 --batch-size 16 --learning-rate 0.05 --class-weighting --seed 7 "
      "--gossip-interval-s 0.5 --exchange-timeout-s 2 --clip-window 5 --merge trimmed-mean --strategy fedavg "
      "--server-optimizer adam --server-tau 0.01 --client-optimizer sgd");
  ASSERT_TRUE(from_flags.ok()) << from_flags.status().ToString();
  int compared = 0;
  for (const auto& setting : DeclaredSettings()) {
    EXPECT_TRUE(setting->SameValue(from_file, *from_flags))
        << setting->key() << ": file " << setting->Show(from_file) << ", flag " << setting->Show(*from_flags);
    if (!setting->SameValue(from_file, Config{})) ++compared;
  }
  EXPECT_EQ(compared, 18);  // every value above differs from its default
  EXPECT_EQ(from_flags->origins.at("learning_rate"), "--learning-rate");
  EXPECT_EQ(from_file.origins.at("learning_rate"), path_ + ": learning_rate");
}

TEST_F(ConfigSettingsTest, AFlagOverridesTheFile) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(Write("[training]\nlearning_rate = 0.05\nhidden = 64\n"), c).ok());
  CLI::App app;
  SettingFlags flags(app);
  app.parse("--learning-rate 0.01", /*program_name_included=*/false);
  ASSERT_TRUE(flags.Apply(c).ok());
  EXPECT_DOUBLE_EQ(c.learning_rate, 0.01);
  EXPECT_EQ(c.origins.at("learning_rate"), "--learning-rate");
  EXPECT_EQ(c.hidden, 64);  // a flag not given leaves the file's value
  EXPECT_EQ(c.origins.at("hidden"), path_ + ": hidden");
}

TEST_F(ConfigSettingsTest, OldFlagSpellingsStillWork) {
  Result<Config> c = FromFlags(
      "--lr 0.05 --batch 8 --min-lr 0.001 --lr-half-life 3 --gossip-interval 2 --eval-interval 5 "
      "--checkpoint-interval 7 --round-deadline 60 --failover-timeout 9 --peer 10.0.0.2:7070");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->learning_rate, 0.05);
  EXPECT_EQ(c->batch_size, 8);
  EXPECT_DOUBLE_EQ(c->min_learning_rate, 0.001);
  EXPECT_DOUBLE_EQ(c->lr_half_life_epochs, 3);
  EXPECT_DOUBLE_EQ(c->gossip_interval_s, 2);
  EXPECT_DOUBLE_EQ(c->eval_interval_s, 5);
  EXPECT_DOUBLE_EQ(c->checkpoint_interval_s, 7);
  EXPECT_DOUBLE_EQ(c->round_deadline_s, 60);
  EXPECT_DOUBLE_EQ(c->failover_timeout_s, 9);
  EXPECT_EQ(c->peers, std::vector<std::string>{"10.0.0.2:7070"});
  EXPECT_EQ(c->origins.at("learning_rate"), "--lr");  // an error names the spelling typed

  Config from_old_key;
  ASSERT_TRUE(LoadConfigFile(Write("[gossip]\ninterval_s = 2\n"), from_old_key).ok());
  EXPECT_DOUBLE_EQ(from_old_key.gossip_interval_s, 2);
}

// Ranges that say why: an epoch order that would not fit in memory, a pull that would overshoot
// half way, an interval that would shrink or grow past what was measured. Each flag refuses
// the value outside its range with a message naming the range, and takes one inside.
TEST_F(ConfigSettingsTest, AValueOutsideItsRangeIsRefusedAndOneInsideTaken) {
  struct Case {
    std::string bad, message, fine;
  };
  const Case cases[] = {
      {"--min-epoch-samples 1000000000", "--min-epoch-samples: must be in [0, 1000000] (got 1000000000)",
       "--min-epoch-samples 512"},
      {"--consensus-pull 2", "--consensus-pull: must be in [0, 0.5] (got 2)", "--consensus-pull 0"},
      {"--interval-stretch-max 0.5", "--interval-stretch-max: must be in [1, 64] (got 0.5)",
       "--interval-stretch-max 8"},
      {"--interval-stretch-start -1", "--interval-stretch-start: must be in [0, 30] (got -1)",
       "--interval-stretch-start 0"},
  };
  for (const Case& c : cases) {
    Result<Config> bad = FromFlags("--data shard.tsv " + c.bad);
    ASSERT_TRUE(bad.ok()) << bad.status().ToString();
    EXPECT_EQ(bad->Validate().message(), c.message);
    Result<Config> fine = FromFlags("--data shard.tsv " + c.fine);
    ASSERT_TRUE(fine.ok()) << fine.status().ToString();
    EXPECT_TRUE(fine->Validate().ok()) << c.fine;
  }
}

TEST_F(ConfigSettingsTest, ABadValueNamesTheFlagOrTheFileAndKeyItCameFrom) {
  Result<Config> c = FromFlags("--data shard.tsv --learning-rate -1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Validate().message(), "--learning-rate: must be in (0, 1) (got -1)");

  Config from_file;
  from_file.data = "shard.tsv";
  ASSERT_TRUE(LoadConfigFile(Write("[training]\nlearning_rate = -1\n"), from_file).ok());
  EXPECT_EQ(from_file.Validate().message(), path_ + ": learning_rate: must be in (0, 1) (got -1)");

  Config wrong_type;
  EXPECT_EQ(LoadConfigFile(Write("[training]\nlearning_rate = \"fast\"\n"), wrong_type).message(),
            path_ + ": learning_rate: must be a number");
}

TEST_F(ConfigSettingsTest, AnUnknownChoiceIsRefusedWithTheValidOnes) {
  Result<Config> c = FromFlags("--merge median");
  EXPECT_EQ(c.status().message(), "--merge: must be one of age-weighted, average, trimmed-mean (got 'median')");
  c = FromFlags("--server-optimizer sgdm");
  EXPECT_EQ(c.status().message(), "--server-optimizer: must be one of sgd, adam (got 'sgdm')");

  Config from_file;
  EXPECT_EQ(LoadConfigFile(Write("[node]\nrole = \"leader\"\n"), from_file).message(),
            path_ + ": role: must be one of node, coordinator");
  EXPECT_EQ(LoadConfigFile(Write("[coordinator]\nstrategy = \"fedprox\"\n"), from_file).message(),
            path_ + ": strategy: must be one of fednova, fedavg, trimmed-mean");
}

TEST_F(ConfigSettingsTest, CodecsAndUploadBudgetAreValidated) {
  Result<Config> ok = FromFlags("--data shard.tsv --codecs fp16 fp32 --max-upload-kbps 2000");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->Validate().ok()) << ok->Validate().ToString();
  EXPECT_EQ(ok->codecs, (std::vector<std::string>{"fp16", "fp32"}));
  EXPECT_EQ(ok->max_upload_kbps, 2000);

  Result<Config> unknown = FromFlags("--data shard.tsv --codecs int4 fp32");
  ASSERT_TRUE(unknown.ok()) << unknown.status().ToString();
  EXPECT_EQ(unknown->Validate().message(), "--codecs: unknown codec 'int4': must be fp32, fp16, int8 or int4-delta");
  Result<Config> no_fp32 = FromFlags("--data shard.tsv --codecs int8");
  ASSERT_TRUE(no_fp32.ok()) << no_fp32.status().ToString();
  EXPECT_EQ(no_fp32->Validate().message(), "--codecs: must include fp32, which every node speaks");
  Result<Config> negative = FromFlags("--data shard.tsv --max-upload-kbps -5");
  ASSERT_TRUE(negative.ok()) << negative.status().ToString();
  EXPECT_NE(negative->Validate().message().find("--max-upload-kbps: must be >= 0"), std::string::npos)
      << negative->Validate().ToString();
}

TEST_F(ConfigSettingsTest, FlowControlReachesTheGossipOptionsAndTokensAreValidated) {
  Result<Config> ok = FromFlags("--data shard.tsv --flow-control token-account --token-capacity 8 --token-reactivity 8");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_TRUE(ok->Validate().ok()) << ok->Validate().ToString();
  const gossip::Options options = GossipOptionsFor(*ok, 1000);
  EXPECT_EQ(options.flow, gossip::FlowControl::kTokenAccount);
  EXPECT_EQ(options.token_capacity, 8);
  EXPECT_EQ(options.token_reactivity, 8);
  EXPECT_EQ(GossipOptionsFor(*FromFlags("--data shard.tsv --flow-control push"), 1000).flow, gossip::FlowControl::kPush);
  EXPECT_EQ(GossipOptionsFor(*FromFlags("--data shard.tsv"), 1000).flow, gossip::FlowControl::kPushPull);

  Result<Config> over = FromFlags("--data shard.tsv --token-capacity 4 --token-reactivity 5");
  ASSERT_TRUE(over.ok()) << over.status().ToString();
  EXPECT_EQ(over->Validate().message(), "--token-reactivity: must be at most --token-capacity (got 5 > 4)");
  Result<Config> zero = FromFlags("--data shard.tsv --token-capacity 0");
  ASSERT_TRUE(zero.ok()) << zero.status().ToString();
  EXPECT_NE(zero->Validate().message().find("--token-capacity: must be in [1, 1000]"), std::string::npos)
      << zero->Validate().ToString();
  Result<Config> unknown = FromFlags("--data shard.tsv --flow-control pull");
  EXPECT_FALSE(unknown.ok() && unknown->Validate().ok());
}

TEST_F(ConfigSettingsTest, CoordinatorSettingsAreValidatedOnEveryRole) {
  Result<Config> c = FromFlags("--data shard.tsv --role node --server-momentum 1");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->Validate().message(), "--server-momentum: must be in [0, 1) (got 1)");
}

TEST_F(ConfigSettingsTest, ValuesOverrideDefaults) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(Write("[node]\nlisten = \"127.0.0.1:0\"\npeers = [\"a:1\", \"b:2\"]\n"
                                   "[gossip]\ngossip_interval_s = 1\n[training]\nhidden = 64\n"),
                             c)
                  .ok());
  EXPECT_EQ(c.listen, "127.0.0.1:0");
  EXPECT_EQ(c.peers, (std::vector<std::string>{"a:1", "b:2"}));
  EXPECT_DOUBLE_EQ(c.gossip_interval_s, 1.0);
  EXPECT_EQ(c.hidden, 64);
  EXPECT_EQ(c.batch_size, 32);  // untouched
}

TEST_F(ConfigSettingsTest, SyntaxErrorNamesTheLine) {
  Config c;
  Status s = LoadConfigFile(Write("[node]\n\nlisten = = 3\n"), c);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find(":3:"), std::string::npos) << s.ToString();
}

TEST_F(ConfigSettingsTest, ErrorsNameTheKeyAndFileAValueCameFrom) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(Write("[gossip]\ngossip_interval_s = 1e-9\n"), c).ok());
  c.data = "shard.tsv";
  const std::string message = c.Validate().message();
  EXPECT_EQ(message.rfind(path_ + ": gossip_interval_s: must be 0 (answer only) or between 0.1 and", 0), 0u)
      << message;
}

TEST_F(ConfigSettingsTest, ScopedFlagsAreOnlyThoseOfTheChosenSections) {
  CLI::App app;
  SettingFlags flags(app, SettingScope{{"training", "gossip"}, {"seed"}});
  for (const char* present : {"--learning-rate", "--hidden", "--batch-size", "--batch", "--codecs", "--merge",
                              "--gossip-interval-s", "--max-upload-kbps"}) {
    EXPECT_NE(app.get_option_no_throw(present), nullptr) << present;
  }
  for (const char* absent : {"--seed", "--data", "--listen", "--peer", "--encrypt", "--fresh", "--fraction",
                             "--server-lr"}) {
    EXPECT_EQ(app.get_option_no_throw(absent), nullptr) << absent;
  }
  app.parse("--learning-rate 0.05 --codecs fp32 --merge average --batch 16", /*program_name_included=*/false);
  Config c;
  ASSERT_TRUE(flags.Apply(c).ok());
  EXPECT_DOUBLE_EQ(c.learning_rate, 0.05);
  EXPECT_EQ(c.codecs, std::vector<std::string>{"fp32"});
  EXPECT_EQ(c.merge, MergeChoice::kAverage);
  EXPECT_EQ(c.batch_size, 16);
  EXPECT_EQ(c.origins["codecs"], "--codecs");

  CLI::App other;
  SettingFlags other_flags(other, SettingScope{{"training", "gossip"}, {"seed"}});
  EXPECT_THROW(other.parse("--data x.tsv", /*program_name_included=*/false), CLI::ParseError);
}

TEST_F(ConfigSettingsTest, TheUnscopedFlagsAreEverySetting) {
  CLI::App app;
  SettingFlags flags(app);
  for (const auto& s : DeclaredSettings()) EXPECT_NE(app.get_option_no_throw(s->flag()), nullptr) << s->flag();
}

TEST_F(ConfigSettingsTest, AFileReadForSomeSectionsSkipsTheOthers) {
  Config c;
  ASSERT_TRUE(LoadConfigFile(Write("[node]\nid = \"n1\"\n[gossip]\nmerge = \"average\"\n"
                                   "[coordinator]\nfraction = 0.5\n"),
                             c, {"training", "gossip"})
                  .ok());
  EXPECT_EQ(c.merge, MergeChoice::kAverage);
  EXPECT_EQ(c.id, Config{}.id);
  EXPECT_DOUBLE_EQ(c.fraction, Config{}.fraction);
  // A section no command knows is still refused.
  Status unknown = LoadConfigFile(Write("[gossips]\nmerge = \"average\"\n"), c, {"training", "gossip"});
  EXPECT_FALSE(unknown.ok());
  EXPECT_NE(unknown.message().find("unknown section [gossips]"), std::string::npos) << unknown.message();
}

TEST_F(ConfigSettingsTest, UnknownKeyAndSectionAreRefused) {
  Config c;
  Status s = LoadConfigFile(Write("[training]\nlr = 0.1\n"), c);
  EXPECT_NE(s.message().find("unknown key 'lr' in [training]"), std::string::npos) << s.ToString();
  s = LoadConfigFile(Write("[gossip]\nlearning_rate = 0.1\n"), c);  // a key of another section
  EXPECT_NE(s.message().find("unknown key 'learning_rate' in [gossip]"), std::string::npos) << s.ToString();
  s = LoadConfigFile(Write("[model]\nhidden = 8\n"), c);
  EXPECT_NE(s.message().find("unknown section [model]"), std::string::npos) << s.ToString();
  s = LoadConfigFile(Write("[node]\nfresh = true\n"), c);  // a flag only
  EXPECT_NE(s.message().find("unknown key 'fresh'"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace gl::node

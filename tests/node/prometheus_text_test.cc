#include "node/prometheus_text.h"

#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <vector>

namespace gl::node {
namespace {

struct Family {
  std::string help;
  std::string type;
};

struct ParsedSample {
  std::string name;
  std::string labels;  // the text between the braces
  std::string value;
};

// Parses the exposition the way Prometheus' text parser reads it, failing the test on any
// line it would refuse or that breaks the HELP/TYPE-before-samples rule.
class Exposition {
 public:
  explicit Exposition(const std::string& text) {
    static const std::regex help(R"(# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (.+))");
    static const std::regex type(R"(# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge))");
    static const std::regex sample(R"(([a-zA-Z_:][a-zA-Z0-9_:]*)(\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*)\})? (\S+))");
    std::istringstream in(text);
    std::string line;
    std::smatch m;
    while (std::getline(in, line)) {
      if (std::regex_match(line, m, help)) {
        EXPECT_EQ(families_.count(m[1]), 0u) << "second HELP for " << m[1];
        families_[m[1]].help = m[2];
      } else if (std::regex_match(line, m, type)) {
        EXPECT_EQ(families_[m[1]].type, "") << "second TYPE for " << m[1];
        families_[m[1]].type = m[2];
      } else if (std::regex_match(line, m, sample)) {
        const auto family = families_.find(m[1]);
        EXPECT_TRUE(family != families_.end() && !family->second.help.empty() && !family->second.type.empty())
            << "sample before its HELP and TYPE: " << line;
        samples_.push_back({m[1], m[3], m[4]});
      } else {
        ADD_FAILURE() << "not a valid exposition line: '" << line << "'";
      }
    }
    EXPECT_TRUE(text.empty() || text.back() == '\n') << "the last line must end with a newline";
  }

  const std::map<std::string, Family>& families() const { return families_; }
  const std::vector<ParsedSample>& samples() const { return samples_; }
  // The value of the one sample named `name` whose labels contain `label`, or "" if none.
  std::string Value(const std::string& name, const std::string& label = "") const {
    std::string found;
    for (const ParsedSample& s : samples_) {
      if (s.name != name || s.labels.find(label) == std::string::npos) continue;
      EXPECT_EQ(found, "") << "two samples of " << name << " with " << label;
      found = s.value;
    }
    return found;
  }

 private:
  std::map<std::string, Family> families_;
  std::vector<ParsedSample> samples_;
};

nlohmann::json NodeStatus() {
  std::vector<float> sample(1024, 0.5f);
  return {
      {"id", "pi-1"},
      {"cluster", "lab"},
      {"role", "node"},
      {"mode", "gossip"},
      {"signature", "gru1/h128"},
      {"uptime_s", 12.5},
      {"model_age", 4000},
      {"epochs", 3},
      {"train_loss", 0.75},
      {"validation", nullptr},
      {"eval", {{"accuracy", 0.625}, {"macro_f1", 0.5}, {"samples", 100}}},
      {"exchanges_ok", 41},
      {"exchanges_failed", 2},
      {"offers_dropped", 5},
      {"auth_failures", {{"192.0.2.9", 3}, {"192.0.2.10", 4}}},
      {"bytes_sent", 123456789012},
      {"upload_bytes_per_s", 2500.5},
      {"exchanges_over_budget", 3},
      {"peers", {{{"state", "alive"}, {"codec", "int8"}}, {{"state", "alive"}, {"codec", "int8"}},
                 {{"state", "dead"}, {"codec", "fp32"}}}},
      {"param_count", 60000},
      {"param_sample", sample},
  };
}

TEST(PrometheusTextTest, EverySampleHasHelpAndTypeBeforeIt) {
  Exposition e(PrometheusText(NodeStatus()));
  EXPECT_GT(e.samples().size(), 10u);
  for (const auto& [name, family] : e.families()) {
    EXPECT_EQ(name.rfind("gossip_learner_", 0), 0u) << name;
    EXPECT_FALSE(family.help.empty()) << name;
    // Prometheus' convention: counters, and only counters, end in _total.
    EXPECT_EQ(family.type == "counter", name.size() > 6 && name.substr(name.size() - 6) == "_total") << name;
  }
}

TEST(PrometheusTextTest, EverySampleIsLabelledWithIdAndCluster) {
  Exposition e(PrometheusText(NodeStatus()));
  for (const ParsedSample& s : e.samples()) {
    EXPECT_EQ(s.labels.rfind("id=\"pi-1\",cluster=\"lab\"", 0), 0u) << s.name << "{" << s.labels << "}";
  }
}

TEST(PrometheusTextTest, CountersAndGaugesCarryTheStatusValues) {
  Exposition e(PrometheusText(NodeStatus()));
  EXPECT_EQ(e.Value("gossip_learner_up"), "1");
  EXPECT_EQ(e.Value("gossip_learner_exchanges_ok_total"), "41");
  EXPECT_EQ(e.Value("gossip_learner_exchanges_failed_total"), "2");
  EXPECT_EQ(e.Value("gossip_learner_offers_dropped_total"), "5");
  EXPECT_EQ(e.Value("gossip_learner_sent_bytes_total"), "123456789012");  // no float rounding
  EXPECT_EQ(e.Value("gossip_learner_uptime_seconds"), "12.5");
  EXPECT_EQ(e.Value("gossip_learner_eval_accuracy"), "0.625");
  EXPECT_EQ(e.Value("gossip_learner_auth_failures_total"), "7");  // summed over hosts
  EXPECT_EQ(e.Value("gossip_learner_peers", "state=\"alive\""), "2");
  EXPECT_EQ(e.Value("gossip_learner_peers", "state=\"dead\""), "1");
  EXPECT_EQ(e.Value("gossip_learner_peers", "state=\"suspect\""), "0");
  EXPECT_EQ(e.Value("gossip_learner_peers_by_codec", "codec=\"int8\""), "2");
  EXPECT_EQ(e.Value("gossip_learner_peers_by_codec", "codec=\"fp32\""), "1");
  EXPECT_EQ(e.Value("gossip_learner_upload_bytes_per_second"), "2500.5");
  EXPECT_EQ(e.Value("gossip_learner_exchanges_over_budget_total"), "3");
  EXPECT_EQ(e.Value("gossip_learner_info", "signature=\"gru1/h128\""), "1");
}

TEST(PrometheusTextTest, NoPerParameterSamplesAndNoScoreBeforeTheFirstEvaluation) {
  Exposition e(PrometheusText(NodeStatus()));
  EXPECT_LT(e.samples().size(), 40u);  // param_sample holds 1,024 values
  EXPECT_EQ(e.Value("gossip_learner_parameters"), "60000");
  EXPECT_EQ(e.families().count("gossip_learner_validation_accuracy"), 0u);  // validation is null
}

TEST(PrometheusTextTest, LabelValuesAreEscaped) {
  nlohmann::json status = NodeStatus();
  status["id"] = "pi \"1\"\\\nx";
  Exposition e(PrometheusText(status));
  EXPECT_EQ(e.Value("gossip_learner_up"), "1");
  for (const ParsedSample& s : e.samples()) {
    EXPECT_EQ(s.labels.rfind(R"(id="pi \"1\"\\\nx",)", 0), 0u) << s.labels;
  }
}

TEST(PrometheusTextTest, NodeDownIsUpZeroAlone) {
  Exposition e(PrometheusNodeDown());
  ASSERT_EQ(e.samples().size(), 1u);
  EXPECT_EQ(e.Value("gossip_learner_up"), "0");
  EXPECT_EQ(e.families().at("gossip_learner_up").type, "gauge");
}

}  // namespace
}  // namespace gl::node

#include "node/node_commands.h"

#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "common/atomic_file.h"
#include "common/log.h"
#include "node/config.h"
#include "node/node.h"
#include "node/prometheus_text.h"
#include "node/settings.h"
#include "node/status_server.h"

namespace gl::node {
namespace {

void AddRun(CLI::App& app, int& exit_code) {
  CLI::App* run = app.add_subcommand("run", "Run a node: train on local data and gossip weights with peers");
  auto config_file = std::make_shared<std::string>();
  auto verbose = std::make_shared<bool>(false);
  run->add_option("--config", *config_file, "TOML config file (see config/node.toml); flags override it")
      ->check(CLI::ExistingFile);
  auto flags = std::make_shared<SettingFlags>(*run);
  run->add_flag("-v,--verbose", *verbose, "Debug logging");
  run->footer(
      "SIGTERM, SIGINT and SIGHUP (closed terminal, SSH logout) save a checkpoint and stop the node; start it under "
      "nohup to keep it running after you log out.\nEach flag of a group \"X settings\" is the key of the same name "
      "(- for _) in section [x] of the config file; --fresh is a flag only.\nThe model whose accuracy the node reports is "
      "<state-dir>/model.bin: `gossip-learner eval --model <state-dir>/model.bin --data FILE` scores it.");
  run->callback([config_file, verbose, flags, &exit_code] {
    HoldStopSignals();  // a signal during start-up then stops the node once it runs, not mid-way
    if (*verbose) SetLogLevel(LogLevel::kDebug);
    Config config;
    Status read = config_file->empty() ? Status::Ok() : LoadConfigFile(*config_file, config);
    if (read.ok()) read = flags->Apply(config);
    if (!read.ok()) {
      std::cerr << "error: " << read.message() << "\n";
      exit_code = 2;
      return;
    }
    Result<std::unique_ptr<Node>> node = Node::Create(config);
    if (!node.ok()) {
      std::cerr << "error: " << node.status().message() << "\n";
      exit_code = 1;
      return;
    }
    exit_code = (*node)->Run();
  });
}

void PrintSummary(const nlohmann::json& s) {
  auto pct = [](const nlohmann::json& m) {
    std::ostringstream out;
    if (m.is_null()) return std::string("-");
    out << std::fixed << std::setprecision(1) << 100 * m.value("accuracy", 0.0) << "% (F1 "
        << std::setprecision(3) << m.value("macro_f1", 0.0) << ")";
    return out.str();
  };
  std::cout << "node " << s.value("id", "?") << " [" << s.value("role", "?") << "] on " << s.value("listen", "?")
            << ", up " << static_cast<long>(s.value("uptime_s", 0.0)) << " s\n"
            << "  model  age " << s.value("model_age", 0) << ", epochs " << s.value("epochs", 0) << ", loss "
            << std::setprecision(4) << s.value("train_loss", 0.0) << ", "
            << static_cast<long>(s.value("samples_per_s", 0.0)) << " samples/s\n"
            << "  accuracy  validation " << pct(s["validation"]) << ", eval " << pct(s["eval"]) << "\n";
  if (s.contains("scored_model")) {
    const nlohmann::json& m = s["scored_model"];
    std::cout << "    of " << m.value("path", "?") << " (" << m.value("weights", "?") << " weights, age "
              << m.value("age", 0) << (m.value("saved", false) ? ")" : "; NOT saved, see the node's log)")
              << ": the model to take home\n";
  }
  std::cout
            << "  gossip  " << s.value("exchanges_ok", 0) << " exchanges ok, " << s.value("exchanges_failed", 0)
            << " failed, " << s.value("rejected_updates", 0) << " updates rejected, "
            << s.value("bytes_sent", 0) / 1024 << " KiB sent, " << s.value("bytes_received", 0) / 1024
            << " KiB received\n";
  if (s.contains("round")) {  // a coordinator
    std::cout << "  rounds  " << s.value("round", 0) << " done, last with " << s["participants"].size()
              << " participant(s), " << s["dropped"].size() << " dropped; global " << pct(s["global"]) << " on "
              << s.value("global_on", "?") << "; overhead " << static_cast<long>(s.value("mean_overhead_ms", 0.0))
              << " ms/round\n";
  } else if (s.contains("last_round_served")) {
    std::cout << "  mode  " << s.value("mode", "?") << ", coordinator '" << s.value("coordinator", "")
              << "', last round served " << s.value("last_round_served", 0) << "\n";
  }
  for (const auto& p : s["peers"]) {
    std::cout << "  peer " << std::left << std::setw(22) << p.value("address", "?") << std::setw(18)
              << p.value("id", "") << std::setw(12) << p.value("state", "?") << "found by "
              << p["found_by"].dump() << ", " << p.value("exchanges", 0) << " exchanges, "
              << p.value("failures", 0) << " failures\n";
  }
}

// The status document from --socket, else <--state-dir>/status.sock; with neither, from the
// node started here (./gl-state) if there is one, else from the packaged service's.
Result<std::string> ReadStatusOfChosenNode(const std::string& socket, const std::string& state_dir) {
  Config c;
  c.status_socket = socket;
  if (!state_dir.empty()) c.state_dir = state_dir;
  const std::string path = c.StatusSocketPath();
  std::error_code ec;
  if (!socket.empty() || !state_dir.empty() || std::filesystem::exists(path, ec)) return ReadStatus(path);
  Result<std::string> service = ReadStatus(kServiceStatusSocket);
  if (service.ok()) return service;
  return Status::Unavailable("no node in ./" + c.state_dir + ", and " + service.status().message());
}

// `status --prometheus [--out FILE]`: the exposition of the status, or of gossip_learner_up 0
// when the node does not answer (exit 1, so a timer's failed run shows up too).
int ExportPrometheus(const Result<std::string>& status_text, const std::string& out) {
  std::string exposition = PrometheusNodeDown();
  int code = 1;
  if (!status_text.ok()) {
    std::cerr << "error: " << status_text.status().message() << "\n";
  } else {
    nlohmann::json doc = nlohmann::json::parse(status_text.value(), nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      std::cerr << "error: the node sent a status that is not JSON\n";
    } else {
      exposition = PrometheusText(doc);
      code = 0;
    }
  }
  if (out.empty()) {
    std::cout << exposition;
    return code;
  }
  Status written = WriteFileAtomically(out, exposition);
  if (!written.ok()) {
    std::cerr << "error: " << written.message() << "\n";
    return 1;
  }
  return code;
}

void AddStatus(CLI::App& app, int& exit_code) {
  CLI::App* status = app.add_subcommand("status", "Show a running node's status");
  auto socket = std::make_shared<std::string>();
  auto state_dir = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  status->add_option("--socket", *socket, "Status socket (default <state-dir>/status.sock)");
  status->add_option("--state-dir", *state_dir,
                     "The node's state dir (default ./gl-state, else the service's " + std::string(kServiceStatusSocket) +
                         ")");
  CLI::Option* json_flag = status->add_flag("--json", *json, "Print the raw JSON document");
  auto prometheus = std::make_shared<bool>(false);
  auto out = std::make_shared<std::string>();
  CLI::Option* prometheus_flag =
      status->add_flag("--prometheus", *prometheus,
                       "Print Prometheus text exposition (gossip_learner_up 0 when the node does not answer)")
          ->excludes(json_flag);
  status->add_option("--out", *out,
                     "With --prometheus: replace FILE atomically instead of printing (node_exporter textfile collector)")
      ->needs(prometheus_flag);
  status->callback([socket, state_dir, json, prometheus, out, &exit_code] {
    Result<std::string> text = ReadStatusOfChosenNode(*socket, *state_dir);
    if (*prometheus) {
      exit_code = ExportPrometheus(text, *out);
      return;
    }
    if (!text.ok()) {
      std::cerr << "error: " << text.status().message() << "\n";
      exit_code = 1;
      return;
    }
    if (*json) {
      std::cout << *text;
      exit_code = 0;
      return;
    }
    nlohmann::json doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) {
      std::cerr << "error: the node sent a status that is not JSON\n";
      exit_code = 1;
      return;
    }
    PrintSummary(doc);
    exit_code = 0;
  });
}

}  // namespace

void AddNodeCommands(CLI::App& app, int& exit_code) {
  AddRun(app, exit_code);
  AddStatus(app, exit_code);
}

}  // namespace gl::node

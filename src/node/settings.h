// What comes of the settings declared in node/settings_table.cc: the config file reader, the
// flags of `run` and of `simulate` (its [training] and [gossip] ones, with their --help), the
// per-setting validation and the check that a config file such as config/node.toml lists every
// setting with its declared default.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "node/config.h"

namespace CLI {
class App;
}

namespace gl::node {

// Reads a TOML config file into `config` (keys absent from the file keep their value) and
// records where each value came from ("PATH: key"). Unknown sections and keys are an error, so
// that typos do not go unnoticed. With `only_sections` non-empty, the other valid sections are
// skipped unread (a full node.toml serves a command that takes some sections only).
Status LoadConfigFile(const std::string& path, Config& config, const std::vector<std::string>& only_sections = {});

// Which settings get flags: those of `sections` (empty = every setting, command-line-only ones
// included) except the keys in `except` (a command whose own flag of that name wins).
struct SettingScope {
  std::vector<std::string> sections;
  std::vector<std::string> except;
  bool Includes(const char* section, const std::string& key) const;
};

// A flag for every setting in `scope` on `app` (the key with dashes; a renamed setting's old flag works
// too, hidden), grouped by section in --help. Apply() copies the flags given into a Config and
// records the flag typed in Config::origins; it refuses a bad choice, naming the flag.
class SettingFlags {
 public:
  explicit SettingFlags(CLI::App& app, const SettingScope& scope = {});
  Status Apply(Config& config) const;

 private:
  std::vector<std::function<Status(Config&)>> apply_;
};

// The first setting out of its declared range, named as the user gave it.
Status ValidateSettings(const Config& config);

// OK when the file at `path` sets every declared key of the config file, each to its declared
// default, and nothing else; otherwise what differs first.
Status CheckDefaultsFile(const std::string& path);

}  // namespace gl::node

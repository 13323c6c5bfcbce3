#include "node/settings.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <sstream>

#include "node/setting.h"

namespace gl::node {
namespace {

constexpr const char* kSections[] = {"node", "training", "gossip", "coordinator"};

const Setting* FindInFile(const std::string& section, const std::string& key) {
  for (const auto& s : DeclaredSettings()) {
    if (s->section() != nullptr && section == s->section() && s->ReadFrom(key)) {
      return s.get();
    }
  }
  return nullptr;
}

std::string ValidSections() {
  std::string out;
  for (const char* section : kSections) out += (out.empty() ? "[" : ", [") + std::string(section) + "]";
  return out;
}

Result<toml::table> ParseFile(const std::string& path) {
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream where;
    where << path << ":" << e.source().begin.line << ": " << e.description();
    return Status::InvalidArgument("cannot parse config file " + where.str());
  }
}

std::string GroupOf(const Setting& s) {
  const std::string section = s.section() ? s.section() : "node";
  return std::string(1, static_cast<char>(std::toupper(section[0]))) + section.substr(1) + " settings";
}

}  // namespace

Status LoadConfigFile(const std::string& path, Config& c, const std::vector<std::string>& only_sections) {
  Result<toml::table> root = ParseFile(path);
  if (!root.ok()) return root.status();
  for (const auto& [section_name, section] : *root) {
    const std::string name(section_name.str());
    if (!section.is_table() || std::find(std::begin(kSections), std::end(kSections), name) == std::end(kSections)) {
      return Status::InvalidArgument(path + ": unknown section [" + name + "]; valid sections: " + ValidSections());
    }
    if (!only_sections.empty() &&
        std::find(only_sections.begin(), only_sections.end(), name) == only_sections.end()) {
      continue;
    }
    for (const auto& [key_name, value] : *section.as_table()) {
      const std::string key(key_name.str());
      const Setting* setting = FindInFile(name, key);
      if (setting == nullptr) {
        return Status::InvalidArgument(path + ": unknown key '" + key + "' in [" + name +
                                       "]; see config/node.toml or `gossip-learner run --help` for the valid keys");
      }
      const std::string origin = path + ": " + key;
      if (std::string problem = setting->Read(value, c); !problem.empty()) {
        return Status::InvalidArgument(origin + ": " + problem);
      }
      c.origins[setting->key()] = origin;
    }
  }
  return Status::Ok();
}

bool SettingScope::Includes(const char* section, const std::string& key) const {
  if (std::find(except.begin(), except.end(), key) != except.end()) return false;
  if (sections.empty()) return true;
  return section != nullptr && std::find(sections.begin(), sections.end(), section) != sections.end();
}

SettingFlags::SettingFlags(CLI::App& app, const SettingScope& scope) {
  for (const auto& s : DeclaredSettings()) {
    if (scope.Includes(s->section(), s->key())) s->AddFlag(app, GroupOf(*s), apply_);
  }
}

Status SettingFlags::Apply(Config& config) const {
  for (const auto& apply : apply_) {
    if (Status s = apply(config); !s.ok()) return s;
  }
  return Status::Ok();
}

Status ValidateSettings(const Config& c) {
  for (const auto& s : DeclaredSettings()) {
    std::string problem = s->Problem(c);
    if (problem.empty()) continue;
    auto origin = c.origins.find(s->key());
    return Status::InvalidArgument((origin == c.origins.end() ? s->key() : origin->second) + ": " + problem);
  }
  return Status::Ok();
}

Status CheckDefaultsFile(const std::string& path) {
  Config read;
  if (Status s = LoadConfigFile(path, read); !s.ok()) return s;
  const Config defaults;
  for (const auto& s : DeclaredSettings()) {
    if (s->section() == nullptr) continue;
    const std::string declared = s->key() + " = " + s->Show(defaults);
    if (read.origins.count(s->key()) == 0 || read.origins[s->key()] != path + ": " + s->key()) {
      return Status::InvalidArgument(path + ": [" + s->section() + "] has no `" + declared + "`");
    }
    if (!s->SameValue(read, defaults)) {
      return Status::InvalidArgument(path + ": " + s->key() + " = " + s->Show(read) + ", but the declared default is `" +
                                     declared + "`");
    }
  }
  return Status::Ok();
}

}  // namespace gl::node

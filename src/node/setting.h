// One declared setting of `gossip-learner run` (see node/settings_table.cc, where they all are):
// its TOML section and key, its flag (the key with dashes), the Config field it fills, its valid
// values and one line of why. From that, TypedSetting reads the key from a TOML table, adds the
// flag to a CLI11 command, checks the value and shows it. Used by node/settings.cc only.
#pragma once

#include <CLI/CLI.hpp>
#include <toml++/toml.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "common/status.h"
#include "node/config.h"

namespace gl::node {

// How values of type T are read from TOML and shown. Enums are the choices of node/setting_choices.h.
template <typename T>
struct ValueTraits {
  static_assert(std::is_enum_v<T>);
  static std::string What() { return "one of " + ChoiceNames<T>(); }
  static std::optional<T> FromToml(const toml::node& node) {
    std::optional<std::string> text = node.value_exact<std::string>();
    return text ? ParseChoice<T>(*text) : std::nullopt;
  }
  static std::string Show(T value) { return NameOf(value); }
};
template <>
struct ValueTraits<std::string> {
  static std::string What() { return "a string"; }
  static std::optional<std::string> FromToml(const toml::node& node) { return node.value_exact<std::string>(); }
  static std::string Show(const std::string& value) { return "\"" + value + "\""; }
};
template <>
struct ValueTraits<bool> {
  static std::string What() { return "true or false"; }
  static std::optional<bool> FromToml(const toml::node& node) { return node.value_exact<bool>(); }
  static std::string Show(bool value) { return value ? "true" : "false"; }
};
template <>
struct ValueTraits<double> {
  static std::string What() { return "a number"; }
  static std::optional<double> FromToml(const toml::node& node) { return node.value<double>(); }  // integers too
  static std::string Show(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
  }
};
template <typename Int>
struct IntegerTraits {
  static std::string What() { return "a whole number"; }
  static std::optional<Int> FromToml(const toml::node& node) {
    std::optional<std::int64_t> v = node.value_exact<std::int64_t>();
    if (!v) return std::nullopt;
    if (std::is_unsigned_v<Int> && *v < 0) return std::nullopt;
    if (!std::is_unsigned_v<Int> && (*v < static_cast<std::int64_t>(std::numeric_limits<Int>::min()) ||
                                     *v > static_cast<std::int64_t>(std::numeric_limits<Int>::max()))) {
      return std::nullopt;
    }
    return static_cast<Int>(*v);
  }
  static std::string Show(Int value) { return std::to_string(value); }
};
template <>
struct ValueTraits<int> : IntegerTraits<int> {};
template <>
struct ValueTraits<std::uint64_t> : IntegerTraits<std::uint64_t> {};
template <>
struct ValueTraits<std::vector<std::string>> {
  static std::string What() { return "an array of strings"; }
  static std::optional<std::vector<std::string>> FromToml(const toml::node& node) {
    const toml::array* array = node.as_array();
    if (array == nullptr) return std::nullopt;
    std::vector<std::string> out;
    for (const toml::node& item : *array) {
      if (!item.is_string()) return std::nullopt;
      out.push_back(*item.value<std::string>());
    }
    return out;
  }
  static std::string Show(const std::vector<std::string>& values) {
    std::string out;
    for (const std::string& v : values) out += (out.empty() ? "" : ", ") + ValueTraits<std::string>::Show(v);
    return "[" + out + "]";
  }
};

// The valid values of a setting: `text` for --help ("in [8, 1024]"; "" = any value of the
// type), `problem` says what is wrong with a value ("" = valid).
template <typename T>
struct Rule {
  std::string text;
  std::function<std::string(const T&)> problem;
};

// Applies the flags the user gave to a Config; an error names the flag.
using FlagApply = std::function<Status(Config&)>;

class Setting {
 public:
  // `section` nullptr: a command-line flag only, not in the config file.
  Setting(const char* section, const char* key, std::string why, std::string old_flag, std::string old_key)
      : section_(section), key_(key), why_(std::move(why)), old_flag_(std::move(old_flag)), old_key_(std::move(old_key)) {}
  virtual ~Setting() = default;

  const char* section() const { return section_; }
  const std::string& key() const { return key_; }
  // Whether the config file's `key` sets it: its key, or the one it had before.
  bool ReadFrom(const std::string& key) const { return key == key_ || (!old_key_.empty() && key == old_key_); }
  // The key with dashes: learning_rate -> --learning-rate.
  std::string flag() const {
    std::string flag = "--" + key_;
    for (char& ch : flag) ch = ch == '_' ? '-' : ch;
    return flag;
  }
  // The TOML value into `c`; "" or what is wrong with it.
  virtual std::string Read(const toml::node& value, Config& c) const = 0;
  // Adds the flag (and its old spelling, hidden) to `app`; `apply` gets what copies it into a Config.
  virtual void AddFlag(CLI::App& app, const std::string& group, std::vector<FlagApply>& apply) const = 0;
  // "" or what is wrong with the value in `c`.
  virtual std::string Problem(const Config& c) const = 0;
  virtual std::string Show(const Config& c) const = 0;
  virtual bool SameValue(const Config& a, const Config& b) const = 0;

 protected:
  std::string Help(const std::string& default_text, const std::string& rule) const {
    return why_ + " [default " + default_text + (rule.empty() ? "" : "; " + rule) + "]";
  }
  std::string old_flag() const { return old_flag_; }

 private:
  const char* section_;
  std::string key_, why_, old_flag_, old_key_;
};

template <typename T>
class TypedSetting : public Setting {
 public:
  TypedSetting(const char* section, const char* key, T Config::*field, Rule<T> rule, std::string why,
               std::string old_flag, std::string old_key)
      : Setting(section, key, std::move(why), std::move(old_flag), std::move(old_key)), field_(field),
        rule_(std::move(rule)) {}

  std::string Read(const toml::node& value, Config& c) const override {
    std::optional<T> v = ValueTraits<T>::FromToml(value);
    if (!v) return "must be " + ValueTraits<T>::What();
    c.*field_ = *v;
    return "";
  }

  void AddFlag(CLI::App& app, const std::string& group, std::vector<FlagApply>& apply) const override {
    const std::string valid = std::is_enum_v<T> ? ValueTraits<T>::What() : rule_.text;
    const std::string help = Help(ValueTraits<T>::Show(Config{}.*field_), valid);
    Bind(app, flag(), help, group, apply);
    if (!old_flag().empty()) Bind(app, old_flag(), help, "", apply);  // group "" hides it from --help
  }

  std::string Problem(const Config& c) const override { return rule_.problem ? rule_.problem(c.*field_) : ""; }
  std::string Show(const Config& c) const override { return ValueTraits<T>::Show(c.*field_); }
  bool SameValue(const Config& a, const Config& b) const override { return a.*field_ == b.*field_; }

 private:
  // Enum flags are read as text and parsed here, so that a bad name is refused naming the flag
  // and the valid names; the rest is CLI11's.
  using FlagValue = std::conditional_t<std::is_enum_v<T>, std::string, T>;

  void Bind(CLI::App& app, const std::string& name, const std::string& help, const std::string& group,
            std::vector<FlagApply>& apply) const {
    auto value = std::make_shared<FlagValue>();
    CLI::Option* option = nullptr;
    if constexpr (std::is_same_v<T, bool>) {
      option = app.add_flag(name, *value, help);  // --encrypt, or --encrypt=false
    } else {
      option = app.add_option(name, *value, help);
    }
    option->group(group);
    apply.push_back([option, value, name, field = field_, key = key()](Config& c) -> Status {
      if (option->count() == 0) return Status::Ok();
      c.origins[key] = name;
      if constexpr (std::is_enum_v<T>) {
        std::optional<T> parsed = ParseChoice<T>(*value);
        if (!parsed) {
          return Status::InvalidArgument(name + ": must be " + ValueTraits<T>::What() + " (got '" + *value + "')");
        }
        c.*field = *parsed;
      } else {
        c.*field = *value;
      }
      return Status::Ok();
    });
  }

  T Config::*field_;
  Rule<T> rule_;
};

}  // namespace gl::node

namespace gl::node {

// Every setting of `run`, in the order of config/node.toml (node/settings_table.cc).
const std::vector<std::unique_ptr<Setting>>& DeclaredSettings();

}  // namespace gl::node

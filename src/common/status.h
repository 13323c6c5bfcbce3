// Status and Result<T>: how every fallible call in gossip-learner reports failure.
//
// A Status is OK or carries a code and a human-readable message that says what went
// wrong and, where possible, what to do next. Exceptions never cross a library boundary
// (nn, gossip, discovery): they are caught inside and returned as a Status.
// Thread-safety: a Status is a value; distinct objects may be used from distinct threads.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace gl {

class Status {
 public:
  enum class Code { kOk, kInvalidArgument, kNotFound, kCorruption, kIoError, kUnavailable, kTimeout, kRejected };

  Status() = default;  // OK
  static Status Ok() { return Status(); }
  static Status InvalidArgument(std::string msg) { return Status(Code::kInvalidArgument, std::move(msg)); }
  static Status NotFound(std::string msg) { return Status(Code::kNotFound, std::move(msg)); }
  static Status Corruption(std::string msg) { return Status(Code::kCorruption, std::move(msg)); }
  static Status IoError(std::string msg) { return Status(Code::kIoError, std::move(msg)); }
  static Status Unavailable(std::string msg) { return Status(Code::kUnavailable, std::move(msg)); }
  static Status Timeout(std::string msg) { return Status(Code::kTimeout, std::move(msg)); }
  // The input was understood but refused (wrong model, non-finite values, policy).
  static Status Rejected(std::string msg) { return Status(Code::kRejected, std::move(msg)); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  Status(Code code, std::string msg) : code_(code), message_(std::move(msg)) {}
  Code code_ = Code::kOk;
  std::string message_;
};

// A value or the Status that explains why there is none.
template <typename T>
class Result {
 public:
  Result(T value) : value_(std::move(value)) {}                 // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {}         // NOLINT: must not be OK
  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace gl

#include "node/keygen_command.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <memory>
#include <string>

#include "common/status.h"
#include "gossip/wire/auth.h"

namespace gl::node {
namespace {

Status WriteKeyFile(const std::string& path, bool force) {
  Result<gossip::ClusterKey> key = gossip::GenerateClusterKey();
  if (!key.ok()) return key.status();
  const std::string text = gossip::ClusterKeyToHex(*key);
  // Created 0600 (not chmod-ed later), so the key is never readable by others, even briefly.
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (force ? O_TRUNC : O_EXCL);
  const int fd = ::open(path.c_str(), flags, S_IRUSR | S_IWUSR);
  if (fd < 0) {
    if (errno == EEXIST) return Status::InvalidArgument(path + " exists; pass --force to replace the key");
    return Status::IoError("cannot create " + path + ": " + std::strerror(errno));
  }
  // An existing file kept its mode through O_TRUNC: make it owner-only too.
  bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
  ok = ok && ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) return Status::IoError("cannot write " + path + ": " + std::strerror(saved_errno));
  return Status::Ok();
}

}  // namespace

void AddKeygenCommand(CLI::App& app, int& exit_code) {
  CLI::App* keygen = app.add_subcommand("keygen", "Write a new random cluster key (mode 0600) for --key-file");
  auto out = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  keygen->add_option("--out", *out, "Key file to create")->required();
  keygen->add_flag("--force", *force, "Replace an existing key file");
  keygen->callback([out, force, &exit_code] {
    Status s = WriteKeyFile(*out, *force);
    if (!s.ok()) {
      std::cerr << "error: " << s.message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "wrote a new cluster key to " << *out
              << " (mode 0600); copy it to every node over a trusted channel and pass --key-file\n";
  });
}

}  // namespace gl::node

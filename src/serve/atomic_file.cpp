#include "serve/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "serve/ids.h"

namespace cryptounet::serve {
namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path) {
  throw std::runtime_error(what + " " + path.string() + ": " + std::strerror(errno));
}

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync", path);
}

}  // namespace

void publish_file(const std::filesystem::path& written, const std::filesystem::path& target) {
  fsync_path(written, O_RDONLY);
  std::filesystem::rename(written, target);
  fsync_path(target.parent_path().empty() ? "." : target.parent_path(), O_RDONLY | O_DIRECTORY);
}

void write_file_atomically(const std::filesystem::path& target, std::string_view contents) {
  auto tmp = target;
  tmp += ".tmp-" + random_id();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw_errno("cannot create", tmp);
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      std::filesystem::remove(tmp);
      throw_errno("cannot write", tmp);
    }
    done += static_cast<std::size_t>(n);
  }
  ::close(fd);
  publish_file(tmp, target);
}

}  // namespace cryptounet::serve

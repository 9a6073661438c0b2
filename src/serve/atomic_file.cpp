#include "serve/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "serve/ids.h"

namespace cryptounet::serve {
namespace {

[[noreturn]] void throw_errno(const std::string& what, const std::filesystem::path& path, int error = errno) {
  throw std::system_error(error, std::generic_category(), what + " " + path.string());
}

void fsync_path(const std::filesystem::path& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) throw_errno("cannot open", path);
  const int rc = ::fsync(fd);
  const int error = errno;
  ::close(fd);
  if (rc != 0) throw_errno("cannot fsync", path, error);
}

void write_all(int fd, std::string_view contents, const std::filesystem::path& path) {
  std::size_t done = 0;
  while (done < contents.size()) {
    const ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    // A write of 0 bytes to a regular file means no space (POSIX leaves errno unset then).
    if (n <= 0) throw_errno("cannot write", path, n == 0 ? ENOSPC : errno);
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) throw_errno("cannot fsync", path);
}

}  // namespace

bool is_out_of_space(const std::error_code& error) {
  return error == std::errc::no_space_on_device || error.value() == EDQUOT;
}

void publish_file(const std::filesystem::path& written, const std::filesystem::path& target) {
  fsync_path(written, O_RDONLY);
  std::filesystem::rename(written, target);
  fsync_path(target.parent_path().empty() ? "." : target.parent_path(), O_RDONLY | O_DIRECTORY);
}

void write_file_atomically(const std::filesystem::path& target, std::string_view contents) {
  auto tmp = target;
  tmp += ".tmp-" + random_id();
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) throw_errno("cannot create", tmp);
  bool open = true;
  try {
    write_all(fd, contents, tmp);
    open = false;
    // close() reports write-back errors of some file systems (NFS): a failed close is a failed write.
    if (::close(fd) != 0) throw_errno("cannot close", tmp);
    std::filesystem::rename(tmp, target);
  } catch (...) {
    if (open) ::close(fd);
    std::error_code ignored;
    std::filesystem::remove(tmp, ignored);
    throw;
  }
  fsync_path(target.parent_path().empty() ? "." : target.parent_path(), O_RDONLY | O_DIRECTORY);
}

std::shared_ptr<const DurableFiles> disk_files() {
  static const auto files = std::make_shared<const DurableFiles>();
  return files;
}

}  // namespace cryptounet::serve

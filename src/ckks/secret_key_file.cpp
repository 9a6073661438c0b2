// The secret key file: durable, owner-only, never written through a symbolic link, never left half-written, and
// never staged in a buffer that is freed unwiped (the serialized bytes live in a SecretVector, not a string stream).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <istream>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <utility>

#include "ckks/random.h"
#include "ckks/secret_buffer.h"
#include "ckks/serialization.h"

namespace cryptounet::ckks {

namespace {

// Output stream buffer appending to a SecretVector (whose old blocks are wiped when it grows).
class SecretSink : public std::streambuf {
 public:
  const SecretVector<char>& bytes() const { return bytes_; }

 protected:
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof())) bytes_.push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }
  std::streamsize xsputn(const char* data, std::streamsize count) override {
    bytes_.insert(bytes_.end(), data, data + count);
    return count;
  }

 private:
  SecretVector<char> bytes_;
};

// Seekable input stream buffer over bytes it does not own.
class SecretSource : public std::streambuf {
 public:
  explicit SecretSource(SecretVector<char>& bytes) {
    setg(bytes.data(), bytes.data(), bytes.data() + bytes.size());
  }

 protected:
  pos_type seekoff(off_type off, std::ios_base::seekdir dir, std::ios_base::openmode which) override {
    if (!(which & std::ios_base::in)) return pos_type(off_type(-1));
    const off_type base = dir == std::ios_base::beg   ? 0
                          : dir == std::ios_base::cur ? gptr() - eback()
                                                      : egptr() - eback();
    const off_type target = base + off;
    if (target < 0 || target > egptr() - eback()) return pos_type(off_type(-1));
    setg(eback(), eback() + target, egptr());
    return pos_type(target);
  }
  pos_type seekpos(pos_type pos, std::ios_base::openmode which) override {
    return seekoff(off_type(pos), std::ios_base::beg, which);
  }
};

[[noreturn]] void fail(const std::string& what, const std::string& path, int error) {
  const std::string reason = error ? std::string(": ") + std::strerror(error) : "";
  throw std::runtime_error("secret key file " + path + ": " + what + reason);
}

class FileDescriptor {
 public:
  explicit FileDescriptor(int fd) : fd_(fd) {}
  FileDescriptor(const FileDescriptor&) = delete;
  FileDescriptor& operator=(const FileDescriptor&) = delete;
  ~FileDescriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// Removes the temporary file unless it was renamed into place.
class TemporaryFile {
 public:
  explicit TemporaryFile(std::string path) : path_(std::move(path)) {}
  TemporaryFile(const TemporaryFile&) = delete;
  TemporaryFile& operator=(const TemporaryFile&) = delete;
  ~TemporaryFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void keep() { path_.clear(); }

 private:
  std::string path_;
};

void write_all(int fd, const char* data, size_t size, const std::string& path) {
  while (size > 0) {
    const ssize_t written = ::write(fd, data, size);
    if (written < 0 && errno == EINTR) continue;
    if (written <= 0) fail("cannot write", path, errno);
    data += written;
    size -= static_cast<size_t>(written);
  }
}

std::string random_suffix() {
  const Seed bytes = random_seed();
  static const char hex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < 8; ++i) {
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

void save_secret_key(const std::string& path, const Context& ctx, const SecretKey& key, IfExists existing) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode)) fail("is a symbolic link; refusing to write through it", path, 0);
    if (!S_ISREG(st.st_mode)) fail("exists and is not a regular file", path, 0);
    if (existing == IfExists::kRefuse) fail("already exists; refusing to overwrite a secret key", path, 0);
  } else if (errno != ENOENT) {
    fail("cannot inspect", path, errno);
  }

  SecretSink sink;
  {
    std::ostream out(&sink);
    save(out, ctx, key);
  }
  const std::filesystem::path target(path);
  const std::string dir = target.has_parent_path() ? target.parent_path().string() : ".";
  TemporaryFile temp(dir + "/." + target.filename().string() + "." + random_suffix() + ".tmp");
  {
    FileDescriptor fd(::open(temp.path().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) fail("cannot create a temporary file in " + dir, path, errno);
    if (::fchmod(fd.get(), 0600) != 0) fail("cannot set mode 0600", path, errno);  // whatever the umask
    write_all(fd.get(), sink.bytes().data(), sink.bytes().size(), path);
    if (::fsync(fd.get()) != 0) fail("cannot sync", path, errno);
    if (::close(fd.release()) != 0) fail("cannot close", path, errno);
  }
  // rename replaces a directory entry without following it; RENAME_NOREPLACE also refuses a file (or link) that
  // appeared at `path` after the check above.
  const int renamed = existing == IfExists::kReplace
                          ? ::rename(temp.path().c_str(), path.c_str())
                          : ::renameat2(AT_FDCWD, temp.path().c_str(), AT_FDCWD, path.c_str(), RENAME_NOREPLACE);
  if (renamed != 0)
    fail(errno == EEXIST ? "appeared while writing; not overwritten" : "cannot rename into place", path, errno);
  temp.keep();
  FileDescriptor dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir_fd.get() < 0 || ::fsync(dir_fd.get()) != 0) fail("cannot sync the folder " + dir, path, errno);
}

SecretKey load_secret_key(const std::string& path, const Context& ctx) {
  FileDescriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) fail("cannot open", path, errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) fail("cannot inspect", path, errno);
  const size_t expected = secret_key_bytes(ctx);
  if (!S_ISREG(st.st_mode) || static_cast<uint64_t>(st.st_size) != expected)
    fail("is not a secret key for these parameters (" + std::to_string(expected) + " bytes expected)", path, 0);
  SecretVector<char> bytes(expected);
  size_t done = 0;
  while (done < expected) {
    const ssize_t got = ::read(fd.get(), bytes.data() + done, expected - done);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) fail("cannot read", path, got < 0 ? errno : 0);
    done += static_cast<size_t>(got);
  }
  SecretSource source(bytes);
  std::istream in(&source);
  SecretKey key = load_secret_key(in, ctx);
  expect_end_of_input(in);
  return key;
}

}  // namespace cryptounet::ckks

// Crash-safe file replacement: write to a temporary name in the same directory, fsync, rename over the target, fsync
// the directory. A reader (or a restarted server) sees either the old file or the complete new one, never a torn
// write. Failures throw std::system_error carrying the errno (is_out_of_space tells a full disk from other faults).
#pragma once
#include <filesystem>
#include <memory>
#include <string_view>
#include <system_error>

namespace cryptounet::serve {

void write_file_atomically(const std::filesystem::path& target, std::string_view contents);
// Publishes an already written (and closed) file under its final name: fsync it, rename, fsync the directory.
void publish_file(const std::filesystem::path& written, const std::filesystem::path& target);

// ENOSPC or EDQUOT: the disk (or the user's quota on it) is full.
bool is_out_of_space(const std::error_code& error);

// The durable writes of the job store, behind an interface so that tests can make the disk fail (ENOSPC, EIO) at a
// chosen write. The default writes through the functions above.
class DurableFiles {
 public:
  virtual ~DurableFiles() = default;
  virtual void write_atomically(const std::filesystem::path& target, std::string_view contents) const {
    write_file_atomically(target, contents);
  }
  virtual void publish(const std::filesystem::path& written, const std::filesystem::path& target) const {
    publish_file(written, target);
  }
};
std::shared_ptr<const DurableFiles> disk_files();

}  // namespace cryptounet::serve

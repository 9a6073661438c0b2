#include "serve/disk_budget.h"

#include <sys/stat.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <set>
#include <string>
#include <utility>

#include "serve/api_error.h"

namespace cryptounet::serve {
namespace {

// A growing upload reserves at least this much more at a time.
constexpr std::uint64_t kGrowthStep = std::uint64_t{64} << 20;

std::string mib(std::uint64_t bytes) { return std::to_string(bytes >> 20) + " MiB"; }

}  // namespace

DiskBudget::DiskBudget(std::filesystem::path dir, std::uint64_t reserve_bytes, std::uint64_t quota_bytes)
    : dir_(std::move(dir)), reserve_bytes_(reserve_bytes), quota_bytes_(quota_bytes) {}

DiskBudget::Reservation::Reservation(Reservation&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}

DiskBudget::Reservation::~Reservation() {
  if (!budget_) return;
  std::lock_guard lock(budget_->mutex_);
  budget_->reserved_ -= bytes_;
}

bool DiskBudget::Reservation::grow_to(std::uint64_t bytes) {
  if (bytes <= bytes_) return true;
  std::lock_guard lock(budget_->mutex_);
  const std::uint64_t needed = bytes - bytes_;
  // A large step ahead, so that the disk is consulted rarely; near the limit, exactly what is needed.
  for (const std::uint64_t more : {std::max(needed, kGrowthStep), needed}) {
    if (budget_->fits_locked(more, nullptr)) {
      budget_->reserved_ += more;
      bytes_ += more;
      return true;
    }
  }
  return false;
}

DiskBudget::Reservation DiskBudget::reserve(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  std::string why;
  if (!fits_locked(bytes, &why)) throw ApiError(507, "insufficient_storage", why + "; retry later");
  reserved_ += bytes;
  return Reservation(*this, bytes);
}

std::uint64_t DiskBudget::used_bytes() const {
  std::uint64_t total = 0;
  std::set<std::pair<dev_t, ino_t>> linked;
  std::error_code error;
  for (std::filesystem::recursive_directory_iterator it(dir_, error), end; !error && it != end; it.increment(error)) {
    struct stat st {};
    if (::lstat(it->path().c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (st.st_nlink > 1 && !linked.emplace(st.st_dev, st.st_ino).second) continue;  // counted under another name
    total += static_cast<std::uint64_t>(st.st_size);
  }
  return total;
}

bool DiskBudget::fits_locked(std::uint64_t more, std::string* why) const {
  const std::uint64_t wanted = reserved_ + more;
  if (reserve_bytes_ > 0) {
    struct statvfs fs {};
    // A file system that cannot be queried is treated as full: refusing an upload is safer than a full disk.
    const std::uint64_t free = ::statvfs(dir_.c_str(), &fs) == 0
                                   ? static_cast<std::uint64_t>(fs.f_bavail) * static_cast<std::uint64_t>(fs.f_frsize)
                                   : 0;
    if (free < reserve_bytes_ || free - reserve_bytes_ < wanted) {
      if (why)
        *why = "the server's disk is too full for this upload (" + mib(free) + " free, " + mib(reserve_bytes_) +
               " kept in reserve)";
      return false;
    }
  }
  if (quota_bytes_ > 0) {
    const std::uint64_t used = used_bytes();
    if (used > quota_bytes_ || quota_bytes_ - used < wanted) {
      if (why) *why = "the upload would exceed the server's storage quota of " + mib(quota_bytes_);
      return false;
    }
  }
  return true;
}

}  // namespace cryptounet::serve

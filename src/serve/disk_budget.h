// The data directory's share of the disk. An upload is admitted only if, once stored, the file system keeps
// `reserve_bytes` free (statvfs: room for results, job states and the system) and the data directory stays within
// `quota_bytes`. Uploads in flight hold a reservation, so concurrent uploads cannot together overrun the budget.
// An upload whose length is declared is judged before its first byte is read.
#pragma once
#include <cstdint>
#include <filesystem>
#include <mutex>

namespace cryptounet::serve {

class DiskBudget {
 public:
  // quota_bytes 0: no quota (only the free-space reserve applies).
  DiskBudget(std::filesystem::path dir, std::uint64_t reserve_bytes, std::uint64_t quota_bytes);
  DiskBudget(const DiskBudget&) = delete;
  DiskBudget& operator=(const DiskBudget&) = delete;

  // Bytes held for one upload while it arrives; given back when destroyed (the stored file then counts itself).
  class Reservation {
   public:
    Reservation(Reservation&& other) noexcept;
    Reservation& operator=(Reservation&&) = delete;
    ~Reservation();
    // Makes room for `bytes` in all (an upload that arrives longer than declared, or declared no length); false
    // when they do not fit. Grows in large steps, so the disk is consulted rarely.
    bool grow_to(std::uint64_t bytes);
    std::uint64_t bytes() const { return bytes_; }

   private:
    friend class DiskBudget;
    Reservation(DiskBudget& budget, std::uint64_t bytes) : budget_(&budget), bytes_(bytes) {}
    DiskBudget* budget_;
    std::uint64_t bytes_;
  };
  // Throws ApiError 507 (insufficient_storage) when `bytes` more would not fit.
  Reservation reserve(std::uint64_t bytes);

  // Bytes of the files under the directory (each hard-linked file once).
  std::uint64_t used_bytes() const;

 private:
  // Whether `more` bytes beyond those reserved fit; the message says why not. Holds mutex_.
  bool fits_locked(std::uint64_t more, std::string* why) const;

  std::filesystem::path dir_;
  std::uint64_t reserve_bytes_;
  std::uint64_t quota_bytes_;
  std::mutex mutex_;
  std::uint64_t reserved_ = 0;  // by uploads in flight
};

}  // namespace cryptounet::serve

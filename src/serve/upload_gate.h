// Judges an upload while its body arrives, so that a bad one is refused before the rest is read or stored: the disk
// budget for its size (ApiError 507, before the first byte when the length is declared) and the backend's check of
// its header (UploadRejected as soon as the first bytes show a mismatch).
#pragma once
#include <cstdint>
#include <exception>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "serve/backend.h"
#include "serve/disk_budget.h"

namespace cryptounet::serve {

class UploadGate {
 public:
  using HeaderCheck = std::function<HeaderVerdict(std::string_view head)>;
  // Throws ApiError 507 when the declared length does not fit the disk budget.
  UploadGate(DiskBudget& disk, HeaderCheck check_header, std::optional<std::uint64_t> declared_length);

  // Called with each chunk before it is stored: true to store it. Once the upload is refused, chunks are neither
  // judged nor stored, only read and dropped up to kDrainBytes (a client that sends its whole file before reading
  // the answer then reads the refusal rather than a reset connection); beyond that `read_on` turns false: stop
  // reading. finish() throws the reason.
  bool admit(std::string_view chunk, bool& read_on) noexcept;
  static constexpr std::uint64_t kDrainBytes = std::uint64_t{16} << 20;
  // After the body ended (or admit() stopped it): throws why the upload was stopped, or UploadRejected when the
  // body ended before its header did.
  void finish() const;

 private:
  DiskBudget::Reservation reservation_;
  HeaderCheck check_header_;
  std::string head_;  // the first bytes, until the header is accepted
  bool header_accepted_ = false;
  std::uint64_t received_ = 0;
  std::exception_ptr refusal_;
  std::uint64_t drained_ = 0;  // bytes read after the refusal
};

}  // namespace cryptounet::serve

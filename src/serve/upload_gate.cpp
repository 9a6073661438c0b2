#include "serve/upload_gate.h"

#include <algorithm>
#include <utility>

#include "serve/api_error.h"

namespace cryptounet::serve {

UploadGate::UploadGate(DiskBudget& disk, HeaderCheck check_header, std::optional<std::uint64_t> declared_length)
    : reservation_(disk.reserve(declared_length.value_or(0))), check_header_(std::move(check_header)) {}

bool UploadGate::admit(std::string_view chunk, bool& read_on) noexcept {
  if (refusal_) {
    drained_ += chunk.size();
    read_on = drained_ <= kDrainBytes;
    return false;
  }
  read_on = true;
  try {
    received_ += chunk.size();
    if (!reservation_.grow_to(received_))
      throw ApiError(507, "insufficient_storage", "the server's disk has no room for this upload; retry later");
    if (!header_accepted_) {
      head_.append(chunk.substr(0, kMaxHeaderBytes - std::min(kMaxHeaderBytes, head_.size())));
      header_accepted_ = check_header_(head_) == HeaderVerdict::Accepted;
      if (!header_accepted_ && head_.size() >= kMaxHeaderBytes)
        throw UploadRejected(RejectReason::Malformed,
                             "the header is longer than " + std::to_string(kMaxHeaderBytes) + " bytes");
      if (header_accepted_) std::string().swap(head_);
    }
    return true;
  } catch (...) {
    refusal_ = std::current_exception();
    return false;
  }
}

void UploadGate::finish() const {
  if (refusal_) std::rethrow_exception(refusal_);
  if (!header_accepted_ && received_ > 0)
    throw UploadRejected(RejectReason::Malformed, "the upload ends inside its header");
}

}  // namespace cryptounet::serve

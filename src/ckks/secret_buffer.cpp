#include "ckks/secret_buffer.h"

#include <sodium.h>

namespace cryptounet::ckks {

void wipe(void* data, size_t bytes) noexcept { sodium_memzero(data, bytes); }

}  // namespace cryptounet::ckks

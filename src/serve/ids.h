// Key and job identifiers: 128 random bits (libsodium CSPRNG) as 32 lowercase hex digits. An id is the only
// credential for a key or a job, so it must be unguessable; ids from clients are checked before any use in a path.
#pragma once
#include <string>
#include <string_view>

namespace cryptounet::serve {

std::string random_id();
bool is_valid_id(std::string_view id);

}  // namespace cryptounet::serve

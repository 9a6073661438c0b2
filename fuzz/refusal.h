// The contract every parser fuzz target checks: malformed input is refused with an exception. A crash, a leak,
// undefined behaviour, running out of memory (std::bad_alloc, or one allocation over -malloc_limit_mb) or a unit
// slower than -timeout is a finding: a parser must bound what it allocates and does by the bytes it was given.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>

namespace cryptounet::fuzz {

template <class Parse>
void expect_parse_or_refusal(Parse&& parse) {
  try {
    parse();
  } catch (const std::bad_alloc&) {
    std::fputs("finding: std::bad_alloc escaped a parser (an allocation sized from untrusted input)\n", stderr);
    std::abort();
  } catch (const std::exception&) {
  }
}

}  // namespace cryptounet::fuzz

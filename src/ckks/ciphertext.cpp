#include "ckks/ciphertext.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cryptounet::ckks {

void Ciphertext::drop_to_level(int level) {
  if (level < 0 || level > level_)
    throw std::invalid_argument("drop_to_level: target level " + std::to_string(level) + " not in [0, " +
                                std::to_string(level_) + "]");
  if (level == level_) return;
  const size_t new_limbs = static_cast<size_t>(level) + 1, old_limbs = limb_count();
  // Poly 1 moves down to follow the shortened poly 0.
  std::copy(data_.begin() + old_limbs * n_, data_.begin() + (old_limbs + new_limbs) * n_,
            data_.begin() + new_limbs * n_);
  data_.resize(2 * new_limbs * n_);
  data_.shrink_to_fit();
  level_ = level;
  seed_.reset();
}

}  // namespace cryptounet::ckks

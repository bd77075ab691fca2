// Internals of the CIFAR-10 reader shared by the downloader (not part of the public API).
#pragma once

#include <cstdint>
#include <string>

#include "pocket/data.hpp"

namespace pocket::detail {

// load_cifar10 with the per-file record count as a parameter: `expected_records` > 0 demands
// exactly that many records per file (the official files hold 10000), 0 accepts any whole number
// of records (small test datasets).
Result<Dataset> load_cifar10_records(const std::string& dir, Split split, int64_t expected_records);

}  // namespace pocket::detail

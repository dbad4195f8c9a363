#pragma once
// Digests shared by modules (config digests, HTTP body checks).

#include <string>
#include <string_view>

namespace lvsd {

// Lower-case hex SHA-256 of `data` (64 characters).
std::string sha256Hex(std::string_view data);

}  // namespace lvsd

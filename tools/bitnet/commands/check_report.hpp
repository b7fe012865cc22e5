// How the checking commands (compat-check, verify) print their verdicts: one PASS/WARN/FAIL line
// per check and a summary, or one JSON object.
#pragma once

#include <bitnet/runtime/model/compat_check.hpp>

#include <string>
#include <vector>

namespace bitnet::cli {

// Prints the checks of `file`; returns the exit code: 1 when any check failed, else 0.
int report_checks(const std::string& file, const std::vector<model::Check>& checks, bool as_json);

}  // namespace bitnet::cli
